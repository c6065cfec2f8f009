// downloadFile against a real HTTP server on loopback: errors, redirects, resume after a cut,
// servers without Range, checksum, cancel, disk check, and coalesced concurrent requests.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { downloadFile, type DownloadProgress } from '../../src/models/download';
import { SharedTasks } from '../../src/models/sharedTasks';
import { FileServer, randomBody } from '../helpers/fileServer';
import { tempDir } from '../helpers/importFixtures';
import { tinyModel, writeGguf } from '../helpers/ggufWriter';

const MiB = 1024 * 1024;

describe('model download (loopback HTTP server)', () => {
  let server: FileServer;
  let dir: string;
  const logs: string[] = [];
  const log = (m: string) => logs.push(m);

  beforeEach(async () => {
    server = await FileServer.start();
    dir = tempDir();
    logs.length = 0;
  });
  afterEach(() => server.close());

  const leftovers = () => fs.readdirSync(dir);

  it('downloads a GGUF, verifies its sha256 and only then shows it under its name', async () => {
    const m = tinyModel('llama');
    const file = server.serve('tiny.gguf', writeGguf(m.meta, m.tensors));
    const dest = path.join(dir, 'tiny.gguf');
    const progress: DownloadProgress[] = [];
    const result = await downloadFile({ url: file.url, dest, sha256: file.sha256, bytes: file.bytes, log, onProgress: (p) => progress.push(p) });
    assert.equal(result.bytes, file.bytes);
    assert.deepEqual(fs.readFileSync(dest), server.files.get('tiny.gguf')!.body);
    assert.deepEqual(leftovers(), ['tiny.gguf']);
    assert.equal(progress.at(-1)?.receivedBytes, file.bytes);
    assert.equal(progress.at(-1)?.totalBytes, file.bytes);
    assert.ok(logs.some((l) => l.includes(file.url) && l.includes('HTTP 200')), logs.join('\n'));
  });

  it('404: a named error naming the URL and what to check; nothing left on disk', async () => {
    const dest = path.join(dir, 'x.gguf');
    await assert.rejects(downloadFile({ url: `${server.origin}/files/absent.gguf`, dest, sha256: '0'.repeat(64) }),
      (e: Error) => e.name === 'DownloadHttpError' && /HTTP 404/.test(e.message) && /hubUrl/.test(e.message));
    assert.deepEqual(leftovers(), []);
  });

  it('500: a named error that says to try again later', async () => {
    await assert.rejects(downloadFile({ url: `${server.origin}/status/500`, dest: path.join(dir, 'x'), sha256: '0'.repeat(64) }),
      (e: Error) => e.name === 'DownloadHttpError' && /HTTP 500/.test(e.message) && /try again later/.test(e.message));
  });

  it('follows a redirect (logged), refuses one to plain http elsewhere, and stops after too many', async () => {
    const file = server.serve('a.bin', randomBody(100_000));
    server.routes.set('/hop', (_req, res) => res.writeHead(302, { location: '/files/a.bin' }).end());
    server.routes.set('/away', (_req, res) => res.writeHead(302, { location: 'http://127.0.0.2:9/files/a.bin' }).end());
    server.routes.set('/loop', (_req, res) => res.writeHead(307, { location: '/loop' }).end());
    await downloadFile({ url: `${server.origin}/hop`, dest: path.join(dir, 'a.bin'), sha256: file.sha256, log });
    assert.ok(logs.some((l) => l.startsWith('redirected:') && l.includes('/files/a.bin')), logs.join('\n'));
    await assert.rejects(downloadFile({ url: `${server.origin}/away`, dest: path.join(dir, 'b.bin'), sha256: file.sha256 }),
      (e: Error) => e.name === 'DownloadRedirectError' && /neither https nor the origin/.test(e.message));
    await assert.rejects(downloadFile({ url: `${server.origin}/loop`, dest: path.join(dir, 'c.bin'), sha256: file.sha256, maxRedirects: 3 }),
      (e: Error) => e.name === 'DownloadRedirectError' && /more than 3 redirects/.test(e.message));
    assert.deepEqual(leftovers(), ['a.bin']);
  });

  it('a connection cut midway is resumed from the byte on disk: nothing already on disk is fetched again', async () => {
    const file = server.serve('big.bin', randomBody(3 * MiB));
    const dest = path.join(dir, 'big.bin');
    server.behaviour = { cutOnceAfterBytes: Math.floor(1.3 * MiB) };
    await assert.rejects(downloadFile({ url: file.url, dest, sha256: file.sha256, bytes: file.bytes }),
      (e: Error) => e.name === 'DownloadNetworkError' && /kept and resumed/.test(e.message));
    const onDisk = fs.statSync(`${dest}.part`).size;
    assert.ok(onDisk > 0 && onDisk <= 1.3 * MiB, `partial file: ${onDisk} bytes`);
    assert.ok(fs.existsSync(`${dest}.part.json`), 'the sidecar stays for the resume');
    const result = await downloadFile({ url: file.url, dest, sha256: file.sha256, bytes: file.bytes, log });
    assert.equal(server.requests.at(-1)?.range, `bytes=${onDisk}-`);
    assert.equal(server.requests.at(-1)?.ifRange, server.files.get('big.bin')!.etag);
    assert.equal(server.requests.at(-1)?.status, 206);
    assert.equal(result.resumedFromBytes, onDisk);
    assert.equal(result.restartedFromZero, false);
    const refetched = server.sentBytes() - file.bytes;
    assert.ok(refetched <= MiB, `re-downloaded ${refetched} bytes already on disk (target ≤ 1 MiB)`);
    assert.deepEqual(fs.readFileSync(dest), server.files.get('big.bin')!.body);
    assert.deepEqual(leftovers(), ['big.bin']);
  });

  it('a server without Range support: restarts from zero, says so in the log, and the file is right', async () => {
    const file = server.serve('big.bin', randomBody(2 * MiB, 7));
    const dest = path.join(dir, 'big.bin');
    server.behaviour = { cutOnceAfterBytes: MiB };
    await assert.rejects(downloadFile({ url: file.url, dest, sha256: file.sha256 }));
    server.behaviour = { ignoreRange: true };
    const result = await downloadFile({ url: file.url, dest, sha256: file.sha256, log });
    assert.equal(result.restartedFromZero, true);
    assert.equal(result.resumedFromBytes, 0);
    assert.ok(logs.some((l) => /ignored the Range request/.test(l) && /restarting from zero/.test(l)), logs.join('\n'));
    assert.deepEqual(fs.readFileSync(dest), server.files.get('big.bin')!.body);
  });

  it('a file that changed on the server since the cut (If-Range mismatch) is fetched again from zero', async () => {
    const old = server.serve('m.bin', randomBody(MiB, 3));
    const dest = path.join(dir, 'm.bin');
    server.behaviour = { cutOnceAfterBytes: 300_000 };
    await assert.rejects(downloadFile({ url: old.url, dest, sha256: old.sha256 }));
    const changed = server.serve('m.bin', randomBody(MiB, 4));
    // The catalog moved on with the file: a new sha256 for the same URL discards the old partial.
    const result = await downloadFile({ url: changed.url, dest, sha256: changed.sha256, log });
    assert.equal(result.resumedFromBytes, 0);
    assert.deepEqual(fs.readFileSync(dest), server.files.get('m.bin')!.body);
    // Same sha256 expected but the server's validator changed: If-Range makes it send 200.
    const dest2 = path.join(dir, 'n.bin');
    const first = server.serve('n.bin', randomBody(MiB, 5));
    server.behaviour = { cutOnceAfterBytes: 300_000 };
    await assert.rejects(downloadFile({ url: first.url, dest: dest2, sha256: first.sha256 }));
    server.files.get('n.bin')!.etag = '"another"';
    const again = await downloadFile({ url: first.url, dest: dest2, sha256: first.sha256, log });
    assert.equal(again.restartedFromZero, true);
    assert.deepEqual(fs.readFileSync(dest2), server.files.get('n.bin')!.body);
  });

  it('a wrong checksum deletes what was downloaded and says so', async () => {
    const file = server.serve('w.bin', randomBody(200_000));
    const dest = path.join(dir, 'w.bin');
    await assert.rejects(downloadFile({ url: file.url, dest, sha256: 'ab'.repeat(32) }),
      (e: Error) => e.name === 'DownloadChecksumError' && e.message.includes(file.sha256) && /deleted/.test(e.message));
    assert.deepEqual(leftovers(), []);
  });

  it('a small file kept in git is verified by its git blob sha1 (all the hub publishes for it)', async () => {
    const body = Buffer.from('{"architectures":["LlamaForCausalLM"]}\n');
    const file = server.serve('config.json', body);
    const gitBlobSha1 = crypto.createHash('sha1').update(`blob ${body.length}\0`).update(body).digest('hex');
    await downloadFile({ url: file.url, dest: path.join(dir, 'config.json'), gitBlobSha1, bytes: body.length });
    assert.deepEqual(fs.readFileSync(path.join(dir, 'config.json')), body);
    await assert.rejects(downloadFile({ url: file.url, dest: path.join(dir, 'other.json'), gitBlobSha1: '1'.repeat(40), bytes: body.length }),
      (e: Error) => e.name === 'DownloadChecksumError' && /git blob sha1/.test(e.message));
    assert.deepEqual(leftovers(), ['config.json']);
  });

  it('cancel mid-download: an AbortError, no file under its name, the partial kept for a resume', async () => {
    const file = server.serve('c.bin', randomBody(2 * MiB));
    const dest = path.join(dir, 'c.bin');
    server.behaviour = { stallAfterBytes: 500_000, chunkBytes: 16_384 };
    const abort = new AbortController();
    const done = downloadFile({ url: file.url, dest, sha256: file.sha256, signal: abort.signal });
    while ((fs.statSync(`${dest}.part`, { throwIfNoEntry: false })?.size ?? 0) < 400_000) await new Promise((r) => setTimeout(r, 20));
    abort.abort();
    await assert.rejects(done, (e: Error) => e.name === 'AbortError' && /resumed/.test(e.message));
    assert.equal(fs.existsSync(dest), false);
    assert.ok(fs.statSync(`${dest}.part`).size > 0);
    server.behaviour = {};
    const result = await downloadFile({ url: file.url, dest, sha256: file.sha256 });
    assert.ok(result.resumedFromBytes > 0);
    assert.deepEqual(fs.readFileSync(dest), server.files.get('c.bin')!.body);
  });

  it('too little free disk: refused before any request, naming how much is missing', async () => {
    const file = server.serve('d.bin', randomBody(100_000));
    await assert.rejects(downloadFile({ url: file.url, dest: path.join(dir, 'd.bin'), sha256: file.sha256, bytes: file.bytes, reserveBytes: 2 ** 60 }),
      (e: Error) => e.name === 'InsufficientDiskSpaceError' && /free up/.test(e.message));
    await assert.rejects(downloadFile({ url: file.url, dest: path.join(dir, 'd.bin'), sha256: file.sha256, bytes: file.bytes, freeBytes: async () => 50_000 }),
      (e: Error) => e.name === 'InsufficientDiskSpaceError');
    assert.equal(server.requests.length, 0);
    // Size unknown until the headers: checked then, before the body is written.
    await assert.rejects(downloadFile({ url: file.url, dest: path.join(dir, 'd.bin'), sha256: file.sha256, freeBytes: async () => 50_000 }),
      (e: Error) => e.name === 'InsufficientDiskSpaceError');
    assert.deepEqual(leftovers().filter((f) => !f.endsWith('.json')), []);
  });

  it('two concurrent requests for the same file share one download; one cancelling leaves the other going', async () => {
    const file = server.serve('s.bin', randomBody(MiB));
    const dest = path.join(dir, 's.bin');
    const shared = new SharedTasks<number, DownloadProgress>();
    const work = ({ signal, progress }: { signal: AbortSignal; progress: (p: DownloadProgress) => void }) =>
      downloadFile({ url: file.url, dest, sha256: file.sha256, signal, onProgress: progress }).then((r) => r.bytes);
    server.behaviour = { chunkBytes: 16_384 };
    const first = new AbortController();
    const seen: number[] = [];
    const a = shared.run('s', work, first.signal);
    const b = shared.run('s', work, undefined, (p) => seen.push(p.receivedBytes));
    first.abort();
    await assert.rejects(a, (e: Error) => e.name === 'AbortError');
    assert.equal(await b, file.bytes);
    assert.equal(server.requests.length, 1);
    assert.equal(seen.at(-1), file.bytes);
    // Everyone cancelled: the download itself stops.
    fs.rmSync(dest);
    const c1 = new AbortController(), c2 = new AbortController();
    server.behaviour = { stallAfterBytes: 100_000 };
    let workSignal: AbortSignal | undefined;
    const p1 = shared.run('t', async (run) => { workSignal = run.signal; return work(run); }, c1.signal);
    const p2 = shared.run('t', work, c2.signal);
    c1.abort();
    assert.equal(workSignal?.aborted, false);
    c2.abort();
    assert.equal(workSignal?.aborted, true);
    await Promise.allSettled([p1, p2]);
    assert.equal(fs.existsSync(dest), false);
  });
});
