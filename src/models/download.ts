// One file over HTTP(S), resumable and verified: bytes go to `<dest>.part`, with a small JSON sidecar
// (`<dest>.part.json`: URL, validator, size) so a cut connection, a cancel or a restart of VS Code
// resumes from the last byte on disk with a Range request. The server's answer decides: 206 from
// the right byte appends; 200 (Range ignored, or If-Range saw the file change) starts from zero and
// the log says so. The sha256 is checked before `<dest>` appears; a mismatch deletes the bytes.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DownloadAbortedError, DownloadChecksumError, DownloadHttpError, DownloadNetworkError, DownloadSizeError, formatBytes, InsufficientDiskSpaceError } from './errors';
import { getFollowingRedirects } from './http';

export interface DownloadProgress {
  /** Bytes of the file on disk, resumed ones included. */
  receivedBytes: number;
  /** From the catalog, the hub, or the server's headers; undefined until one of them said. */
  totalBytes: number | undefined;
  /** Over the last few seconds of this attempt (resumed bytes do not count). */
  bytesPerSecond: number;
  secondsLeft: number | undefined;
}

export interface DownloadRequest {
  url: string;
  /** The verified file; nothing is at this path until the whole file matched `sha256`. */
  dest: string;
  /** Lowercase hex. This or gitBlobSha1 is required: a model file is never used unverified. */
  sha256?: string;
  /** For a small file a hub keeps in git rather than LFS (config.json, tokenizer.json), whose only
   *  published digest is git's blob id: sha1 of `blob <bytes>\0` and the content. Needs `bytes`. */
  gitBlobSha1?: string;
  bytes?: number;
  /** Free disk needed besides the rest of this file (e.g. the imported model), checked before any request. */
  reserveBytes?: number;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** What was fetched from where, every redirect, every restart: privacy and support both need it. */
  log?: (message: string) => void;
  /** Hubs redirect a file to a CDN, once or twice. */
  maxRedirects?: number;
  /** Free bytes in a directory; fs.statfs unless a test says otherwise. */
  freeBytes?: (dir: string) => Promise<number>;
}

export interface DownloadResult {
  file: string;
  bytes: number;
  /** Bytes already on disk that this call did not fetch again. */
  resumedFromBytes: number;
  /** True when a partial file had to be thrown away (server without Range, file changed). */
  restartedFromZero: boolean;
}

interface Sidecar {
  url: string;
  sha256: string;
  etag?: string;
  lastModified?: string;
  totalBytes?: number;
}

const PROGRESS_INTERVAL_MS = 250;
const RATE_WINDOW_MS = 5000;

export async function freeBytesOf(dir: string): Promise<number> {
  const s = await fs.statfs(dir);
  return s.bavail * s.bsize;
}

export async function downloadFile(req: DownloadRequest): Promise<DownloadResult> {
  const log = req.log ?? (() => undefined);
  const part = `${req.dest}.part`;
  const sidecarFile = `${req.dest}.part.json`;
  const expected = expectedDigest(req);
  const sha256 = expected.key;
  await fs.mkdir(path.dirname(req.dest), { recursive: true });
  const existing = await fs.stat(req.dest).catch(() => undefined);
  if (existing?.isFile() && (req.bytes === undefined || existing.size === req.bytes)) {
    return { file: req.dest, bytes: existing.size, resumedFromBytes: existing.size, restartedFromZero: false };
  }

  let sidecar = await readSidecar(sidecarFile);
  let offset = (await fs.stat(part).catch(() => undefined))?.size ?? 0;
  if (offset > 0 && (sidecar?.url !== req.url || sidecar.sha256 !== sha256)) {
    log(`${part}: left by a download of another file; starting from zero`);
    offset = 0;
  }
  if (offset === 0) {
    await fs.rm(part, { force: true });
    sidecar = { url: req.url, sha256 };
  }
  const knownTotal = req.bytes ?? sidecar?.totalBytes;
  await checkDisk(path.dirname(req.dest), (knownTotal !== undefined ? knownTotal - offset : 0) + (req.reserveBytes ?? 0), req.freeBytes);

  let restartedFromZero = false;
  const resumedFromBytes = offset;
  for (let attempt = 0; ; attempt++) {
    const outcome = await fetchInto(req, part, offset, sidecar!, log, sidecarFile, expected.newHash);
    if (outcome.kind === 'restart') {
      if (attempt > 0) throw new DownloadNetworkError(req.url, `the server refused to send the file from byte 0 (${outcome.why})`);
      log(`${req.url}: ${outcome.why}; restarting from zero (${formatBytes(offset)} downloaded before are discarded)`);
      restartedFromZero = true;
      offset = 0;
      await fs.rm(part, { force: true });
      sidecar = { url: req.url, sha256 };
      continue;
    }
    const actual = outcome.hash.digest('hex');
    if (req.bytes !== undefined && outcome.bytes !== req.bytes) {
      await discard(part, sidecarFile);
      throw new DownloadSizeError(req.url, req.bytes, outcome.bytes);
    }
    if (actual !== expected.hex) {
      await discard(part, sidecarFile);
      throw new DownloadChecksumError(req.url, expected.hex, actual, expected.what);
    }
    await fs.rename(part, req.dest);
    await fs.rm(sidecarFile, { force: true });
    log(`${req.url}: ${formatBytes(outcome.bytes)} verified (${expected.what} ${expected.hex.slice(0, 12)}…)${resumedFromBytes > 0 && !restartedFromZero ? `, resumed from byte ${resumedFromBytes}` : ''}`);
    return { file: req.dest, bytes: outcome.bytes, resumedFromBytes: restartedFromZero ? 0 : resumedFromBytes, restartedFromZero };
  }
}

type Outcome = { kind: 'done'; bytes: number; hash: Hash } | { kind: 'restart'; why: string };

/** One request from `offset`: appends to `part`, or says why it must start from zero. */
async function fetchInto(req: DownloadRequest, part: string, offset: number, sidecar: Sidecar, log: (m: string) => void, sidecarFile: string, newHash: () => Hash): Promise<Outcome> {
  const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'Flashcode model manager' };
  if (offset > 0) {
    headers.range = `bytes=${offset}-`;
    // If-Range: the server sends the whole file (200) rather than a range of a changed one.
    const validator = sidecar.etag && !sidecar.etag.startsWith('W/') ? sidecar.etag : sidecar.lastModified;
    if (validator) headers['if-range'] = validator;
  }
  const response = await getFollowingRedirects(req.url, headers, { signal: req.signal, maxRedirects: req.maxRedirects, log }).catch((e: unknown) => { throw asDownloadError(e, req); });
  let start = 0;
  let total: number | undefined;
  if (response.status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
    const etag = response.headers.get('etag') ?? undefined;
    if (!range || Number(range[1]) !== offset) return cancelled(response, `the server sent a different range (${response.headers.get('content-range')}) than asked (from byte ${offset})`);
    if (sidecar.etag && etag && etag !== sidecar.etag) return cancelled(response, 'the file changed on the server since the download started');
    start = offset;
    total = range[3] === '*' ? undefined : Number(range[3]);
    if (sidecar.totalBytes !== undefined && total !== undefined && total !== sidecar.totalBytes) return cancelled(response, 'the file changed size on the server since the download started');
  } else if (response.status === 200) {
    if (offset > 0) {
      await response.body?.cancel().catch(() => undefined);
      return { kind: 'restart', why: 'the server ignored the Range request (no resume support) or the file changed' };
    }
    const length = response.headers.get('content-length');
    total = length !== null ? Number(length) : undefined;
  } else if (response.status === 416 && offset > 0) {
    return cancelled(response, 'the server cannot send from the byte the partial file ends at');
  } else {
    await response.body?.cancel().catch(() => undefined);
    throw new DownloadHttpError(req.url, response.status);
  }
  if (req.bytes !== undefined && total !== undefined && total !== req.bytes) {
    await response.body?.cancel().catch(() => undefined);
    await discard(part, sidecarFile);
    throw new DownloadSizeError(req.url, req.bytes, total);
  }
  if (start === 0 && total !== undefined) await checkDisk(path.dirname(part), total + (req.reserveBytes ?? 0), req.freeBytes);
  const etag = response.headers.get('etag') ?? undefined;
  const lastModified = response.headers.get('last-modified') ?? undefined;
  await fs.writeFile(sidecarFile, JSON.stringify({ ...sidecar, etag: etag ?? sidecar.etag, lastModified: lastModified ?? sidecar.lastModified, totalBytes: total ?? req.bytes } satisfies Sidecar));
  log(`GET ${req.url}: HTTP ${response.status}${start > 0 ? `, resuming at byte ${start}` : ''}${total !== undefined ? ` of ${formatBytes(total)}` : ''}`);

  const hash = newHash();
  if (start > 0) await hashFile(part, hash, start);
  const file = await fs.open(part, start > 0 ? 'a' : 'w');
  let received = start;
  const rate = new RateMeter();
  const totalBytes = total ?? req.bytes;
  let lastReportMs = 0;
  const report = (force: boolean) => {
    const now = performance.now();
    if (!force && now - lastReportMs < PROGRESS_INTERVAL_MS) return;
    lastReportMs = now;
    const bytesPerSecond = rate.perSecond(now);
    const secondsLeft = totalBytes !== undefined && bytesPerSecond > 0 ? (totalBytes - received) / bytesPerSecond : undefined;
    req.onProgress?.({ receivedBytes: received, totalBytes, bytesPerSecond, secondsLeft });
  };
  try {
    report(true);
    if (!response.body) throw new DownloadNetworkError(req.url, 'the response had no body');
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      await file.write(chunk);
      hash.update(chunk);
      received += chunk.byteLength;
      rate.add(performance.now(), chunk.byteLength);
      report(false);
    }
    report(true);
  } catch (e) {
    throw asDownloadError(e, req);
  } finally {
    await file.close();
  }
  if (total !== undefined && received !== total) throw new DownloadNetworkError(req.url, `the connection closed after ${received} of ${total} bytes`);
  return { kind: 'done', bytes: received, hash };
}

interface Expected {
  /** What the sidecar records, so a partial file of another version is not resumed. */
  key: string;
  hex: string;
  what: string;
  newHash: () => Hash;
}

function expectedDigest(req: DownloadRequest): Expected {
  if (req.sha256) {
    const hex = req.sha256.toLowerCase();
    return { key: hex, hex, what: 'sha256', newHash: () => createHash('sha256') };
  }
  if (req.gitBlobSha1 && req.bytes !== undefined) {
    const hex = req.gitBlobSha1.toLowerCase();
    const bytes = req.bytes;
    return { key: `git:${hex}`, hex, what: 'git blob sha1', newHash: () => createHash('sha1').update(`blob ${bytes}\0`) };
  }
  throw new TypeError(`downloadFile(${req.url}): a sha256, or a git blob sha1 with the size, is required`);
}

async function cancelled(response: Response, why: string): Promise<Outcome> {
  await response.body?.cancel().catch(() => undefined);
  return { kind: 'restart', why };
}

function asDownloadError(e: unknown, req: DownloadRequest): Error {
  if (req.signal?.aborted) return new DownloadAbortedError();
  if (e instanceof Error && e.name.startsWith('Download')) return e;
  const cause = e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
  return new DownloadNetworkError(req.url, cause);
}

async function checkDisk(dir: string, neededBytes: number, freeBytes = freeBytesOf): Promise<void> {
  const free = await freeBytes(dir);
  if (free < neededBytes) throw new InsufficientDiskSpaceError(dir, neededBytes, free);
}

async function hashFile(file: string, hash: Hash, bytes: number): Promise<void> {
  if (bytes === 0) return;
  for await (const chunk of createReadStream(file, { start: 0, end: bytes - 1, highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
}

async function readSidecar(file: string): Promise<Sidecar | undefined> {
  try {
    const v = JSON.parse(await fs.readFile(file, 'utf8')) as Sidecar;
    return typeof v?.url === 'string' && typeof v.sha256 === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

async function discard(part: string, sidecarFile: string): Promise<void> {
  await fs.rm(part, { force: true });
  await fs.rm(sidecarFile, { force: true });
}

/** Bytes per second over the last RATE_WINDOW_MS. */
class RateMeter {
  private readonly samples: { atMs: number; bytes: number }[] = [];
  private startMs: number | undefined;

  add(atMs: number, bytes: number): void {
    this.startMs ??= atMs;
    this.samples.push({ atMs, bytes });
    while (this.samples.length > 1 && atMs - this.samples[0].atMs > RATE_WINDOW_MS) this.samples.shift();
  }

  perSecond(nowMs: number): number {
    if (this.samples.length === 0 || this.startMs === undefined) return 0;
    const since = Math.max(this.samples[0].atMs, this.startMs);
    const spanMs = Math.max(nowMs - since, 50);
    return this.samples.reduce((s, x) => s + x.bytes, 0) / (spanMs / 1000);
  }
}
