// Probe for issue 20 item 3 (prefill on worker threads over shared wasm memory), before building it:
// one 128-token prefill chunk's matmulQ8P (SmolLM2-135M's FFN shape, 1536×576) split by TOKENS
// across this thread and one worker on a shared WebAssembly.Memory, timed against one thread; and
// whether splitting a chunk's tokens changes any output bit of matmulQ8P, downQ8 or attend (it
// must not: the threaded prefill is to give one thread's logits exactly).
// `node bench/threadsProbe.mjs` (plain JS: a worker_threads worker re-runs this file, no tsx loader).
//
// The shared module is kernels.wat with its memory import declared `shared` (and a maximum, which
// a shared memory needs). wabt 1.0.39's validate() rejects shared memories even with
// { threads: true } ("memories may not be shared"), but toBinary() writes them and V8 compiles
// them, so the text is validated unshared and the shared variant only converted.
import fs from 'node:fs';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import createWabt from 'wabt';

const n = 1536, d = 576, T = 128, HALF = T / 2, REPS = 200, nb = d / 32;
const W = 16, QX = W + (n / 4) * nb * 144, SX = QX + T * d * 2, OUT = SX + T * nb * 4, END = OUT + T * n * 4;

async function kernels(shared) {
  const wabt = await createWabt();
  const source = fs.readFileSync(new URL('../src/engine/wasm/kernels.wat', import.meta.url), 'utf8');
  const plain = wabt.parseWat('kernels.wat', source, { simd: true });
  plain.validate();
  plain.destroy();
  if (!shared) return source;
  const text = source.replace('(import "env" "memory" (memory 1))', '(import "env" "memory" (memory 1 65536 shared))');
  if (text === source) throw new Error('kernels.wat memory import not found');
  const m = wabt.parseWat('kernels.wat', text, { simd: true, threads: true });
  try { return new WebAssembly.Module(m.toBinary({}).buffer); } finally { m.destroy(); }
}

function worker() {
  const { module, memory, control } = workerData;
  const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
  let seen = 0;
  for (;;) {
    Atomics.wait(control, 0, seen);
    seen = Atomics.load(control, 0);
    k.matmulQ8P(W, n, d, QX + HALF * d * 2, SX + HALF * nb * 4, T - HALF, OUT + HALF * n * 4);
    Atomics.store(control, 1, seen);
    Atomics.notify(control, 1);
  }
}

async function speedup() {
  const pages = Math.ceil(END / 65536) + 1;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const module = await kernels(true);
  const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
  // panels hold int8 quants and f32 scales interleaved: small floats everywhere keep both finite
  const f = new Float32Array(memory.buffer, W, (END - W) / 4);
  for (let i = 0; i < f.length; i++) f[i] = Math.fround(((i * 2654435761) >>> 0) / 2 ** 32 - 0.5) * 0.01;
  const control = new Int32Array(new SharedArrayBuffer(8));
  const helper = new Worker(new URL(import.meta.url), { workerData: { module, memory, control } });
  await new Promise((resolve) => helper.once('online', resolve));
  const one = () => k.matmulQ8P(W, n, d, QX, SX, T, OUT);
  const two = () => {
    const generation = Atomics.add(control, 0, 1) + 1;
    Atomics.notify(control, 0);
    k.matmulQ8P(W, n, d, QX, SX, HALF, OUT);
    while (Atomics.load(control, 1) !== generation) Atomics.wait(control, 1, generation - 1, 1000);
  };
  const ms = { one: [], two: [] };
  for (let round = 0; round < 3; round++) {
    for (const [name, fn] of [['one', one], ['two', two]]) {
      for (let i = 0; i < 10; i++) fn();
      const t0 = performance.now();
      for (let i = 0; i < REPS; i++) fn();
      ms[name].push((performance.now() - t0) / REPS);
    }
  }
  await helper.terminate();
  const median = (a) => [...a].sort((x, y) => x - y)[1];
  console.log(`matmulQ8P ${n}×${d}, T=${T}: 1 thread ${median(ms.one).toFixed(2)} ms, 2 threads ${median(ms.two).toFixed(2)} ms,` +
    ` speedup ${(median(ms.one) / median(ms.two)).toFixed(2)}× (median of 3 rounds of ${REPS})`);
}

async function splitsExactly() {
  const wabt = await createWabt();
  const m = wabt.parseWat('kernels.wat', await kernels(false), { simd: true });
  const memory = new WebAssembly.Memory({ initial: 1000 });
  const k = new WebAssembly.Instance(new WebAssembly.Module(m.toBinary({}).buffer), { env: { memory } }).exports;
  m.destroy();
  let top = 16, seed = 1;
  const alloc = (bytes) => { const p = top; top += Math.ceil(bytes / 16) * 16; return p; };
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const bytes = (count) => { const p = alloc(count); const u = new Uint8Array(memory.buffer, p, count); for (let i = 0; i < count; i++) u[i] = random() * 256; return p; };
  const floats = (count, s = 1) => { const p = alloc(4 * count); const v = new Float32Array(memory.buffer, p, count); for (let i = 0; i < count; i++) v[i] = (random() - 0.5) * s; return p; };
  const same = (a, b, count) => Buffer.compare(Buffer.from(memory.buffer, a, count), Buffer.from(memory.buffer, b, count)) === 0;
  const h = 48; // an uneven split
  const w = floats((n / 4) * nb * 36, 0.01), x = floats(T * d), qx = alloc(T * d * 2), sx = alloc(T * nb * 4);
  k.quantizeI16(x, T * d, qx, sx);
  const m1 = alloc(T * n * 4), m2 = alloc(T * n * 4);
  k.matmulQ8P(w, n, d, qx, sx, T, m1);
  k.matmulQ8P(w, n, d, qx, sx, h, m2);
  k.matmulQ8P(w, n, d, qx + h * d * 2, sx + h * nb * 4, T - h, m2 + h * n * 4);
  const F = n, down = bytes(F * d), sT = floats(nb * F, 0.01), act = floats(T * F);
  const zBytes = (t) => t * nb * F * 2 + t * nb * (F / 32) * 4; // each thread its own scratch
  const z1 = alloc(zBytes(T)), z2 = alloc(zBytes(h)), z3 = alloc(zBytes(T - h)), d1 = alloc(T * d * 4), d2 = alloc(T * d * 4);
  k.downQ8(down, sT, act, T, F, d, z1, z1 + 2 * T * nb * F, d1);
  k.downQ8(down, sT, act, h, F, d, z2, z2 + 2 * h * nb * F, d2);
  k.downQ8(down, sT, act + h * F * 4, T - h, F, d, z3, z3 + 2 * (T - h) * nb * F, d2 + h * d * 4);
  const hd = 64, heads = 3, S0 = 10, S = S0 + T, stride = 4 * heads * hd;
  const q = floats(T * heads * hd), keys = floats(S * hd), values = floats(S * hd), s1 = alloc(4 * S), s2 = alloc(4 * S);
  const a1 = alloc(T * stride), a2 = alloc(T * stride);
  k.attend(q, stride, keys, values, S0, T, heads, hd, s1, a1, stride);
  k.attend(q, stride, keys, values, S0, h, heads, hd, s1, a2, stride);
  k.attend(q + h * stride, stride, keys, values, S0 + h, T - h, heads, hd, s2, a2 + h * stride, stride);
  console.log(`tokens split ${h}+${T - h}, outputs bit-identical to one call: matmulQ8P ${same(m1, m2, T * n * 4)},` +
    ` downQ8 ${same(d1, d2, T * d * 4)}, attend ${same(a1, a2, T * stride)}`);
}

if (isMainThread) {
  await splitsExactly();
  await speedup();
} else {
  worker();
}
