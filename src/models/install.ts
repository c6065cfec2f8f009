// Download → verify → import → install, for one model: the checkpoint's files go to downloads/<id>/
// (resumable), the importer writes models/<id>/ through a temporary directory it renames at the end,
// so a half model is never visible; the checkpoint is deleted once the import is in place.
// Concurrent requests for one model share the work: in this process through SharedTasks, across
// VS Code windows (one extension host each) through a lock file that the other window waits on.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ImportProgress, ImportSummary } from '../engine/import/importModel';
import { estimateImportedBytes } from './catalog';
import { downloadFile, freeBytesOf, type DownloadProgress } from './download';
import { DownloadAbortedError, formatBytes, HubListingError, InsufficientDiskSpaceError } from './errors';
import { isPlainRelativePath, type ResolvedFile } from './hub';
import { SharedTasks } from './sharedTasks';
import { describeModelDir, processRunning, type ModelStore, type ModelSummary } from './store';

export type InstallProgress =
  | { stage: 'waiting'; why: string }
  | { stage: 'download'; file: string; fileIndex: number; fileCount: number; progress: DownloadProgress }
  | { stage: 'import'; progress: ImportProgress };

/** Runs the importer (in a worker thread in the extension; in-process in tests). */
export type Importer = (input: string, outDir: string, signal: AbortSignal, onProgress: (p: ImportProgress) => void) => Promise<ImportSummary>;

export interface InstallRequest {
  id: string;
  files: ResolvedFile[];
  /** Measured size of the imported model, when the catalog knows it. */
  importedBytes?: number;
  signal?: AbortSignal;
  onProgress?: (p: InstallProgress) => void;
}

export interface InstallerOptions {
  store: ModelStore;
  importer: Importer;
  log?: (message: string) => void;
  freeBytes?: (dir: string) => Promise<number>;
  /** How often a window waiting on another's download looks again. */
  lockPollMs?: number;
}

export class ModelInstaller {
  private readonly shared = new SharedTasks<ModelSummary, InstallProgress>();

  constructor(private readonly options: InstallerOptions) {}

  /** Whether this process is installing `id` now. */
  installing(id: string): boolean {
    return this.shared.has(id);
  }

  install(req: InstallRequest): Promise<ModelSummary> {
    return this.shared.run(req.id, ({ signal, progress }) => this.run(req, signal, progress), req.signal, req.onProgress);
  }

  private async run(req: InstallRequest, signal: AbortSignal, progress: (p: InstallProgress) => void): Promise<ModelSummary> {
    const { store } = this.options;
    const log = this.options.log ?? (() => undefined);
    const outDir = store.modelDir(req.id);
    const installed = await describeModelDir(outDir).catch(() => undefined);
    if (installed) return installed;
    await fs.mkdir(store.downloadsDir, { recursive: true });
    const release = await acquireLock(path.join(store.downloadsDir, `${req.id}.lock`), signal, this.options.lockPollMs ?? 1000, (holder) => {
      log(`${req.id}: another VS Code window (process ${holder}) is downloading it; waiting for it to finish`);
      progress({ stage: 'waiting', why: 'another VS Code window is downloading this model' });
    });
    try {
      // The other window may have installed it while this one waited.
      const done = await describeModelDir(outDir).catch(() => undefined);
      if (done) return done;
      return await this.downloadAndImport(req, outDir, signal, progress, log);
    } finally {
      await release();
    }
  }

  private async downloadAndImport(req: InstallRequest, outDir: string, signal: AbortSignal, progress: (p: InstallProgress) => void, log: (m: string) => void): Promise<ModelSummary> {
    for (const f of req.files) if (!isPlainRelativePath(f.path)) throw new HubListingError(req.id, `${JSON.stringify(f.path)} is not a plain relative file path`);
    const downloadDir = path.join(this.options.store.downloadsDir, req.id);
    const importedBytes = req.importedBytes ?? estimateImportedBytes(req.files);
    const freeBytes = this.options.freeBytes ?? freeBytesOf;
    await fs.mkdir(downloadDir, { recursive: true });
    // Whole-job check before the first byte: every file still to fetch, and the import's output.
    let needed = importedBytes;
    for (const f of req.files) {
      const done = await fs.stat(path.join(downloadDir, f.path)).catch(() => undefined);
      const part = await fs.stat(path.join(downloadDir, `${f.path}.part`)).catch(() => undefined);
      needed += done ? 0 : Math.max(0, f.bytes - (part?.size ?? 0));
    }
    const free = await freeBytes(downloadDir);
    if (free < needed) throw new InsufficientDiskSpaceError(this.options.store.root, needed, free);

    for (const [i, f] of req.files.entries()) {
      if (signal.aborted) throw new DownloadAbortedError();
      log(`${req.id}: fetching ${f.path} (${formatBytes(f.bytes)}) from ${f.url}`);
      await downloadFile({
        url: f.url, dest: path.join(downloadDir, f.path), sha256: f.sha256, gitBlobSha1: f.gitBlobSha1, bytes: f.bytes,
        reserveBytes: importedBytes + req.files.slice(i + 1).reduce((s, g) => s + g.bytes, 0),
        signal, log, freeBytes,
        onProgress: (p) => progress({ stage: 'download', file: f.path, fileIndex: i, fileCount: req.files.length, progress: p }),
      });
    }
    const gguf = req.files.length === 1 && req.files[0].path.toLowerCase().endsWith('.gguf');
    const input = gguf ? path.join(downloadDir, req.files[0].path) : downloadDir;
    log(`${req.id}: importing ${input} into ${outDir}`);
    const summary = await this.options.importer(input, outDir, signal, (p) => progress({ stage: 'import', progress: p }));
    log(`${req.id}: imported ${summary.displayName} (${formatBytes(summary.outputBytes)}) in ${summary.seconds.toFixed(1)} s; deleting the downloaded checkpoint`);
    await fs.rm(downloadDir, { recursive: true, force: true });
    return describeModelDir(outDir);
  }
}

/** Takes `file` (pid inside); while a live process holds it, waits. A lock whose process is gone
 *  (a crashed or closed window) is taken over. Returns the release. */
async function acquireLock(file: string, signal: AbortSignal, pollMs: number, onWait: (holderPid: number) => void): Promise<() => Promise<void>> {
  let told = false;
  for (;;) {
    if (signal.aborted) throw new DownloadAbortedError();
    try {
      await fs.writeFile(file, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }), { flag: 'wx' });
      return () => fs.rm(file, { force: true });
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
    }
    const holder = await readLockPid(file);
    // Our own pid: a lock this process left before (SharedTasks covers live work in this process).
    if (holder === undefined || holder === process.pid || (holder !== WRITING && !processRunning(holder))) {
      await fs.rm(file, { force: true });
      continue;
    }
    if (!told && holder !== WRITING) {
      onWait(holder);
      told = true;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, pollMs);
      signal.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
    });
  }
}

/** A lock file created but not yet written by its owner. */
const WRITING = -1;

async function readLockPid(file: string): Promise<number | undefined> {
  try {
    const text = await fs.readFile(file, 'utf8');
    const pid = (JSON.parse(text) as { pid?: unknown }).pid;
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    // Written but not yet filled by its owner: give it a moment before calling it stale.
    const stat = await fs.stat(file).catch(() => undefined);
    return stat && Date.now() - stat.mtimeMs < 10_000 ? WRITING : undefined;
  }
}
