// dist/importWorker.js: runs the importer off the extension host's thread (converting a tensor is
// synchronous work of up to seconds). Messages: in { input, outDir } as workerData, 'abort';
// out { progress }, { summary }, { error: { name, message } }.
import { parentPort, workerData } from 'node:worker_threads';
import { importCheckpoint } from '../engine/import/importModel';
import type { ImportWorkerData, ImportWorkerMessage } from './importWorker';

const port = parentPort!;
const abort = new AbortController();
port.on('message', (m: unknown) => { if (m === 'abort') abort.abort(); });
const { input, outDir } = workerData as ImportWorkerData;
const post = (m: ImportWorkerMessage) => port.postMessage(m);
let lastPostMs = 0;
importCheckpoint({
  input, outDir, signal: abort.signal,
  onProgress: (progress) => {
    const now = performance.now();
    if (now - lastPostMs < 100 && progress.doneBytes < progress.totalBytes) return;
    lastPostMs = now;
    post({ progress });
  },
}).then((summary) => post({ summary }), (e: unknown) => {
  const error = e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) };
  post({ error });
}).finally(() => port.close());
