// A v2 model under a memory budget smaller than it: what does not fit is read from weights.bin and
// ffn.bin as it is used (the head in slices, embedding rows, layer matrices, whole FFN layers), by
// the same kernels, so the logits are the resident ones bit for bit. A budget below the least that
// runs is refused with the numbers; a file cut short under a running model is a named error.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FlashBudgetTooSmallError } from '../../src/engine/errors';
import { selectBackend, WASM_LABEL } from '../../src/engine/gpu/selectBackend';
import { importCheckpoint } from '../../src/engine/import/importModel';
import type { ManifestV2 } from '../../src/engine/manifestV2';
import { openModelDir } from '../../src/engine/modelDir';
import { InProcessEngine } from '../../src/engine/inProcessEngine';
import { argmax } from '../../src/engine/sampling';
import { loadModelV2 } from '../../src/engine/v2/loadV2';
import type { ModelV2 } from '../../src/engine/v2/modelV2';
import { repoRoot } from '../helpers/fixture';
import type { StreamedMatrix } from '../../src/engine/v2/matrix';
import { ThreadPool } from '../../src/engine/v2/threadPool';
import { WeightStream } from '../../src/engine/v2/weightStream';
import { KernelArena } from '../../src/engine/wasm/wasmKernels';
import { requireSmollm2V2 } from '../helpers/smollm2';

const MIB = 2 ** 20;
const prompt = Array.from({ length: 45 }, (_, i) => 3 + ((i * 37) % 240)); // two chunks: prefill streams twice

async function load(dir: string, memoryBudgetMB: number, streamEverything?: boolean, threads = 1): Promise<ModelV2> {
  return loadModelV2(await openModelDir(dir) as Awaited<ReturnType<typeof openModelDir>> & { manifest: ManifestV2 }, { mode: 'sparse', memoryBudgetMB, streamEverything }, threads);
}

/** The least budget that loads (from the refusal below it, in MB and exact) and what the whole model takes. */
async function needs(dir: string): Promise<{ minimumMB: number; minimumBytes: number; wholeBytes: number }> {
  const whole = await load(dir, 4096);
  const wholeBytes = whole.memoryPlan!.residentBytes;
  await whole.dispose();
  try {
    await load(dir, 0.001);
  } catch (e) {
    if (e instanceof FlashBudgetTooSmallError) return { minimumMB: e.minimumMB, minimumBytes: e.minimumBytes, wholeBytes };
    throw e;
  }
  throw new Error('a budget of 1 KB loaded');
}

/** Prefill, then 10 greedy tokens on both: every logit the same bits. */
async function assertSameLogits(resident: ModelV2, budgeted: ModelV2): Promise<void> {
  const kvR = resident.newCache(), kvB = budgeted.newCache();
  assert.deepEqual(await budgeted.forwardAll(prompt, kvB), await resident.forwardAll(prompt, kvR));
  let logits = await resident.forward([7], kvR);
  assert.deepEqual(await budgeted.forward([7], kvB), logits);
  for (let t = 0; t < 10; t++) {
    const id = argmax(logits);
    logits = await resident.forward([id], kvR);
    assert.deepEqual(await budgeted.forward([id], kvB), logits, `token ${t}`);
  }
}

describe('a v2 model under a memory budget smaller than it', function () {
  this.timeout(300_000);
  let work: string;
  const dirs: Record<string, string> = {};

  before(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'flashcode-budget-'));
    for (const name of ['tiny-llama-v2', 'tiny-qwen2-v2', 'tiny-relu-v2']) {
      dirs[name] = path.join(work, name);
      await fs.cp(path.join(repoRoot, 'test/fixtures', name), dirs[name], { recursive: true });
    }
    dirs['tiny-llama --bits 4'] = path.join(work, 'q4');
    await importCheckpoint({ input: path.join(repoRoot, 'test/fixtures/import/tiny-llama'), outDir: dirs['tiny-llama --bits 4'], bits: 4 });
  });
  after(() => fs.rm(work, { recursive: true, force: true }));

  it('tiny-llama-v2: at the least budget that loads, below the whole model, every logit is the resident one', async () => {
    const { minimumBytes, wholeBytes } = await needs(dirs['tiny-llama-v2']);
    const resident = await load(dirs['tiny-llama-v2'], 4096);
    const budgeted = await load(dirs['tiny-llama-v2'], minimumBytes / MIB);
    const plan = budgeted.memoryPlan!;
    assert.ok(plan.residentBytes <= minimumBytes && plan.residentBytes < wholeBytes, `${plan.residentBytes} in memory, whole ${wholeBytes}`);
    assert.ok(plan.streamed.includes('head') && plan.streamed.some((n) => n.endsWith('.qkv')), plan.summary);
    await assertSameLogits(resident, budgeted);
    assert.ok(budgeted.streamStats.bytesRead > 0 && resident.streamStats.bytesRead === 0);
    await resident.dispose();
    await budgeted.dispose();
  });

  // every matrix and FFN layer on disk (streamEverything: on models this small no budget would):
  // untied (embedding rows apart from the head), tied with Q/K/V biases, 4-bit matrices, ReLU-gated
  // (its gate in ffn.bin's records, which stay resident: only the weights.bin matrices stream)
  for (const name of ['tiny-llama-v2', 'tiny-qwen2-v2', 'tiny-llama --bits 4', 'tiny-relu-v2']) {
    it(`${name}: with every matrix and FFN layer read from disk, every logit is the resident one`, async () => {
      const resident = await load(dirs[name], 4096);
      const streamed = await load(dirs[name], 4096, true);
      const plan = streamed.memoryPlan!;
      const relu = name === 'tiny-relu-v2';
      assert.ok(plan.streamed.includes('embed') && plan.streamed.some((n) => n.endsWith('.qkv')), plan.summary);
      assert.equal(plan.streamed.some((n) => n.endsWith('.ffn_gate')) && /the FFN of 2 of 2 layers/.test(plan.summary), !relu, plan.summary);
      await assertSameLogits(resident, streamed);
      await resident.dispose();
      await streamed.dispose();
    });
  }

  // a budget 1 KiB below the whole model: a few layer matrices stream, the FFN stays resident, so
  // the streamed matrices alone keep the model off the GPU
  it('tiny-qwen2-v2 with matrices left in weights.bin stays on WASM, saying so, before any probe; the engine reports its plan', async () => {
    const { wholeBytes } = await needs(dirs['tiny-qwen2-v2']);
    const budgetMB = (wholeBytes - 1024) / MIB;
    const model = await load(dirs['tiny-qwen2-v2'], budgetMB);
    const plan = model.memoryPlan!;
    assert.ok(plan.streamed.length > 0, plan.summary);
    const why = /this model cannot run on WebGPU: the memory budget leaves some matrices in weights\.bin; the WebGPU path needs every weight resident$/;
    for (const setting of ['webgpu', 'auto'] as const) {
      const choice = await selectBackend(model, setting, { probe: () => assert.fail('a model the GPU cannot run needs no adapter') });
      assert.equal(choice.pass, model);
      assert.equal(choice.backend, 'wasm');
      assert.match(choice.reason, why);
      assert.equal(choice.warning !== undefined, setting === 'webgpu');
    }
    await model.dispose();
    const engine = await InProcessEngine.load({ modelDir: dirs['tiny-qwen2-v2'], backend: 'webgpu', flash: { mode: 'sparse', memoryBudgetMB: budgetMB } });
    try {
      assert.equal(engine.info.backend, WASM_LABEL);
      assert.match(engine.info.backendReason ?? '', why);
      assert.match(engine.info.backendWarning ?? '', /^flashcode\.engine\.backend is "webgpu", but the model runs on WebAssembly: .*matrices in weights\.bin/);
      assert.equal(engine.info.memory, plan.summary);
    } finally {
      await engine.dispose();
    }
  });

  it('refuses a budget below the least that runs, naming it and what the whole model takes', async () => {
    const { minimumMB, minimumBytes, wholeBytes } = await needs(dirs['tiny-llama-v2']);
    const below = (minimumBytes - 4096) / MIB;
    await assert.rejects(load(dirs['tiny-llama-v2'], below), (e: unknown) => {
      assert.ok(e instanceof FlashBudgetTooSmallError);
      assert.equal(e.minimumBytes, minimumBytes);
      assert.equal(e.minimumMB, Math.ceil(minimumBytes / MIB));
      assert.equal(e.wholeMB, Math.ceil(wholeBytes / MIB));
      assert.match(e.message, new RegExp(`is ${+below.toFixed(1)} MB, too small .* at least ${minimumMB} MB .* raise the setting to ${minimumMB} or more \\(${e.wholeMB} MB keeps all of it in memory`));
      return true;
    });
    (await load(dirs['tiny-llama-v2'], minimumBytes / MIB)).dispose();
  });

  for (const file of ['weights.bin', 'ffn.bin']) {
    it(`${file} cut short under a model streaming from it: ModelFileCorruptError naming the file and offset, not garbage`, async () => {
      const dir = path.join(work, `short-${file}`);
      await fs.cp(dirs['tiny-llama-v2'], dir, { recursive: true });
      const model = await load(dir, 4096, true); // every matrix and FFN layer read from disk as used
      const kv = model.newCache();
      await model.forward(prompt.slice(0, 5), kv);
      const full = (await fs.stat(path.join(dir, file))).size;
      await fs.truncate(path.join(dir, file), Math.floor(full / 2));
      await assert.rejects(model.forward([9], kv), new RegExp(`^ModelFileCorruptError: ${file.replace('.', '\\.')} is corrupt \\(it ended at byte \\d+, reading \\d+ bytes (of tensor \\S+ )?at offset \\d+\\)`));
      assert.equal(kv.length, 0, 'the failed request leaves no half-written cache');
      await model.dispose();
    });
  }

  it('weights.bin cut short under SmolLM2 at half its bytes on 2 threads: a read the threads share names the file and offset too', async function () {
    const dir = path.join(work, 'short-shared');
    await fs.cp(await requireSmollm2V2(this), dir, { recursive: true });
    const m = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as ManifestV2;
    const modelBytes = Object.entries(m.files).filter(([n]) => n !== 'tokenizer.json').reduce((n, [, f]) => n + f.bytes, 0);
    const model = await load(dir, (0.5 * modelBytes) / MIB, false, 2);
    const kv = model.newCache();
    await model.forward(prompt.slice(0, 20), kv);
    assert.ok(model.streamStats.sharedReads > 0, 'the threads shared the reads');
    const full = (await fs.stat(path.join(dir, 'weights.bin'))).size;
    await fs.truncate(path.join(dir, 'weights.bin'), Math.floor(full / 2));
    await assert.rejects(model.forward(prompt.slice(20, 40), kv), /^ModelFileCorruptError: weights\.bin is corrupt \(it ended at byte \d+, reading \d+ bytes of tensor \S+ at offset \d+\)/);
    assert.equal(kv.length, 0, 'the failed request leaves no half-written cache');
    await model.dispose();
  });

  it('a shared read that throws on a thread is read again on the calling one, for its error', async () => {
    const arena = new KernelArena(1 << 20, { shared: true });
    const pool = new ThreadPool(arena, 2);
    await pool.ready;
    const staging = arena.bytes((1 << 18) + 8);
    const stream = new WeightStream(2 ** 30, 'weights.bin', arena.memory, staging.ptr, 1 << 18, 0); // no such file descriptor
    stream.threads = { run: (units) => pool.run(units), count: 2 };
    const m: StreamedMatrix = { streamed: true, name: 'layers.0.ffn_gate', offset: 0, rows: 256, cols: 512, q4: false }; // 144 KB: shared
    assert.throws(() => stream.rows(m, 0, 256), (e: NodeJS.ErrnoException) => e.code === 'EBADF');
    assert.ok(pool.healthy, 'the thread that failed to read reported it; it did not throw');
    await pool.dispose();
  });

  it('SmolLM2-135M with gate thresholds at half its bytes: a neuron cache that holds what a token keeps, and the resident logits bit for bit', async function () {
    const source = await requireSmollm2V2(this);
    const dir = path.join(work, 'smollm2-thresholds');
    await fs.cp(source, dir, { recursive: true });
    const m = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as ManifestV2;
    const { layers, ffnSize: F } = m.architecture;
    // thresholds that skip about half (|silu| ≤ 0.02), said to skip 40 % at least: 922 neurons kept a layer
    m.sparsity = { gateThresholds: Array(layers).fill(0.02), targetSkip: 0.4, measuredSkip: Array(layers).fill(0.4), measuredOn: 'test' };
    await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(m));
    const modelBytes = Object.entries(m.files).filter(([n]) => n !== 'tokenizer.json').reduce((n, [, f]) => n + f.bytes, 0);
    const resident = await load(dir, 4096);
    const half = await load(dir, (0.5 * modelBytes) / MIB);
    const plan = half.memoryPlan!;
    assert.ok(plan.residentBytes <= 0.5 * modelBytes, plan.summary);
    assert.ok(plan.ffnCachedNeurons >= Math.ceil(0.6 * F) && plan.ffnCachedNeurons < F, plan.summary);
    await assertSameLogits(resident, half);
    assert.ok(half.ffnStats.hits > half.ffnStats.misses, `the cache mostly hits (${half.ffnStats.hits} hits, ${half.ffnStats.misses} misses)`);
    await resident.dispose();
    await half.dispose();
  });

  it('SmolLM2-135M at half its bytes, on 1 and 2 threads: the resident logits bit for bit', async function () {
    const dir = await requireSmollm2V2(this);
    const m = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as ManifestV2;
    const modelBytes = Object.entries(m.files).filter(([n]) => n !== 'tokenizer.json').reduce((n, [, f]) => n + f.bytes, 0);
    const resident = await load(dir, 4096);
    const half = await load(dir, (0.5 * modelBytes) / MIB);
    assert.ok(half.memoryPlan!.residentBytes <= 0.5 * modelBytes, half.memoryPlan!.summary);
    await assertSameLogits(resident, half);
    await half.dispose();
    // on 2 threads a decoded token's slices read from disk are split across them too
    const halfTwo = await load(dir, (0.5 * modelBytes) / MIB, false, 2);
    const runs = halfTwo.threadPool!.runs;
    await assertSameLogits(resident, halfTwo);
    assert.ok(halfTwo.threadPool!.runs > runs, 'the threads ran');
    assert.ok(halfTwo.streamStats.sharedReads > 0, 'the threads shared the reads from weights.bin');
    await resident.dispose();
    await halfTwo.dispose();
  });
});
