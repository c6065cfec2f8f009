// The sparse FFN's decode kernels against each other on SmolLM2's FFN shape (30 layers of [1536][576],
// random q8 weights: 4 × 27 MB, more than the caches), one process, interleaved: `npm run
// bench:sparse-kernels -- [--keep 0.5,0.1] [--reps 7]`. Up rows: gatherUpQ8 (four kept rows at a
// time) against gatherDotsQ8P/gatherDotsQ8 (a row at a time), panels and row layout; down columns:
// gatherDownQ8 (downQ8's pair dots over z quantized per 32 kept neurons) against axpyQ8 (f32 axpy
// per kept neuron), down-block and row layout; the dense kernels as the yardstick. Prints JSON:
// median ms per token (30 layers) per kernel and keep share.
import { parseArgs } from 'node:util';
import { KernelArena } from '../src/engine/wasm/wasmKernels';

const { values } = parseArgs({ options: { keep: { type: 'string', default: '0.5,0.1' }, reps: { type: 'string', default: '7' } } });
const L = 30, F = 1536, d = 576, nb = d / 32, matBytes = (F * d * 9) / 8;
const arena = new KernelArena(L * (4 * matBytes + F * nb * 4) + (32 << 20));
const k = arena.kernels;
let seed = 1;
const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
const layers = Array.from({ length: L }, () => {
  const up = arena.bytes(Math.ceil(F / 4) * nb * 144), upRows = arena.bytes(matBytes), down = arena.bytes(matBytes), downRows = arena.bytes(matBytes);
  for (const m of [up, upRows, down, downRows]) for (let i = 0; i < m.view.length; i++) m.view[i] = (rnd() * 256) | 0;
  for (const m of [upRows, down, downRows]) new Float32Array(m.view.buffer, m.ptr + F * d, F * nb).fill(0.01);
  for (let p = 0; p < F / 4; p++) for (let b = 0; b < nb; b++) new Float32Array(up.view.buffer, up.ptr + (p * nb + b) * 144 + 128, 4).fill(0.01);
  const sT = arena.floats(F * nb);
  sT.view.fill(0.01);
  return { up, upRows, down, downRows, sT };
});
const x = arena.floats(d), qx = arena.bytes(2 * d), sx = arena.floats(nb);
x.view.forEach((_, i) => { x.view[i] = rnd() - 0.5; });
k.quantizeI16(x.ptr, d, qx.ptr, sx.ptr);
const out = arena.floats(F), g = arena.floats(F), h = arena.floats(F), y = arena.floats(d);
g.view.fill(1);
h.view.forEach((_, i) => { h.view[i] = rnd(); });
const zq = arena.bytes(F * nb * 128), zs = arena.floats(F * nb), rows = arena.ints(F), at = arena.ints(F + 1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const results: Record<string, Record<string, number>> = {};
for (const keep of values.keep.split(',').map(Number)) {
  const kept: number[] = [];
  for (let j = 0; j < F; j++) if (rnd() < keep) kept.push(j);
  rows.view.set(kept);
  const n = kept.length;
  const downAt = (ptr: number, R: number) => { kept.forEach((j, i) => { at.view[i] = ptr + (j >> 5) * 32 * d + (j & 31) * R; }); at.view[n] = at.view[n - 1]; };
  const kernels: Record<string, () => void> = {
    'up dense: matmulQ8P (every row)': () => { for (const l of layers) k.matmulQ8P(l.up.ptr, F, d, qx.ptr, sx.ptr, 1, out.ptr); },
    'up panels: gatherUpQ8': () => { for (const l of layers) k.gatherUpQ8(l.up.ptr, 0, 1, rows.ptr, n, d, qx.ptr, sx.ptr, g.ptr, out.ptr); },
    'up panels: gatherDotsQ8P': () => { for (const l of layers) k.gatherDotsQ8P(l.up.ptr, rows.ptr, n, d, qx.ptr, sx.ptr, out.ptr); },
    'up rows: gatherUpQ8': () => { for (const l of layers) k.gatherUpQ8(l.upRows.ptr, l.upRows.ptr + F * d, 0, rows.ptr, n, d, qx.ptr, sx.ptr, g.ptr, out.ptr); },
    'up rows: gatherDotsQ8': () => { for (const l of layers) k.gatherDotsQ8(l.upRows.ptr, l.upRows.ptr + F * d, rows.ptr, n, d, qx.ptr, sx.ptr, out.ptr); },
    'down dense: downQ8 (every neuron)': () => { for (const l of layers) k.downQ8(l.down.ptr, l.sT.ptr, h.ptr, 1, F, d, zq.ptr, zs.ptr, y.ptr, 0, nb); },
    'down blocks: gatherDownQ8': () => { for (const l of layers) { downAt(l.down.ptr, 32); k.gatherDownQ8(y.ptr, at.ptr, l.down.ptr + F * d, rows.ptr, h.ptr, n, d, 1024, zq.ptr, zs.ptr, 0, nb); } },
    'down blocks: axpyQ8': () => { for (const l of layers) k.axpyQ8(y.ptr, l.down.ptr, l.down.ptr + F * d, h.ptr, rows.ptr, n, d, 32, 1024, 0, nb); },
    'down rows: gatherDownQ8': () => { for (const l of layers) { downAt(l.downRows.ptr, d); k.gatherDownQ8(y.ptr, at.ptr, l.downRows.ptr + F * d, rows.ptr, h.ptr, n, d, 32, zq.ptr, zs.ptr, 0, nb); } },
    'down rows: axpyQ8': () => { for (const l of layers) k.axpyQ8(y.ptr, l.downRows.ptr, l.downRows.ptr + F * d, h.ptr, rows.ptr, n, d, d, 32, 0, nb); },
  };
  const times: Record<string, number[]> = {};
  for (let r = 0; r < Number(values.reps); r++) {
    for (const [name, run] of Object.entries(kernels)) {
      const start = performance.now();
      for (let i = 0; i < 5; i++) run();
      (times[name] ??= []).push((performance.now() - start) / 5);
    }
  }
  results[`keep ${keep} (${n} of ${F})`] = Object.fromEntries(Object.entries(times).map(([name, ms]) => [name, Number(median(ms).toFixed(2))]));
}
console.log(JSON.stringify({ shape: { layers: L, ffn: F, dModel: d }, unit: 'ms per token (30 layers), median', results }, null, 1));
