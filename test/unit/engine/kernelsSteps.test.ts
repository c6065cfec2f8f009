// The kernels that replaced the forward pass's per-token JavaScript (rmsNorm, qkvPost, addInto)
// against that JavaScript, bit for bit: norm.ts' rmsNorm and rope.ts' rope (the v1 engine still
// runs them) with the query scale, and the 8-bit KV cache's row quantization (writeRowQ8 below,
// the JavaScript the v2 engine ran before qkvPost).
import assert from 'node:assert/strict';
import { KernelArena } from '../../../src/engine/wasm/wasmKernels';
import { rmsNorm } from '../../../src/engine/norm';
import { rope } from '../../../src/engine/attention/rope';
import { Int8KvCache } from '../../../src/engine/v2/kvCacheQ8';
import { random } from '../../helpers/kernelReference';

/** Row `r` of quants [rows][hd] int8 and scales [rows] f32 = src[at … at + hd) in 8 bits:
 *  scale fround(max|v| / 127), quants Math.round(v · 127 / max) (0 for a zero row). */
function writeRowQ8(quants: Int8Array, scales: Float32Array, r: number, hd: number, src: Float32Array, at: number): void {
  let max = 0;
  for (let i = 0; i < hd; i++) max = Math.max(max, Math.abs(src[at + i]));
  scales[r] = Math.fround(max / 127);
  const inv = max > 0 ? 127 / max : 0;
  for (let i = 0; i < hd; i++) quants[r * hd + i] = Math.round(src[at + i] * inv);
}

const bits = (a: Float32Array) => [...new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength))];

describe('the forward pass steps as kernels', () => {
  it('rmsNorm gives norm.ts\' bits over several tokens (large, tiny and zero rows)', () => {
    const d = 96, T = 4, eps = 1e-5, rnd = random(7);
    const x = Float32Array.from({ length: T * d }, (_, i) => (i < d ? rnd() * 1e4 : i < 2 * d ? rnd() * 1e-6 : i < 3 * d ? 0 : rnd() * 3));
    const w = Float32Array.from({ length: d }, () => rnd() * 2);
    const arena = new KernelArena(4 * (2 * T * d + d) + 4096);
    const xs = arena.floats(T * d), ws = arena.floats(d), out = arena.floats(T * d), c = arena.floats(2);
    xs.view.set(x);
    ws.view.set(w);
    new Float64Array(c.view.buffer, c.ptr, 1)[0] = eps;
    arena.kernels.rmsNorm(xs.ptr, ws.ptr, c.ptr, out.ptr, T, d);
    const expected = new Float32Array(T * d);
    for (let t = 0; t < T; t++) rmsNorm(x, t * d, w, eps, expected, t * d, d);
    assert.deepEqual(bits(out.view), bits(expected));
  });

  it('addInto adds f32 rows as JavaScript does', () => {
    const arena = new KernelArena(4096), rnd = random(3);
    const y = arena.floats(64), x = arena.floats(64);
    y.view.set(Float32Array.from({ length: 64 }, () => rnd() * 100));
    x.view.set(Float32Array.from({ length: 64 }, () => rnd() * 1e-3));
    const expected = y.view.map((v, i) => v + x.view[i]);
    arena.kernels.addInto(y.ptr, x.ptr, 64);
    assert.deepEqual(bits(y.view), bits(expected));
  });

  for (const bias of [false, true]) {
    it(`qkvPost (${bias ? 'with' : 'no'} bias): RoPE, the query scale and the 8-bit KV rows as rope.ts and writeRowQ8 give them`, () => {
      const H = 4, Hkv = 2, hd = 16, T = 3, n = (H + 2 * Hkv) * hd, layers = 2, cap = 8, l = 1, pos0 = 5, rnd = random(bias ? 11 : 5);
      const q = Float32Array.from({ length: T * n }, () => rnd() * 8);
      q.fill(0, n + H * hd, n + (H + 1) * hd); // a key row of zeros (scale 0)
      const v0 = (H + Hkv) * hd; // a value row with exact halves: Math.round takes them toward +∞
      q.set([127, 2.5, -2.5, 0.5, -0.5], v0);
      // a value row with a NaN, one with an infinity (a diverging model): stored as JavaScript stores them, no trap
      q[n + v0 + hd] = NaN;
      q[2 * n + v0 + hd + 3] = Infinity;
      const b = Float32Array.from({ length: n }, (_, i) => (i >= v0 && i < v0 + 2 * hd ? 0 : rnd()));
      const invFreq = Float32Array.from({ length: hd / 2 }, (_, i) => Math.fround(10000 ** (-2 * i / hd)));
      const scale = Math.fround(1 / Math.sqrt(hd));
      const arena = new KernelArena(4 * (T * n + n + T * hd + 4) + layers * 2 * Hkv * cap * (hd + 4) + 4096);
      const qs = arena.floats(T * n), bs = arena.floats(n), trig = arena.floats(T * hd), c = arena.floats(4);
      const kvRows = layers * 2 * Hkv * cap, kq = arena.bytes(kvRows * hd), ks = arena.floats(kvRows);
      qs.view.set(q);
      bs.view.set(b);
      c.view[2] = scale;
      for (let t = 0; t < T; t++) {
        for (let i = 0; i < hd / 2; i++) {
          const angle = Math.fround((pos0 + t) * invFreq[i]);
          trig.view[(t * hd / 2 + i) * 2] = Math.cos(angle);
          trig.view[(t * hd / 2 + i) * 2 + 1] = Math.sin(angle);
        }
      }
      const cache = new Int8KvCache(layers, Hkv, hd, cap); // the row numbers
      const expected = { quants: new Int8Array(kvRows * hd), scales: new Float32Array(kvRows) };
      arena.kernels.qkvPost(qs.ptr, n, T, H, Hkv, hd, trig.ptr, c.ptr + 8, bias ? bs.ptr : 0, kq.ptr, ks.ptr, cache.row(l, 0, 0, pos0), cap);
      for (let t = 0; t < T; t++) {
        const at = t * n;
        if (bias) for (let i = 0; i < n; i++) q[at + i] += b[i];
        rope(q, at, H + Hkv, hd, invFreq, pos0 + t);
        for (let i = 0; i < H * hd; i++) q[at + i] *= scale;
        for (let g = 0; g < Hkv; g++) {
          writeRowQ8(expected.quants, expected.scales, cache.row(l, 0, g, pos0 + t), hd, q, at + (H + g) * hd);
          writeRowQ8(expected.quants, expected.scales, cache.row(l, 1, g, pos0 + t), hd, q, at + (H + Hkv + g) * hd);
        }
      }
      assert.deepEqual(bits(qs.view), bits(q), 'queries and keys after RoPE and the scale');
      assert.deepEqual([...new Int8Array(kq.view.buffer, kq.ptr, kvRows * hd)], [...expected.quants], 'KV quants');
      assert.deepEqual([...ks.view], [...expected.scales], 'KV scales (NaN where JavaScript has NaN)');
      assert.ok(ks.view.some(Number.isNaN) && ks.view.includes(Infinity), 'the NaN and infinite rows were written');
      assert.ok(expected.quants.some((v) => v !== 0) && expected.scales.includes(0), 'rows written, the zero row with scale 0');
      const halves = cache.row(l, 1, 0, pos0) * hd;
      assert.deepEqual([...new Int8Array(kq.view.buffer, kq.ptr + halves, 5)], [127, 3, -2, 1, 0]);
    });
  }
});
