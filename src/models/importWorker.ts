// The Importer the extension uses: importCheckpoint in a worker thread (dist/importWorker.js), so
// the extension host stays responsive while tensors convert. Cancel asks the importer to stop (it
// removes its temporary directory) and terminates the thread if it has not within a few seconds.
import { Worker } from 'node:worker_threads';
import type { ImportProgress, ImportSummary } from '../engine/import/importModel';
import type { Importer } from './install';

export interface ImportWorkerData {
  input: string;
  outDir: string;
}

export type ImportWorkerMessage = { progress: ImportProgress } | { summary: ImportSummary } | { error: { name: string; message: string } };

const TERMINATE_AFTER_ABORT_MS = 5000;

export function workerImporter(workerScript: string): Importer {
  return (input, outDir, signal, onProgress) => new Promise<ImportSummary>((resolve, reject) => {
    const worker = new Worker(workerScript, { workerData: { input, outDir } satisfies ImportWorkerData });
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      signal.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = () => {
      worker.postMessage('abort');
      killTimer = setTimeout(() => void worker.terminate(), TERMINATE_AFTER_ABORT_MS);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    worker.on('message', (m: ImportWorkerMessage) => {
      if ('progress' in m) onProgress(m.progress);
      else if ('summary' in m) finish(() => resolve(m.summary));
      else finish(() => reject(Object.assign(new Error(m.error.message), { name: m.error.name })));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    // A message posted just before the thread ended may still be queued: it settles first.
    worker.on('exit', (code) => setImmediate(() => finish(() => reject(signal.aborted ? Object.assign(new Error('the import was cancelled'), { name: 'AbortError' }) : new Error(`the import worker stopped (exit code ${code}) before finishing — try again; the log has details`)))));
  });
}
