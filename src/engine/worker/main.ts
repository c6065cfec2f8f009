// Entry of the inference worker (bundled to dist/engineWorker.js): an InProcessEngine driven by
// messages. Inference never runs on the extension host's thread.
import { parentPort } from 'node:worker_threads';
import path from 'node:path';
import { InProcessEngine } from '../inProcessEngine';
import type { FromWorker, ToWorker } from './protocol';
import { toWire } from './wireError';

const port = parentPort;
if (!port) throw new Error('engineWorker.js must run in a worker thread');
const post = (m: FromWorker) => port.postMessage(m);

let engine: InProcessEngine | undefined;
const inFlight = new Map<number, AbortController>();

port.on('message', async (m: ToWorker) => {
  switch (m.type) {
    case 'load':
      try {
        // The worker always runs from the bundle; ONNX Runtime's wasm files sit beside it in ort/.
        engine = await InProcessEngine.load({ ortWasmDir: path.join(__dirname, 'ort'), ...m.options });
        post({ type: 'loaded', info: engine.info });
      } catch (e) {
        post({ type: 'load-failed', error: toWire(e) });
      }
      return;
    case 'generate': {
      const controller = new AbortController();
      inFlight.set(m.id, controller);
      try {
        if (!engine) throw new Error('generate before load');
        const result = await engine.generate(m.request, {
          signal: controller.signal,
          onText: (delta) => post({ type: 'text', id: m.id, delta }),
        });
        post({ type: 'done', id: m.id, result });
      } catch (e) {
        post({ type: 'failed', id: m.id, error: toWire(e) });
      } finally {
        inFlight.delete(m.id);
      }
      return;
    }
    case 'count':
      try {
        if (!engine) throw new Error('count before load');
        post({ type: 'counted', id: m.id, tokens: await engine.countTokens(m.text) });
      } catch (e) {
        post({ type: 'failed', id: m.id, error: toWire(e) });
      }
      return;
    case 'abort':
      inFlight.get(m.id)?.abort();
      return;
    case 'dispose':
      for (const c of inFlight.values()) c.abort();
      await engine?.dispose();
      post({ type: 'disposed' });
      return;
  }
});
