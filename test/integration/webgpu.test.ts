// The WebGPU backend on a real Dawn (npm `webgpu`), in CI on Mesa's llvmpipe: its logits against the
// WebAssembly kernels' on the v2 fixtures, the bundled model converted to v2 and SmolLM2 (when
// their files are here), forwardAll against forward, the backend choice, and the faults that move
// a run to WebAssembly (a destroyed device, a kernel that does not compile, a readback past its
// time limit). Without an adapter these skip saying why, except under CI=true, where they fail.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { probeAdapter, type AdapterFound } from '../../src/engine/gpu/adapter';
import { WebGpuFaultError } from '../../src/engine/gpu/gpuErrors';
import { GpuWithFallback } from '../../src/engine/gpu/gpuFallback';
import { kernelSource, WORKGROUP, type KernelName } from '../../src/engine/gpu/kernels';
import { f32AtOrBelow, GpuModelV2 } from '../../src/engine/gpu/modelGpu';
import { selectBackend } from '../../src/engine/gpu/selectBackend';
import { generateTokens } from '../../src/engine/generate';
import { startWorkerEngine } from '../../src/engine';
import { InProcessEngine } from '../../src/engine/inProcessEngine';
import { requireBuiltWorker } from '../helpers/fixture';
import { BUNDLED_V2, requireBundledV2, requireSmollm2V2, requireSmollm2V2Q4, SMOLLM2_V2, SMOLLM2_V2_Q4 } from '../helpers/smollm2';
import type { ManifestV2 } from '../../src/engine/manifestV2';
import { openModelDir, type ModelDir } from '../../src/engine/modelDir';
import { TextTokenizer } from '../../src/engine/tokenizer';
import { calibrateGateThresholds } from '../../src/engine/v2/calibrate';
import { loadModelV2 } from '../../src/engine/v2/loadV2';
import type { FlashOptions } from '../../src/engine/ffn/loadFlash';
import { FlashFfnV2, READ_GAP, recordBytesV2 } from '../../src/engine/v2/ffnStore';
import type { ModelV2 } from '../../src/engine/v2/modelV2';
import { dequantRowInto } from '../../src/engine/v2/matrix';
import { panelBytes, panelRoom, rowsToPanels } from '../../src/engine/v2/panels';
import { quantizeQ8 } from '../../src/engine/weights/q8';
import { KernelArena } from '../../src/engine/wasm/wasmKernels';
import { q4Bytes, q4Layout, quantizeQ4 } from '../../src/engine/weights/q4';
import { random } from '../helpers/kernelReference';

const root = path.resolve(__dirname, '../..');
const FIXTURE = path.join(root, 'test/fixtures/tiny-llama-v2');

/** A fresh adapter (an adapter gives one device). */
async function adapterOrSkip(ctx: Mocha.Context): Promise<AdapterFound> {
  const found = await probeAdapter();
  if (found.ok) return found;
  if (process.env.CI === 'true') throw new Error(`CI needs a WebGPU adapter (.ci/run installs Mesa 25's llvmpipe): ${found.reason}`);
  console.log(`      skipped: no WebGPU adapter here: ${found.reason}`);
  return ctx.skip(); // reason: no WebGPU adapter outside CI (printed above; CI throws instead)
}

async function loadWasm(dir: string, flash?: FlashOptions): Promise<ModelV2> {
  return loadModelV2((await openModelDir(dir)) as ModelDir & { manifest: ManifestV2 }, flash);
}

/** A memory budget that puts the FFN behind a neuron cache of 64 of the fixtures' 128 neurons. */
const BEHIND_CACHE: FlashOptions = { mode: 'sparse', memoryBudgetMB: 1024, residentNeuronsPerLayer: 64 };

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** One dispatch of kernel `name` over `count` invocations (step: T tokens, all of them rows);
 *  returns the last buffer's contents. */
async function runKernel(device: GPUDevice, name: KernelName, T: number, params: number[], inputs: ArrayBufferView[], outWords: number, count: number): Promise<Float32Array> {
  const make = (data: ArrayBufferView, usage: number) => {
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(data.byteLength / 16) * 16), usage, mappedAtCreation: true });
    new Uint8Array(b.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    b.unmap();
    return b;
  };
  const out = device.createBuffer({ size: 4 * outWords, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: 4 * outWords, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const module = device.createShaderModule({ code: kernelSource(name) });
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const buffers = [make(new Uint32Array([T, 0, T, 0]), GPUBufferUsage.UNIFORM), make(new Uint32Array(params), GPUBufferUsage.UNIFORM), ...inputs.map((d) => make(d, GPUBufferUsage.STORAGE)), out];
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(Math.ceil(count / WORKGROUP));
  pass.end();
  encoder.copyBufferToBuffer(out, 0, read, 0, 4 * outWords);
  device.queue.submit([encoder.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const result = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  return result;
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

// How far the GPU's logits may be from WASM's. The kernels do the WASM kernels' arithmetic operation
// for operation (their f64 steps in pairs of f32, llvmpipe's reassociations held off by keep()), so
// on a software adapter (CI's llvmpipe) they must be equal bit for bit: 0 was measured on every
// model here, prompt and decode. A hardware GPU's driver may contract a · b + c or approximate a
// division where llvmpipe does not; there the bound is issue 21's 1e-3.
const bound = (found: AdapterFound) => (found.isSoftware ? 0 : 1e-3);
const MODELS: { name: string; dir: string; flash?: FlashOptions; steps: number }[] = [
  { name: 'tiny-llama-v2 (fixture)', dir: FIXTURE, steps: 64 },
  // every neuron kept (thresholds 0): a decoded token gathers its 128 in two turns of 64
  { name: 'tiny-llama-v2 (fixture) behind a 64-neuron cache', dir: FIXTURE, flash: BEHIND_CACHE, steps: 64 },
  { name: 'tiny-qwen2-v2 (fixture, attention bias)', dir: path.join(root, 'test/fixtures/tiny-qwen2-v2'), steps: 64 },
  { name: 'tiny-qwen2-v2 (fixture) behind a 64-neuron cache', dir: path.join(root, 'test/fixtures/tiny-qwen2-v2'), flash: BEHIND_CACHE, steps: 64 },
  { name: 'tiny-relu-v2 (fixture, ReLU gate)', dir: path.join(root, 'test/fixtures/tiny-relu-v2'), steps: 64 },
  { name: 'bundled model converted to v2', dir: BUNDLED_V2, steps: 64 },
  // the imported checkpoints: llvmpipe on 2 cores decodes them at 0.15 s (8-bit) and 0.35 s a token
  { name: 'SmolLM2-135M v2', dir: SMOLLM2_V2, steps: 64 },
  // the default import: attention and gate q4_32 (matmulQ4; its embedding is GGUF Q8_0, so q8_32)
  { name: 'SmolLM2-135M v2, 4-bit', dir: SMOLLM2_V2_Q4, steps: 64 },
];

describe('WebGPU backend on Dawn', function () {
  this.timeout(600_000);

  it('probing finds an adapter or says why, within 200 ms after Dawn loads', async function () {
    const first = await probeAdapter();
    const again = await probeAdapter();
    if (!first.ok && process.env.CI === 'true') assert.fail(first.reason);
    assert.ok(again.probeMs < 200, `probe took ${again.probeMs} ms`);
    if (!again.ok) assert.match(again.reason, /adapter|webgpu/i);
    else assert.ok(again.description.length > 0);
  });

  it('without a GPU driver, probing (Dawn\'s load included) answers within 200 ms with the reason', function () {
    // a process whose Vulkan loader finds no driver: what a user's machine without a GPU sees
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'flashcode-probe-')), 'probe.ts');
    fs.writeFileSync(script, `import { probeAdapter } from ${JSON.stringify(path.join(root, 'src/engine/gpu/adapter.ts'))};
      probeAdapter().then((r) => { console.log(JSON.stringify({ ok: r.ok, ms: r.probeMs, reason: r.ok ? '' : r.reason })); process.exit(0); });`);
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], {
      encoding: 'utf8', timeout: 60_000, env: { ...process.env, VK_DRIVER_FILES: '/nonexistent.json', VK_ICD_FILENAMES: '/nonexistent.json' },
    });
    const line = child.stdout.trim().split('\n').pop() ?? '';
    const result = JSON.parse(line) as { ok: boolean; ms: number; reason: string };
    assert.equal(result.ok, false, child.stderr);
    assert.match(result.reason, /no WebGPU adapter/);
    console.log(`      no adapter: ${result.ms.toFixed(0)} ms`);
    assert.ok(result.ms <= 200, `${result.ms} ms`);
    fs.rmSync(path.dirname(script), { recursive: true, force: true });
  });

  it('one q4_32 matmul and embedding lookup on the GPU equal matmulQ4 and dequantRowInto bit for bit', async function () {
    const { adapter } = await adapterOrSkip(this);
    const device = await adapter.requestDevice();
    try {
      // 13 rows: three runs of matmulQ4's four-row loop and one row of its tail; 5 tokens: a partial group of four
      const rows = 13, cols = 96, T = 5, rnd = random(7);
      const w = Float32Array.from({ length: rows * cols }, (_, i) => ((i >> 5) % 3 === 2 ? 0.3 + rnd() * 0.1 : rnd() * (rnd() > 0.45 ? 1 : 0.01)));
      const bytes = quantizeQ4(w, rows, cols);
      const at = q4Layout(rows, cols);
      const arena = new KernelArena(4 * q4Bytes(rows, cols) + 16 * T * cols + 4 * T * rows + 4096);
      const W = arena.bytes(bytes.length);
      W.view.set(bytes);
      const x = arena.floats(T * cols);
      x.view.set(Float32Array.from({ length: T * cols }, () => rnd() * 3));
      const qx = arena.bytes(2 * T * cols), sx = arena.floats(T * cols / 32), out = arena.floats(T * rows);
      arena.kernels.quantizeI16(x.ptr, T * cols, qx.ptr, sx.ptr);
      arena.kernels.matmulQ4(W.ptr, W.ptr + at.scales, W.ptr + at.mins, rows, cols, qx.ptr, sx.ptr, T, out.ptr);
      const qx32 = Int32Array.from(new Int16Array(arena.memory.buffer, qx.ptr, T * cols));
      const gpu = await runKernel(device, 'matmulQ4', T, [rows, cols, 0, 0, at.scales / 4, at.mins / 4], [bytes, qx32, sx.view], T * rows, Math.ceil(T / 4) * rows);
      assert.deepEqual(new Uint32Array(gpu.buffer), new Uint32Array(out.view.slice().buffer));

      const ids = Uint32Array.from([3, 0, 12, 7, 3]);
      const expected = new Float32Array(ids.length * cols);
      const matrix = { ptr: W.ptr, scales: W.ptr + at.scales, mins: W.ptr + at.mins, rows, cols };
      ids.forEach((id, t) => dequantRowInto(arena.memory.buffer, matrix, id, expected, t * cols));
      const rowsGpu = await runKernel(device, 'embedQ4', ids.length, [cols, at.scales / 4, at.mins / 4], [ids, bytes], ids.length * cols, ids.length * cols);
      assert.deepEqual(new Uint32Array(rowsGpu.buffer), new Uint32Array(expected.buffer));
    } finally {
      device.destroy();
    }
  });

  it('a threshold rounded down to f32 (f32AtOrBelow) keeps exactly the f32 values gateSelect\'s f64 compare keeps', () => {
    const next = (f: number, up: boolean) => { // the f32 neighbour of an f32
      const v = Float32Array.of(f), bits = new Int32Array(v.buffer);
      if (f === 0) bits[0] = up ? 1 : 0x80000001 | 0; else bits[0] += (f > 0) === up ? 1 : -1;
      return v[0];
    };
    const rnd = random(3);
    const cases = [0, -0, Number.MIN_VALUE, -Number.MIN_VALUE, 0.05, 0.1, 1 / 3, 1, 2 ** -140, 3.4e38, -0.05, ...Array.from({ length: 200 }, () => rnd() * 10 ** Math.round(rnd() * 8))];
    for (const x of cases) {
      const lo = f32AtOrBelow(x);
      assert.equal(lo, Math.fround(lo), `${x}: an f32`);
      assert.ok(lo <= x, `${x}: ${lo} is at or below it`);
      for (const a of [lo, next(lo, true), next(lo, false), Math.fround(x)]) assert.equal(a > lo, a > x, `x ${x}, a ${a}`);
    }
  });

  // kind: gateSelect's activation code; gpu: the WGSL kernels' (ACTIVATIONS in modelGpu.ts)
  for (const { act, kind, gpu, threshold } of [{ act: 'silu', kind: 1, gpu: 0, threshold: 0.05 }, { act: 'relu', kind: 0, gpu: 1, threshold: 0 }, { act: 'squared relu', kind: 2, gpu: 2, threshold: 0.3 }]) {
    it(`sparseUp (${act}, threshold ${threshold}) skips what gateSelect skips and gives gatherUpQ8's bits, 0 for a skipped neuron (so down reads only the kept columns)`, async function () {
      const { adapter } = await adapterOrSkip(this);
      const device = await adapter.requestDevice();
      try {
        const F = 128, d = 96, nb = d / 32, rnd = random(11 + kind);
        const up = Float32Array.from({ length: F * d }, () => rnd() * (rnd() > 0.3 ? 1 : 0.02));
        const gateIn = Float32Array.from({ length: F }, (_, j) => (j % 17 === 0 ? 0 : rnd() * 4));
        const x = Float32Array.from({ length: d }, () => rnd() * 3);
        const arena = new KernelArena(16 * F * d + 65536);
        const U = arena.bytes(panelRoom(F, d));
        U.view.set(quantizeQ8(up, F, d));
        rowsToPanels(arena.memory.buffer, U.ptr, F, d);
        const xs = arena.floats(d), qx = arena.bytes(2 * d), sx = arena.floats(nb);
        xs.view.set(x);
        arena.kernels.quantizeI16(xs.ptr, d, qx.ptr, sx.ptr);
        // WASM: ModelV2.sparseStep's kernels
        const gate = arena.floats(F), ids = arena.ints(F), hk = arena.floats(F);
        gate.view.set(gateIn);
        const kept = arena.kernels.gateSelect(gate.ptr, F, kind, threshold, ids.ptr);
        arena.kernels.gatherUpQ8(U.ptr, 0, 1, ids.ptr, kept, d, qx.ptr, sx.ptr, gate.ptr, hk.ptr);
        assert.ok(kept > F / 4 && kept < F, `${kept} of ${F} kept: some skipped, some not`);
        // GPU
        const thresholdBits = new Uint32Array(Float32Array.of(f32AtOrBelow(threshold)).buffer)[0];
        const qx32 = Int32Array.from(new Int16Array(arena.memory.buffer, qx.ptr, d));
        const h = await runKernel(device, 'sparseUp', 1, [F, d, gpu, thresholdBits], [gateIn, U.view.subarray(0, panelBytes(F, d)), qx32, sx.view], F, F);
        const expected = new Float32Array(F);
        for (let i = 0; i < kept; i++) expected[ids.view[i]] = hk.view[i];
        // h: the kept neurons' up rows times their activation, 0 elsewhere
        assert.deepEqual(new Uint32Array(h.buffer), new Uint32Array(expected.buffer));
      } finally {
        device.destroy();
      }
    });
  }

  for (const model of MODELS) {
    it(`${model.name}: prompt logits as WASM's and the same greedy tokens over ${model.steps} steps`, async function () {
      const found = await adapterOrSkip(this);
      const { adapter } = found;
      const dir = model.dir === SMOLLM2_V2 ? await requireSmollm2V2(this) : model.dir === SMOLLM2_V2_Q4 ? await requireSmollm2V2Q4(this) : model.dir === BUNDLED_V2 ? requireBundledV2(this) : model.dir;
      const wasm = await loadWasm(dir, model.flash);
      if (model.flash) assert.ok(wasm.weights.ffn instanceof FlashFfnV2 && wasm.weights.ffn.capacity < wasm.arch.ffnSize, 'the FFN behind a neuron cache smaller than a layer');
      if (model.dir === SMOLLM2_V2_Q4) assert.ok(['qkv', 'out', 'gate'].every((m) => 'mins' in wasm.weights.layers[0][m as 'qkv']), 'the default import stores attention and gate as q4_32');
      const gpu = await GpuModelV2.load(adapter, wasm);
      try {
        if (model.flash) assert.equal(gpu.sparseLayers, wasm.arch.layers, 'every layer gathers through the cache at decode');
        const V = wasm.arch.vocabSize;
        const prompt = Array.from({ length: 12 }, (_, i) => (i * 131 + 7) % V);
        const kw = wasm.newCache(), kg = gpu.newCache();
        const a = await wasm.forwardAll(prompt, kw), b = await gpu.forwardAll(prompt, kg);
        const prefill = maxDiff(a, b);
        assert.ok(prefill <= bound(found), `prompt logits differ by ${prefill}`);
        let worst = prefill;
        let token = argmax(a.subarray(a.length - V));
        assert.equal(argmax(b.subarray(b.length - V)), token);
        for (let s = 0; s < model.steps; s++) {
          const la = await wasm.forward([token], kw), lb = await gpu.forward([token], kg);
          worst = Math.max(worst, maxDiff(la, lb));
          token = argmax(la);
          assert.equal(argmax(lb), token, `greedy token ${s} differs`);
        }
        console.log(`      max |logit difference| ${prefill.toExponential(2)} over the ${prompt.length} prompt positions, ${worst.toExponential(2)} with ${model.steps} decode steps`);
        assert.ok(worst <= bound(found), `decode logits differ by ${worst}`);
        assert.equal(kg.length, prompt.length + model.steps);
      } finally {
        await Promise.all([gpu.dispose(), wasm.dispose()]);
      }
    });
  }

  it('decode with every neuron forced active through the sparse kernels equals the dense path; calibrated thresholds skip as WASM does', async function () {
    const found = await adapterOrSkip(this);
    const wasm = await loadWasm(FIXTURE);
    const { layers, vocabSize: V } = wasm.arch;
    const dense = await GpuModelV2.load(found.adapter, wasm);
    // a threshold below every nonzero |silu|: the sparse machinery, skipping only exact zeros
    wasm.gateThresholds = Array(layers).fill(Number.MIN_VALUE);
    const forced = await GpuModelV2.load((await adapterOrSkip(this)).adapter, wasm);
    const prompt = [5, 17, 300, 42, 9, 77];
    const calibration = await calibrateGateThresholds(wasm, [prompt, prompt.map((id) => (id * 3 + 1) % V)], 0.5);
    wasm.gateThresholds = calibration.gateThresholds;
    const skipping = await GpuModelV2.load((await adapterOrSkip(this)).adapter, wasm);
    try {
      assert.deepEqual([dense.sparseLayers, forced.sparseLayers, skipping.sparseLayers], [0, layers, layers]);
      const [kd, kf, ks, kw] = [dense.newCache(), forced.newCache(), skipping.newCache(), wasm.newCache()];
      let token = argmax(await dense.forward(prompt, kd));
      for (const pass of [forced, skipping]) await pass.forward(prompt, pass === forced ? kf : ks);
      await wasm.forward(prompt, kw);
      const before = { ...wasm.ffnCounts };
      let forcedDiff = 0, skippingDiff = 0, skipVsDense = 0;
      for (let s = 0; s < 16; s++) {
        const [ld, lf, ls, lw] = [await dense.forward([token], kd), await forced.forward([token], kf), await skipping.forward([token], ks), await wasm.forward([token], kw)];
        forcedDiff = Math.max(forcedDiff, maxDiff(lf, ld));
        skippingDiff = Math.max(skippingDiff, maxDiff(ls, lw));
        skipVsDense = Math.max(skipVsDense, maxDiff(ls, ld));
        assert.equal(argmax(lf), argmax(ld), `forced: greedy token ${s}`);
        assert.equal(argmax(ls), argmax(lw), `calibrated: greedy token ${s}`);
        token = argmax(ld);
      }
      const skipped = wasm.ffnCounts.skipped - before.skipped, computed = wasm.ffnCounts.computed - before.computed;
      console.log(`      forced active against dense: ${forcedDiff.toExponential(2)}; calibrated (WASM skipped ${(100 * skipped / (skipped + computed)).toFixed(0)} %) against WASM: ${skippingDiff.toExponential(2)}, against dense: ${skipVsDense.toExponential(2)}`);
      assert.ok(skipped > 0.3 * (skipped + computed), 'the calibrated thresholds skip neurons');
      // every neuron kept, the sparse kernels do the dense ones' arithmetic (sparseUp's rows are
      // matmul's, down reads h as dense decode does): the same bits as far as the adapter keeps them
      assert.ok(forcedDiff <= bound(found), `forced active differs from dense by ${forcedDiff}`);
      assert.ok(skippingDiff <= bound(found), `the GPU's skipping differs from WASM's by ${skippingDiff}`);
      assert.ok(skipVsDense > 10 * skippingDiff, 'skipping neurons changes the logits: the GPU did skip them');
    } finally {
      await Promise.all([dense.dispose(), forced.dispose(), skipping.dispose()]);
    }
  });

  it('behind the neuron cache with calibrated thresholds, a decoded token reads its misses from ffn.bin, as on WASM', async function () {
    const found = await adapterOrSkip(this);
    const [wasm, onGpu] = [await loadWasm(FIXTURE, BEHIND_CACHE), await loadWasm(FIXTURE, BEHIND_CACHE)];
    const { layers, ffnSize: F, dModel: d } = wasm.arch;
    const prompt = [5, 17, 300, 42, 9, 77, 128, 3];
    const { gateThresholds } = await calibrateGateThresholds(wasm, [prompt, prompt.map((id) => (id * 7 + 1) % 512)], 0.6);
    wasm.gateThresholds = onGpu.gateThresholds = gateThresholds;
    const gpu = await GpuModelV2.load(found.adapter, onGpu);
    try {
      const [kw, kg] = [wasm.newCache(), gpu.newCache()];
      let token = argmax(await wasm.forward(prompt, kw));
      await gpu.forward(prompt, kg);
      const before = { ...onGpu.ffnStats };
      const steps = 24;
      let worst = 0;
      for (let s = 0; s < steps; s++) {
        const [la, lb] = [await wasm.forward([token], kw), await gpu.forward([token], kg)];
        worst = Math.max(worst, maxDiff(la, lb));
        token = argmax(la);
        assert.equal(argmax(lb), token, `greedy token ${s}`);
      }
      const after = onGpu.ffnStats;
      const gathered = after.hits + after.misses - before.hits - before.misses, misses = after.misses - before.misses;
      console.log(`      max |logit difference| ${worst.toExponential(2)}; the GPU's tokens gathered ${(gathered / steps / layers).toFixed(0)} of ${F} neurons a layer, ${misses} misses read`);
      assert.ok(worst <= bound(found), `logits differ by ${worst}`);
      assert.equal(after.tokens - before.tokens, steps);
      assert.ok(gathered < 0.6 * steps * layers * F, 'the thresholds skip neurons');
      assert.ok(misses > 0 && misses < gathered, 'some neurons were cached, some read');
      // the misses' records and, in a span between two misses, at most READ_GAP − 1 others
      const records = (after.bytesRead - before.bytesRead) / recordBytesV2(d), reads = after.reads - before.reads;
      assert.ok(records >= misses && records <= misses + (READ_GAP - 1) * (misses - reads), `${records} records read for ${misses} misses`);
    } finally {
      await Promise.all([gpu.dispose(), wasm.dispose(), onGpu.dispose()]);
    }
  });

  it('a record of ffn.bin gone bad under the neuron cache fails the request with the file\'s error, not a GPU fault; put right, the GPU runs on', async function () {
    const found = await adapterOrSkip(this);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flashcode-gpu-flash-'));
    fs.cpSync(FIXTURE, dir, { recursive: true });
    const wasm = await loadWasm(dir, BEHIND_CACHE);
    const gpu = await GpuModelV2.load(found.adapter, wasm);
    const file = path.join(dir, 'ffn.bin');
    const fd = fs.openSync(file, 'r+');
    try {
      // layer 1, neuron 7: not among the 64 its cache holds after the load's warm-up (the second turn's)
      const header = Buffer.alloc(96);
      fs.readSync(fd, header, 0, 96, 0);
      const at = Number(header.readBigUInt64LE(64 + 16)) + 7 * recordBytesV2(64) + 2 * 64;
      const good = Buffer.alloc(4);
      fs.readSync(fd, good, 0, 4, at);
      const nan = Buffer.alloc(4);
      nan.writeFloatLE(NaN);
      fs.writeSync(fd, nan, 0, 4, at);
      await assert.rejects(gpu.forward([5], gpu.newCache()), (e: Error) => !(e instanceof WebGpuFaultError) && /ffn\.bin is corrupt \(layer 1 neuron 7 has a scale of NaN\)/.test(e.message));
      fs.writeSync(fd, good, 0, 4, at);
      const reference = await loadWasm(dir, BEHIND_CACHE);
      const [a, b] = [await reference.forward([5, 9], reference.newCache()), await gpu.forward([5, 9], gpu.newCache())];
      assert.ok(maxDiff(a, b) <= bound(found), 'the GPU and the cache it mirrors were left as they were');
      const [c, d] = [await reference.forward([5], reference.newCache()), await gpu.forward([5], gpu.newCache())];
      assert.ok(maxDiff(c, d) <= bound(found), 'a decoded token through the cache');
      await reference.dispose();
    } finally {
      fs.closeSync(fd);
      await Promise.all([gpu.dispose(), wasm.dispose()]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('forwardAll equals forward position by position, and a second cache is replayed, not mixed up', async function () {
    const found = await adapterOrSkip(this);
    const wasm = await loadWasm(FIXTURE);
    const gpu = await GpuModelV2.load(found.adapter, wasm);
    try {
      const V = wasm.arch.vocabSize;
      const ids = [5, 17, 300, 42, 9, 77, 128, 3, 64, 200];
      const all = await gpu.forwardAll(ids, gpu.newCache());
      const one = gpu.newCache();
      for (const [t, id] of ids.entries()) {
        const logits = await gpu.forward([id], one);
        assert.ok(maxDiff(logits, all.subarray(t * V, (t + 1) * V)) <= 1e-5, `position ${t}`);
      }
      // a third cache that shares only a prefix, then the second again: each sees its own past
      const other = gpu.newCache();
      await gpu.forward([5, 17, 1], other);
      const next = await gpu.forward([9], one);
      const reference = wasm.newCache();
      await wasm.forward(ids, reference);
      assert.ok(maxDiff(next, await wasm.forward([9], reference)) <= bound(found));
    } finally {
      await gpu.dispose();
    }
  });

  it('the engine runs on WebGPU when told to and says why; auto never picks a software adapter', async function () {
    const found = await adapterOrSkip(this);
    const request = { prompt: { kind: 'text' as const, text: 'def add(a, b):' }, maxNewTokens: 16, temperature: 0, topP: 1, seed: 1, timeBudgetMs: 60_000 };
    const onWasm = await InProcessEngine.load({ modelDir: FIXTURE, backend: 'wasm' });
    const onGpu = await InProcessEngine.load({ modelDir: FIXTURE, backend: 'webgpu' });
    const auto = await InProcessEngine.load({ modelDir: FIXTURE, backend: 'auto' });
    try {
      assert.equal(onWasm.info.backend, 'WebAssembly SIMD kernels');
      assert.match(onWasm.info.backendReason ?? '', /"wasm"/);
      assert.match(onGpu.info.backend, /^WebGPU \(/);
      assert.equal(onGpu.info.backendWarning, undefined);
      if (found.isSoftware) {
        assert.equal(auto.info.backend, 'WebAssembly SIMD kernels');
        assert.match(auto.info.backendReason ?? '', /software/);
      }
      const [a, b] = [await onWasm.generate(request), await onGpu.generate(request)];
      assert.deepEqual(b.tokenIds, a.tokenIds);
      assert.equal(b.backendFault, undefined);
    } finally {
      await Promise.all([onWasm.dispose(), onGpu.dispose(), auto.dispose()]);
    }
  });

  it('auto calibrates on a hardware adapter and keeps the faster backend, saying both times', async function () {
    const found = await adapterOrSkip(this);
    const wasm = await loadWasm(FIXTURE);
    // the adapter Dawn found, taken for hardware: the calibration then decides (llvmpipe loses to WASM)
    const choice = await selectBackend(wasm, 'auto', { probe: async () => ({ ...found, isSoftware: false }), calibration: { promptTokens: 8, decodeTokens: 2 } });
    assert.match(choice.reason, /calibration at load, 8 prompt \+ 2 decode tokens: WebGPU \d+ ms, WebAssembly \d+ ms/);
    const [gpuMs, wasmMs] = [...choice.reason.matchAll(/(\d+) ms/g)].map((m) => Number(m[1]));
    if (gpuMs !== wasmMs) assert.equal(choice.backend, gpuMs < wasmMs ? 'webgpu' : 'wasm'); // equal: a tie within the rounding
    assert.equal(choice.warning, undefined);
    await choice.pass.dispose();
  });

  it('Dawn loads in the inference worker (the bundled dist/engineWorker.js) and runs the model there', async function () {
    await adapterOrSkip(this);
    const worker = await startWorkerEngine({ modelDir: FIXTURE, backend: 'webgpu', workerScript: requireBuiltWorker() });
    const local = await InProcessEngine.load({ modelDir: FIXTURE, backend: 'wasm' });
    try {
      assert.match(worker.info.backend, /^WebGPU \(/);
      const request = { prompt: { kind: 'text' as const, text: 'def f(' }, maxNewTokens: 8, temperature: 0, topP: 1, seed: 1, timeBudgetMs: 60_000 };
      assert.deepEqual((await worker.generate(request)).tokenIds, (await local.generate(request)).tokenIds);
    } finally {
      await Promise.all([worker.dispose(), local.dispose()]);
    }
  });

  it('a model whose budget streams whole layers and matrices from disk stays on WASM, the warning naming why (no probe)', async () => {
    const streamed = await loadWasm(FIXTURE, { mode: 'sparse', memoryBudgetMB: 1024, streamEverything: true });
    const choice = await selectBackend(streamed, 'webgpu', { probe: () => assert.fail('an unsupported model needs no adapter') });
    assert.equal(choice.pass, streamed);
    assert.match(choice.warning ?? '', /streams whole FFN layers from ffn\.bin/);
    await streamed.dispose();
  });

  it('without an adapter WASM runs: silently on auto, with a warning when webgpu was asked for', async () => {
    const wasm = await loadWasm(FIXTURE);
    const probe = async () => ({ ok: false as const, reason: 'no WebGPU adapter: no GPU driver Dawn can use (Vulkan, Metal or Direct3D 12)', probeMs: 1 });
    const auto = await selectBackend(wasm, 'auto', { probe });
    assert.equal(auto.pass, wasm);
    assert.equal(auto.warning, undefined);
    assert.match(auto.reason, /no GPU driver/);
    const forced = await selectBackend(wasm, 'webgpu', { probe });
    assert.equal(forced.backend, 'wasm');
    assert.match(forced.warning ?? '', /^flashcode.engine.backend is "webgpu", but the model runs on WebAssembly: no WebGPU adapter/);
    const off = await selectBackend(wasm, 'wasm', { probe: () => assert.fail('wasm must not probe') });
    assert.equal(off.pass, wasm);
  });

  describe('faults: WASM finishes the request, once told, and WebGPU stays off', () => {
    const request = { prompt: { kind: 'text' as const, text: 'function f(' }, maxNewTokens: 24, temperature: 0, topP: 1, seed: 1, timeBudgetMs: 60_000 };

    /** The tokens of WASM alone, from a model of its own: the fallback's WASM memory must not hold
     *  this run's keys and values, or a fallback that skipped the replay would pass. */
    async function reference(tokenizer: TextTokenizer, promptIds: number[], flash?: FlashOptions) {
      const wasm = await loadWasm(FIXTURE, flash);
      try {
        return await generateTokens({ model: wasm, tokenizer, promptIds, stopIds: new Set(), contextTokens: wasm.contextTokens, kv: wasm.newCache() }, request);
      } finally {
        await wasm.dispose();
      }
    }

    // the FFN behind the neuron cache: a fault can also come in a layer's readback of the gate's choice
    for (const flash of [undefined, BEHIND_CACHE]) it(`a device destroyed mid-generation${flash ? ' (the FFN behind the neuron cache)' : ''}`, async function () {
      const { adapter } = await adapterOrSkip(this);
      const wasm = await loadWasm(FIXTURE, flash);
      const tokenizer = await TextTokenizer.load(path.join(FIXTURE, 'tokenizer.json'), wasm.arch.vocabSize);
      const promptIds = tokenizer.encode('function f(');
      const expected = await reference(tokenizer, promptIds, flash);
      const gpu = await GpuModelV2.load(adapter, wasm);
      const faults: string[] = [];
      const pass = new GpuWithFallback(gpu, wasm, (reason) => faults.push(reason));
      let pieces = 0;
      const result = await generateTokens({ model: pass, tokenizer, promptIds, stopIds: new Set(), contextTokens: pass.contextTokens, kv: pass.newCache() }, request, {
        onText: () => { if (++pieces === 3) gpu.device.destroy(); },
      });
      assert.ok(pieces >= 3, 'the fixture generated too little to destroy the device mid-run');
      assert.deepEqual(result.tokenIds, expected.tokenIds);
      assert.equal(faults.length, 1);
      assert.match(faults[0], /device-lost|WebGPU/);
      assert.equal(pass.onWebGpu, false);
      const again = await generateTokens({ model: pass, tokenizer, promptIds, stopIds: new Set(), contextTokens: pass.contextTokens, kv: pass.newCache() }, request);
      assert.deepEqual(again.tokenIds, expected.tokenIds);
      assert.equal(faults.length, 1, 'told once');
      await wasm.dispose();
    });

    it('in the engine: the generation that hit the fault says so once, and ModelInfo names WASM and why', async function () {
      await adapterOrSkip(this);
      const engine = await InProcessEngine.load({ modelDir: FIXTURE, backend: 'webgpu' });
      const plain = await InProcessEngine.load({ modelDir: FIXTURE, backend: 'wasm' });
      try {
        assert.match(engine.info.backend, /^WebGPU/);
        const first = await engine.generate(request);
        // fault injection from outside: the engine's GPU device, destroyed between generations
        const gpu = (engine as unknown as { model: { gpu: GpuModelV2 } }).model.gpu;
        gpu.device.destroy();
        const expected = await plain.generate(request);
        const hit = await engine.generate({ ...request, prompt: { kind: 'text', text: 'function g(' } });
        assert.deepEqual(first.tokenIds, (await plain.generate(request)).tokenIds);
        assert.match(hit.backendFault ?? '', /WebGPU/);
        assert.deepEqual(hit.tokenIds, (await plain.generate({ ...request, prompt: { kind: 'text', text: 'function g(' } })).tokenIds);
        assert.equal(engine.info.backend, 'WebAssembly SIMD kernels');
        assert.match(engine.info.backendReason ?? '', /WebGPU failed/);
        const after = await engine.generate(request);
        assert.equal(after.backendFault, undefined, 'told once');
        assert.deepEqual(after.tokenIds, expected.tokenIds);
      } finally {
        await Promise.all([engine.dispose(), plain.dispose()]);
      }
    });

    for (const flash of [undefined, BEHIND_CACHE]) it(`a readback past its time limit (a mapAsync that does not resolve in time)${flash ? ', the FFN behind the neuron cache' : ''}`, async function () {
      const { adapter } = await adapterOrSkip(this);
      const wasm = await loadWasm(FIXTURE, flash);
      const tokenizer = await TextTokenizer.load(path.join(FIXTURE, 'tokenizer.json'), wasm.arch.vocabSize);
      const promptIds = tokenizer.encode('function f(');
      const expected = await reference(tokenizer, promptIds, flash);
      const gpu = await GpuModelV2.load(adapter, wasm, { readbackTimeLimitMs: 0 });
      const faults: string[] = [];
      const pass = new GpuWithFallback(gpu, wasm, (reason) => faults.push(reason));
      const result = await generateTokens({ model: pass, tokenizer, promptIds, stopIds: new Set(), contextTokens: pass.contextTokens, kv: pass.newCache() }, request);
      assert.deepEqual(result.tokenIds, expected.tokenIds);
      assert.equal(faults.length, 1);
      assert.match(faults[0], /timeout/);
      await wasm.dispose();
    });

    it('a kernel that does not compile: the load fails by name, and the engine runs WASM with a warning', async function () {
      const { adapter } = await adapterOrSkip(this);
      const wasm = await loadWasm(FIXTURE);
      const rewriteKernel = (name: string, wgsl: string) => (name === 'softmax' ? wgsl.replace('var m = -3.4e38;', 'var m = -3.4e38 +;') : wgsl);
      await assert.rejects(GpuModelV2.load(adapter, wasm, { rewriteKernel }), (e: unknown) => e instanceof WebGpuFaultError && e.kind === 'compile' && /softmax/.test(e.message));
      const choice = await selectBackend(wasm, 'webgpu', { gpu: { rewriteKernel } });
      assert.equal(choice.backend, 'wasm');
      assert.match(choice.warning ?? '', /"webgpu".*compile/);
      assert.equal(choice.pass, wasm);
    });
  });
});
