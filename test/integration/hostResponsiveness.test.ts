// What the extension host keeps when Flashcode meets bad inputs, on the worker engine the extension
// uses and the fixture model: a 10 MB file and a 100 KB line are read only around the cursor, give a
// prompt that fits the model and an answer in about the time of a small document, and cost this
// thread little CPU; disposing the engine host (an extension reload or shutdown) or loading another
// model while a generation runs ends the inference worker thread.
import '../helpers/fakeVscode';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { Heartbeat, threadCpuMs } from '../../src/common/heartbeat';
import { clipAroundCursor, DEFAULT_CLIP_LIMITS } from '../../src/completion/clip';
import { CompletionPipeline } from '../../src/completion/pipeline';
import type { TextSource } from '../../src/completion/types';
import { startWorkerEngine, type Engine } from '../../src/engine';
import { EngineHost, type LoadOptions } from '../../src/host/engineHost';
import type { OutputLog } from '../../src/host/output';
import { distDir, fixtureModelDir, requireBuiltWorker } from '../helpers/fixture';

/** Most CPU time this thread may spend on one request (ms), measured in 10 ms ticks where Node has
 *  no finer clock. The request's own work (clip, prefilter, messages, post-processing, first-call
 *  compilation) measured 30–50 ms; tokenizing the whole 10 MB document here would take seconds. */
const MAX_THREAD_CPU_MS = 100;
/** The request on the huge document may take at most this many times as long as the same cursor
 *  window given as a small document, plus this slack (ms): wall times on a shared machine vary. */
const MAX_SLOWDOWN = 4;
const SLACK_MS = 2000;

/** A document that counts the characters read from it. */
function countingDocument(text: string): TextSource & { charsRead: number } {
  return {
    length: text.length,
    charsRead: 0,
    slice(start, end) {
      const s = text.slice(start, end);
      this.charsRead += s.length;
      return s;
    },
  };
}

const CODE = `def parse_row(row, columns):
    values = {}
    for index, name in enumerate(columns):
        values[name] = row[index].strip()
    return values

`;

describe('host responsiveness: bad inputs on the worker engine', () => {
  let engine: Engine;
  before(async () => {
    // No KV-prefix reuse: the huge document's request and the small one's prefill the same prompt.
    engine = await startWorkerEngine({ modelDir: fixtureModelDir, workerScript: requireBuiltWorker(), maxCachedKvBytes: 0 });
    // The first long prompt on a fresh engine runs several times slower than later ones.
    const warmUp = CODE.repeat(100);
    await new CompletionPipeline(engine).complete({ document: warmUp, offset: warmUp.length, languageId: 'python', fileName: 'warm.py' }, { maxNewTokens: 4, timeBudgetMs: 60_000 });
  });
  after(() => engine.dispose());

  const cases = [
    { name: 'a 10 MB file', text: CODE.repeat(Math.ceil(10_000_000 / CODE.length)), languageId: 'python' },
    { name: 'a 100 KB single line', text: `const table = [${'1234, '.repeat(100_000 / 6)}0];`, languageId: 'javascript' },
  ];
  for (const c of cases) {
    it(`${c.name}: read around the cursor only, a prompt that fits, bounded time, little work on this thread`, async () => {
      const settings = { maxNewTokens: 16, timeBudgetMs: 60_000 };
      const document = countingDocument(c.text);
      const middle = c.text.indexOf('\n', c.text.length / 2) + 1 || Math.floor(c.text.length / 2);
      const request = { document, offset: middle, languageId: c.languageId, fileName: `big.${c.languageId}` };
      const heartbeat = new Heartbeat();
      heartbeat.start();
      const cpuBeforeMs = threadCpuMs({ coarse: true });
      const huge = await new CompletionPipeline(engine).complete(request, settings);
      const cpuMs = cpuBeforeMs === undefined ? undefined : threadCpuMs({ coarse: true })! - cpuBeforeMs;
      const beats = heartbeat.stop()!;
      assert.ok(huge, 'an answer');
      assert.ok(huge.promptTokens <= engine.info.contextTokens, `${huge.promptTokens} prompt tokens`);
      assert.ok(document.charsRead <= DEFAULT_CLIP_LIMITS.maxPrefixChars + DEFAULT_CLIP_LIMITS.maxSuffixChars, `${document.charsRead} characters read`);
      if (cpuMs !== undefined) {
        assert.ok(cpuMs <= MAX_THREAD_CPU_MS, `${cpuMs} ms of this thread's CPU (timer up to ${beats.maxLateMs} ms late)`);
      }

      // The same window as a small document: the same prompt, so about the same time.
      const { prefix, suffix } = clipAroundCursor(c.text, middle);
      const small = await new CompletionPipeline(engine).complete({ ...request, document: prefix + suffix, offset: prefix.length }, settings);
      assert.ok(small);
      assert.equal(huge.promptTokens, small.promptTokens);
      assert.ok(huge.latencyMs <= MAX_SLOWDOWN * small.latencyMs + SLACK_MS, `${Math.round(huge.latencyMs)} ms vs ${Math.round(small.latencyMs)} ms`);
    });
  }
});

/** How soon the worker thread must be gone (ms). Generous: ending a worker thread waits for V8's
 *  background work on ONNX Runtime's wasm, which in the first seconds after a load took 8–10 s (and
 *  more) where other processes held both cores. */
const EXIT_WITHIN_MS = 60_000;

describe('host responsiveness: the inference worker ends with its engine host', function () {
  this.timeout(180_000);
  const options = (): LoadOptions => ({
    modelDir: fixtureModelDir, threads: 1, workerScript: requireBuiltWorker(), ortWasmDir: path.join(distDir, 'ort'),
    flash: { mode: 'sparse', memoryBudgetMB: 256, windowTokens: 5 },
  });
  const log = { info: () => {}, warn: () => {}, error: () => {} } as unknown as OutputLog;

  /** The loaded host's worker thread, and a promise that settles once the engine streams text. */
  async function loadedHost() {
    const host = new EngineHost(log);
    await host.load(options());
    const engine = host.readyEngine;
    assert.ok(engine, `state ${host.state.kind}`);
    const worker = (engine as unknown as { worker: Worker }).worker;
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const generate = engine.generate.bind(engine);
    const streaming = new Promise<void>((resolve) => {
      engine.generate = (request, callbacks = {}) => generate(request, { ...callbacks, onText: (delta) => { resolve(); callbacks.onText?.(delta); } });
    });
    return { host, engine, worker, exited, streaming };
  }

  /** A completion at the end of a line, with room for 256 tokens (the fixture model never stops early). */
  function longCompletion(host: EngineHost) {
    const text = 'def total(items):\n    result = 0\n    for item in items:\n        result += item.price\n';
    const state = { settled: false };
    const answer = host.pipeline!.complete({ document: text, offset: text.length - 1, languageId: 'python', fileName: 'total.py' }, { maxNewTokens: 256, timeBudgetMs: 60_000 });
    void answer.finally(() => { state.settled = true; });
    return { answer, state };
  }

  async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms); });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  it('dispose (extension reload) during a completion: the request gives nothing and the worker thread exits', async () => {
    const { host, worker, exited, streaming } = await loadedHost();
    const { answer, state } = longCompletion(host);
    await streaming;
    assert.equal(state.settled, false, 'the generation is still running when the host is disposed');
    host.dispose();
    assert.equal(await within(answer, EXIT_WITHIN_MS, 'the request settles'), undefined);
    await within(exited, EXIT_WITHIN_MS, 'the worker thread exits');
    assert.equal(worker.threadId, -1);
  });

  it('dispose during a direct generation (Explain / Refactor): it rejects and the worker thread exits', async () => {
    const { host, engine, exited, streaming } = await loadedHost();
    const run = engine.generate({ prompt: { kind: 'text', text: 'Explain this code:\n' }, maxNewTokens: 256, temperature: 0, topP: 1, seed: 0, timeBudgetMs: 60_000 });
    const outcome = run.then(() => 'resolved', (e: Error) => e.name);
    await streaming;
    host.dispose();
    assert.match(await within(outcome, EXIT_WITHIN_MS, 'the generation settles'), /Abort|EngineDisposed/);
    await within(exited, EXIT_WITHIN_MS, 'the worker thread exits');
  });

  it('loading another model during a completion ends the old worker thread and readies a new one', async () => {
    const { host, exited, streaming } = await loadedHost();
    try {
      const { answer } = longCompletion(host);
      await streaming;
      const reload = host.load(options());
      assert.equal(await within(answer, EXIT_WITHIN_MS, 'the request settles'), undefined);
      await within(exited, EXIT_WITHIN_MS, 'the old worker thread exits');
      await reload;
      assert.equal(host.state.kind, 'ready');
    } finally {
      host.dispose();
    }
  });
});
