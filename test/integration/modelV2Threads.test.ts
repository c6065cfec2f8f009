// The v2 engine's threads on real model files: every chunk's kernel calls split by tokens, and a decoded token's by rows,
// across 2 and 3 threads give the one-thread logits bit for bit; a prefill thread that throws,
// exits or stops answering fails the request with PrefillThreadError, the cache is dropped and the
// next request runs on fresh threads with the right logits; dispose ends every worker.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PrefillThreadError } from '../../src/engine/errors';
import { loadInProcessEngine } from '../../src/engine/local';
import type { ManifestV2 } from '../../src/engine/manifestV2';
import { openModelDir } from '../../src/engine/modelDir';
import { argmax } from '../../src/engine/sampling';
import { calibrateGateThresholds } from '../../src/engine/v2/calibrate';
import { loadModelV2 } from '../../src/engine/v2/loadV2';
import { CHUNK_TOKENS, type ModelV2 } from '../../src/engine/v2/modelV2';
import type { Fault } from '../../src/engine/v2/threadPool';
import { fixtureModelDir, repoRoot } from '../helpers/fixture';
import { requireSmollm2V2, SMOLLM2_V2 } from '../helpers/smollm2';

const FIXTURES = ['tiny-llama-v2', 'tiny-qwen2-v2', 'tiny-relu-v2'].map((n) => path.join(repoRoot, 'test/fixtures', n));
const SMOLLM2 = SMOLLM2_V2;

async function load(dir: string, threads: number): Promise<ModelV2> {
  const d = await openModelDir(dir);
  return loadModelV2(d as typeof d & { manifest: ManifestV2 }, undefined, threads);
}

/** A prompt longer than one chunk at 3 threads, and not a multiple of any chunk size. */
function prompt(vocab: number): number[] {
  return Array.from({ length: 3 * CHUNK_TOKENS + 41 }, (_, i) => (17 + i * 7919) % vocab);
}

/** Prefill logits of every position, then the last position's after a fresh prefill, then 3
 *  greedy decode steps' logits. */
async function run(model: ModelV2, ids: number[]): Promise<Float32Array[]> {
  const out = [await model.forwardAll(ids, model.newCache())];
  const kv = model.newCache();
  let logits = await model.forward(ids, kv);
  out.push(logits);
  for (let s = 0; s < 3; s++) out.push(logits = await model.forward([argmax(logits)], kv));
  return out;
}

function assertSameBits(actual: Float32Array[], expected: Float32Array[], what: string): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(expected[i].buffer, expected[i].byteOffset, expected[i].byteLength)), `${what}: run ${i} differs`));
}

describe('v2 engine: prefill split across threads', function () {
  this.timeout(600_000);
  for (const name of [...FIXTURES, SMOLLM2]) {
    it(`${path.basename(name)}: forwardAll, forward and decode at 2 and 3 threads are bit-identical to 1 thread`, async function () {
      const dir = name === SMOLLM2 ? await requireSmollm2V2(this) : name;
      const one = await load(dir, 1);
      const ids = prompt(one.arch.vocabSize);
      const expected = await run(one, ids);
      await one.dispose();
      for (const threads of [2, 3]) {
        const model = await load(dir, threads);
        try {
          assert.equal(model.threadPool?.threads, threads, 'the model has a pool of that many threads');
          const pool = model.threadPool;
          assertSameBits(await run(model, ids), expected, `${threads} threads`);
          assert.ok(pool.runs > 0, 'kernel calls were split');
          // and every unit on the worker threads (on the tiny fixtures the calling thread can run
          // them all before a worker wakes)
          pool.callerClaims = false;
          assertSameBits(await run(model, ids), expected, `${threads} threads, the workers alone`);
          assert.ok(pool.workerUnits > 0, 'the worker threads ran units');
        } finally {
          await model.dispose();
        }
      }
    });
  }

  it('SmolLM2-135M with gate thresholds: the sparse decode split across 2 threads (up rows by neuron, down columns by output block) gives the 1-thread bits', async function () {
    const dir = await requireSmollm2V2(this);
    const one = await load(dir, 1), two = await load(dir, 2);
    try {
      const ids = prompt(one.arch.vocabSize).slice(0, 40);
      const { gateThresholds } = await calibrateGateThresholds(one, [ids], 0.5);
      one.gateThresholds = two.gateThresholds = gateThresholds;
      let prefillRuns = 0;
      const decode = async (model: ModelV2) => {
        const kv = model.newCache();
        const out = [await model.forward(ids, kv)];
        prefillRuns = model.threadPool?.runs ?? 0;
        for (let s = 0; s < 5; s++) out.push(await model.forward([argmax(out[out.length - 1])], kv));
        return out;
      };
      const expected = await decode(one);
      assertSameBits(await decode(two), expected, '2 threads');
      assert.ok(two.threadPool!.runs > prefillRuns, 'decoded tokens were split across the threads');
      const { computed, skipped } = two.ffnCounts;
      assert.ok(skipped > 0.3 * (computed + skipped), `the gate skipped ${skipped} of ${computed + skipped} neurons`);
    } finally {
      await one.dispose();
      await two.dispose();
    }
  });

  const faults: [Fault, RegExp][] = [
    ['throw', /inference thread 1 threw: injected fault/],
    ['exit', /inference thread 1 exited \(code 1\)/],
    ['hang', /inference thread 1 did not answer within 300 ms/],
  ];
  for (const [fault, message] of faults) {
    it(`a prefill thread that ${fault === 'hang' ? 'stops answering' : fault === 'throw' ? 'throws' : 'exits'} fails the request with PrefillThreadError; the next request gets the right logits`, async () => {
      const one = await load(FIXTURES[0], 1);
      const ids = prompt(one.arch.vocabSize);
      const expected = await one.forward(ids, one.newCache());
      await one.dispose();
      const model = await load(FIXTURES[0], 2);
      try {
        const kv = model.newCache();
        await model.forward(ids.slice(0, 5), kv); // a warm cache that the failure must drop
        const pool = model.threadPool!;
        if (fault === 'hang') {
          pool.minTimeLimitMs = 300;
          pool.timeLimitFactor = 0;
        }
        pool.injectFault(1, fault);
        await assert.rejects(model.forward(ids.slice(5), kv), (e: Error) => e instanceof PrefillThreadError && message.test(e.message));
        assert.equal(kv.length, 0, 'the KV cache was cleared');
        assert.equal(pool.liveWorkers, 0, 'the failed pool\'s workers were ended');
        assert.notEqual(model.threadPool, pool, 'a new pool');
        assertSameBits([await model.forward(ids, kv)], [expected], 'after the failure');
        assert.ok(model.threadPool!.runs > 0);
      } finally {
        await model.dispose();
      }
    });
  }

  it('SmolLM2-135M: a thread that throws while a token is decoded (its rows split across the threads) fails that request; the next gets the one-thread logits', async function () {
    const dir = await requireSmollm2V2(this);
    const one = await load(dir, 1);
    const ids = prompt(one.arch.vocabSize).slice(0, 40);
    const kv1 = one.newCache();
    await one.forward(ids, kv1);
    const expected = await one.forward([7], kv1);
    await one.dispose();
    const model = await load(dir, 2);
    try {
      const kv = model.newCache();
      await model.forward(ids, kv);
      const pool = model.threadPool!;
      const before = pool.runs;
      pool.injectFault(1, 'throw');
      await assert.rejects(model.forward([7], kv), (e: Error) => e instanceof PrefillThreadError && /inference thread 1 threw: injected fault/.test(e.message));
      assert.ok(pool.runs > before, 'the decoded token went to the threads');
      assert.equal(kv.length, 0, 'the KV cache was cleared');
      await model.forward(ids, kv);
      assertSameBits([await model.forward([7], kv)], [expected], 'the next request, on new threads');
    } finally {
      await model.dispose();
    }
  });

  it('a worker that died between requests is replaced before the next one, which succeeds', async () => {
    const model = await load(FIXTURES[0], 2);
    try {
      const ids = prompt(model.arch.vocabSize);
      const expected = await model.forward(ids, model.newCache());
      const pool = model.threadPool!;
      await pool.terminateWorker(1);
      assert.equal(pool.healthy, false);
      assertSameBits([await model.forward(ids, model.newCache())], [expected], 'after the death');
      assert.notEqual(model.threadPool, pool);
      assert.ok(model.threadPool!.runs > 0);
    } finally {
      await model.dispose();
    }
  });

  it('the engine\'s threads option reaches a v2 model: one more OS thread per extra thread while loaded, the same completion', async function () {
    // the process's threads as Linux lists them: a worker thread is one of them
    const osThreads = () => fs.readdirSync('/proc/self/task').length;
    if (!fs.existsSync('/proc/self/task')) {
      console.log('      skipped: no /proc/self/task (not Linux), no thread list to count');
      this.skip(); // reason: no /proc/self/task (not Linux) to count threads in (printed above)
    }
    const request = { prompt: { kind: 'text' as const, text: 'def fibonacci(n):\n    ' + 'x = 1\n    '.repeat(40) }, maxNewTokens: 8, temperature: 0, topP: 1, seed: 1, timeBudgetMs: 60_000 };
    const results = [];
    for (const threads of [1, 3]) {
      const before = osThreads();
      const engine = await loadInProcessEngine({ modelDir: FIXTURES[0], threads });
      try {
        assert.equal(osThreads() - before, threads - 1, `${threads} threads: worker threads started`);
        assert.equal(engine.info.threads, threads);
        const r = await engine.generate(request);
        assert.ok(r.promptTokens > 2 * CHUNK_TOKENS, `a prompt of ${r.promptTokens} tokens spans chunks`);
        results.push(r.tokenIds);
      } finally {
        await engine.dispose();
      }
      assert.equal(osThreads(), before, `${threads} threads: none left after dispose`);
    }
    assert.deepEqual(results[1], results[0]);
  });

  it('a version-1 model runs ONNX Runtime on one thread whatever the option says', async () => {
    const engine = await loadInProcessEngine({ modelDir: fixtureModelDir, threads: 2 });
    try {
      assert.equal(engine.info.threads, 1);
    } finally {
      await engine.dispose();
    }
  });

  it('dispose ends every worker thread', async () => {
    const model = await load(FIXTURES[0], 3);
    await model.forward(prompt(model.arch.vocabSize), model.newCache());
    const pool = model.threadPool!;
    assert.equal(pool.liveWorkers, 2);
    await model.dispose();
    assert.equal(pool.liveWorkers, 0);
    assert.equal(pool.healthy, false);
  });
});
