// The engine behind the worker_threads protocol (the bundled dist/engineWorker.js, as the extension
// host runs it): same results as in-process, errors keep their names, cancellation storms stay bounded.
import assert from 'node:assert/strict';
import { isAbort, startWorkerEngine, type Engine, type EngineError, type GenerateRequest } from '../../src/engine';
import { loadInProcessEngine } from '../../src/engine/local';
import type { WorkerEngine } from '../../src/engine/worker/proxy';
import { copyFixtureModel, fixtureModelDir, repoRoot, requireBuiltWorker } from '../helpers/fixture';
import { requireSmollm2V2 } from '../helpers/smollm2';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Worker } from 'node:worker_threads';
import path from 'node:path';

const request = (prefix: string, maxNewTokens = 8): GenerateRequest => ({
  prompt: { kind: 'fim', prefix, suffix: '\n' }, maxNewTokens, temperature: 0, topP: 1, seed: 0, timeBudgetMs: 30_000,
});

describe('worker engine', () => {
  let worker: Engine;
  before(async () => {
    worker = await startWorkerEngine({ modelDir: fixtureModelDir, workerScript: requireBuiltWorker() });
  });
  after(() => worker.dispose());

  it('gives the same tokens as the in-process engine', async () => {
    const local = await loadInProcessEngine({ modelDir: fixtureModelDir });
    try {
      const [a, b] = [await local.generate(request('function add(a, b) {\n  return ')), await worker.generate(request('function add(a, b) {\n  return '))];
      assert.deepEqual(b.tokenIds, a.tokenIds);
      assert.equal(b.text, a.text);
    } finally {
      await local.dispose();
    }
  });

  it('passes the prefix-reuse counts across the thread boundary', async () => {
    const prompt = request('def reuse(x):\n    return ');
    const first = await worker.generate(prompt);
    const again = await worker.generate(prompt);
    assert.equal(first.reusedPromptTokens + first.prefilledPromptTokens, first.promptTokens);
    assert.equal(again.reusedPromptTokens, again.promptTokens - 1);
    assert.equal(again.prefilledPromptTokens, 1);
    assert.deepEqual(again.tokenIds, first.tokenIds);
  });

  it('counts tokens like the in-process engine', async () => {
    const local = await loadInProcessEngine({ modelDir: fixtureModelDir });
    try {
      const text = 'def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1)\n';
      assert.equal(await worker.countTokens(text), local.encode(text).length);
      assert.equal(await worker.countTokens(''), 0);
    } finally {
      await local.dispose();
    }
  });

  it('survives a storm of 300 requests where each new one cancels the last', async () => {
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let controller = new AbortController();
    const runs: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      controller.abort();
      controller = new AbortController();
      runs.push(worker.generate(request(`const v${i} = `, 16), { signal: controller.signal }));
    }
    const settled = await Promise.allSettled(runs);
    const rejected = settled.filter((s) => s.status === 'rejected');
    assert.ok(rejected.every((s) => isAbort((s as PromiseRejectedResult).reason)), 'only aborts may fail');
    assert.equal(settled[299].status, 'fulfilled', 'the latest request wins');
    assert.ok(rejected.length >= 290, `${rejected.length} of 299 older requests were cancelled`);
    assert.equal((worker as WorkerEngine).pendingCount, 0);
    global.gc?.();
    const grownMB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    assert.ok(grownMB < 20, `heap grew ${grownMB.toFixed(1)} MB`);
    const after = await worker.generate(request('x = '));
    assert.ok(after.generatedTokens > 0, 'the worker still answers after the storm');
  });

  it('splits a v2 model\'s prompt across threads inside the worker (the bundle\'s prefill workers start and give the same tokens)', async function () {
    if (!fs.existsSync('/proc/self/task')) {
      console.log('      skipped: no /proc/self/task (not Linux), no thread list to count');
      this.skip(); // reason: no /proc/self/task (not Linux) to count threads in (printed above)
    }
    const osThreads = () => fs.readdirSync('/proc/self/task').length;
    const modelDir = path.join(repoRoot, 'test/fixtures/tiny-llama-v2');
    const long: GenerateRequest = { ...request(''), prompt: { kind: 'text', text: `def f(x):\n    ${'y = x + 1\n    '.repeat(30)}` } };
    const ids = [];
    for (const threads of [1, 2]) {
      const before = osThreads();
      const engine = await startWorkerEngine({ modelDir, threads, workerScript: requireBuiltWorker() });
      try {
        // the engine's worker, and the prefill's workers inside it
        assert.equal(osThreads() - before, threads, `${threads} threads`);
        const r = await engine.generate(long);
        assert.ok(r.promptTokens > 64, `${r.promptTokens} prompt tokens`);
        ids.push(r.tokenIds);
      } finally {
        await engine.dispose();
      }
    }
    assert.deepEqual(ids[1], ids[0]);
  });

  it('SmolLM2-135M in the worker on 2 threads (each generated token split across them, the threads spinning between passes) gives the 1-thread tokens', async function () {
    this.timeout(300_000);
    const modelDir = await requireSmollm2V2(this);
    const text: GenerateRequest = { prompt: { kind: 'text', text: 'def fibonacci(n):\n    # the n-th Fibonacci number\n' }, maxNewTokens: 24, temperature: 0, topP: 1, seed: 0, timeBudgetMs: 60_000 };
    const ids = [];
    for (const threads of [1, 2]) {
      const engine = await startWorkerEngine({ modelDir, threads, workerScript: requireBuiltWorker() });
      try {
        const r = await engine.generate(text);
        assert.equal(r.generatedTokens, 24);
        ids.push(r.tokenIds);
      } finally {
        await engine.dispose();
      }
    }
    assert.deepEqual(ids[1], ids[0]);
  });

  it('passes a named load error across the thread boundary', async () => {
    const dir = await copyFixtureModel();
    try {
      await fsp.rm(path.join(dir, 'tokenizer.json'));
      await assert.rejects(startWorkerEngine({ modelDir: dir, workerScript: requireBuiltWorker() }), (e: Error) => {
        assert.equal(e.name, 'ModelFileMissingError');
        assert.match(e.message, /tokenizer\.json is missing/);
        return true;
      });
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  // The setting flashcode.engine.sparseFfn, as the extension passes it: 256 MB holds the whole fixture
  // model; 180 of each layer's 256 neurons makes the worker read the others from ffn.bin.
  for (const [name, cached] of [['all neurons in memory', undefined], ['180 neurons per layer cached', 180]] as const) {
    it(`runs the FFN sparsely when asked (${name}), with dense's greedy text`, async () => {
      const sparse = await startWorkerEngine({
        modelDir: fixtureModelDir, workerScript: requireBuiltWorker(),
        flash: { mode: 'sparse', memoryBudgetMB: 256, windowTokens: 5, residentNeuronsPerLayer: cached },
      });
      try {
        assert.equal(worker.info.ffn.mode, 'dense');
        assert.equal(sparse.info.ffn.mode, 'sparse');
        assert.equal(sparse.info.ffn.notice, undefined);
        assert.equal(sparse.info.ffn.fullyResident, cached === undefined);
        const prompt = request('function add(a, b) {\n  return ', 16);
        const [dense, got] = [await worker.generate(prompt), await sparse.generate(prompt)];
        assert.ok(dense.generatedTokens > 0);
        assert.deepEqual(got.tokenIds, dense.tokenIds);
        assert.equal(got.text, dense.text);
      } finally {
        await sparse.dispose();
      }
    });
  }

  it('passes a too-small memory budget across the thread boundary, naming the minimum', async () => {
    await assert.rejects(startWorkerEngine({ modelDir: fixtureModelDir, workerScript: requireBuiltWorker(), flash: { mode: 'sparse', memoryBudgetMB: 0.5 } }), (e: Error) => {
      assert.equal(e.name, 'FlashBudgetTooSmallError');
      assert.equal((e as EngineError).code, 'FlashBudgetTooSmall');
      assert.match(e.message, /at least \d+ MB/);
      return true;
    });
  });

  it('rejects the generation in flight with EngineCrashedError when the worker dies', async () => {
    const w = await startWorkerEngine({ modelDir: fixtureModelDir, workerScript: requireBuiltWorker() });
    const run = w.generate(request('let crash = ', 200));
    await (w as unknown as { worker: Worker }).worker.terminate();
    await assert.rejects(run, { name: 'EngineCrashedError' });
    await assert.rejects(w.generate(request('x')), { name: 'EngineCrashedError' });
  });

  it('rejects later calls with EngineDisposedError after dispose', async () => {
    const w = await startWorkerEngine({ modelDir: fixtureModelDir, workerScript: requireBuiltWorker() });
    await w.dispose();
    await assert.rejects(w.generate(request('x')), { name: 'EngineDisposedError' });
  });
});
