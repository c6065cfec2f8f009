// The SIMD kernels: the committed bytes are what kernels.wat compiles to, and the kernels agree with
// the JavaScript ones on random rows (the sparse FFN row, the predictor's scores, the matrix-vector
// products the layer kernels use).
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { KERNELS_SHARED_WASM_BASE64, KERNELS_WASM_BASE64 } from '../../../src/engine/wasm/kernelsWasm';
import { NeuronCache } from '../../../src/engine/ffn/neuronCache';
import { Predictor } from '../../../src/engine/ffn/predictor';
import { sparseFfnRow } from '../../helpers/sparseFfnReference';
import { KernelArena } from '../../../src/engine/wasm/wasmKernels';
import { repoRoot } from '../../helpers/fixture';

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
}

describe('WebAssembly SIMD kernels', () => {
  it('kernelsWasm.ts holds exactly what kernels.wat compiles to, plain and shared-memory (npm run build:kernels)', async () => {
    const script = pathToFileURL(path.join(repoRoot, 'scripts/build-kernels.mjs')).href;
    const { compileKernels } = (await import(script)) as { compileKernels: () => Promise<{ plain: Buffer; shared: Buffer }> };
    const { plain, shared } = await compileKernels();
    assert.equal(plain.toString('base64'), KERNELS_WASM_BASE64);
    assert.equal(shared.toString('base64'), KERNELS_SHARED_WASM_BASE64);
  });

  it('the shared-memory kernels run on a shared memory and give the plain kernels\' bits', () => {
    const plain = new KernelArena(1 << 16), shared = new KernelArena(1 << 16, { shared: true });
    assert.ok(shared.memory.buffer instanceof SharedArrayBuffer);
    const rnd = random(3);
    const [x1, x2] = [plain, shared].map((a) => a.floats(256));
    for (let i = 0; i < 256; i++) x1.view[i] = x2.view[i] = rnd();
    for (const [a, x] of [[plain, x1], [shared, x2]] as const) a.kernels.softmax(x.ptr, 256);
    assert.deepEqual(x2.view, x1.view);
  });

  for (const [gated, activation] of [[true, 'relu'], [true, 'squared_relu'], [false, 'relu']] as const) {
    it(`ffnRows equals the JavaScript kernel (${gated ? 'gated' : 'plain'} ${activation})`, () => {
      const d = 32, n = 64, rnd = random(7);
      const arena = new KernelArena(3 * n * d * 4 + 4 * d * 4 + n * 4);
      const wasm = new NeuronCache(n, n, d, gated, arena);
      const js = new NeuronCache(n, n, d, gated);
      for (let j = 0; j < n; j++) { wasm.append(j, 0); js.append(j, 0); }
      for (const key of ['gate', 'up', 'down'] as const) {
        const a = wasm[key], b = js[key];
        if (!a || !b) continue;
        for (let i = 0; i < a.length; i++) a[i] = b[i] = rnd();
      }
      const x = arena.floats(d), y = arena.floats(d), slots = arena.ints(n);
      for (let i = 0; i < d; i++) x.view[i] = rnd();
      const k = 40;
      for (let i = 0; i < k; i++) slots.view[i] = (i * 7) % n;
      const at = wasm.addresses!;
      const nonZero = arena.kernels.ffnRows(at.gate, at.up, at.down, slots.ptr, k, d, x.ptr, y.ptr, activation === 'squared_relu' ? 1 : 0);
      const expected = new Float32Array(d);
      const expectedNonZero = sparseFfnRow(js, slots.view, k, activation, d, x.view, 0, expected, 0);
      assert.equal(nonZero, expectedNonZero);
      assert.ok(nonZero > 0 && nonZero < k, 'some neurons are zero, some not');
      for (let i = 0; i < d; i++) assert.ok(Math.abs(y.view[i] - expected[i]) < 1e-4, `y[${i}] ${y.view[i]} vs ${expected[i]}`);
    });
  }

  it('predict marks the same neurons as the JavaScript predictor', () => {
    const d = 16, r = 8, n = 32, rnd = random(3);
    const layer = {
      rank: r, threshold: 0.05,
      a: Float32Array.from({ length: d * r }, rnd), b: Float32Array.from({ length: r * n }, rnd), bias: Float32Array.from({ length: n }, rnd),
    };
    const arena = new KernelArena(4 * Predictor.arenaBytes(layer, d, n)); // one predictor per row below
    const x = Float32Array.from({ length: 2 * d }, rnd);
    for (const row of [0, 1]) {
      const inWasm = new Uint8Array(n), inJs = new Uint8Array(n);
      new Predictor(layer, d, n, arena).markActive(x, row * d, inWasm);
      new Predictor(layer, d, n).markActive(x, row * d, inJs);
      assert.deepEqual([...inWasm], [...inJs]);
      assert.ok(inJs.some((m) => m) && inJs.some((m) => !m));
    }
  });

  it('softmax equals Math.exp\'s within float rounding, over lengths around the 4-float steps and a wide range', () => {
    const rnd = random(11);
    const arena = new KernelArena(4 * 600 + 64);
    const s = arena.floats(600);
    for (const n of [1, 3, 4, 5, 64, 461]) {
      const values = Float32Array.from({ length: n }, (_, i) => (i % 7 === 3 ? -200 : 30 * rnd())); // some far below the max: e^x ≈ 0
      s.view.set(values);
      arena.kernels.softmax(s.ptr, n);
      const max = Math.max(...values);
      const e = [...values].map((v) => Math.exp(v - max));
      const sum = e.reduce((a, b) => a + b, 0);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const expected = e[i] / sum;
        total += s.view[i];
        assert.ok(Math.abs(s.view[i] - expected) <= 1e-6 * Math.max(1, expected * 10), `n ${n}, [${i}]: ${s.view[i]} vs ${expected}`);
      }
      assert.ok(Math.abs(total - 1) < 1e-5, `n ${n}: sums to ${total}`);
    }
  });

  // Row counts around the four-row blocks (none, some, and a remainder), sizes with and without a
  // last 4-float step after the 8-float ones.
  for (const [n, d] of [[3, 8], [4, 12], [7, 12], [9, 64]] as const) {
    it(`rowDots and vecmat equal plain loops (${n} rows of ${d})`, () => {
      const rnd = random(n * 100 + d);
      const arena = new KernelArena(4 * (n * d + d + n + d) + 64);
      const w = arena.floats(n * d), x = arena.floats(d), out = arena.floats(n), v = arena.floats(n), y = arena.floats(d);
      for (let i = 0; i < n * d; i++) w.view[i] = rnd();
      for (let i = 0; i < d; i++) { x.view[i] = rnd(); y.view[i] = 99; }
      for (let i = 0; i < n; i++) v.view[i] = rnd();
      arena.kernels.rowDots(w.ptr, x.ptr, n, d, out.ptr);
      arena.kernels.vecmat(v.ptr, w.ptr, n, d, y.ptr);
      for (let i = 0; i < n; i++) {
        let dot = 0;
        for (let k = 0; k < d; k++) dot += w.view[i * d + k] * x.view[k];
        assert.ok(Math.abs(out.view[i] - dot) < 1e-5, `rowDots[${i}] ${out.view[i]} vs ${dot}`);
      }
      for (let k = 0; k < d; k++) {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += v.view[i] * w.view[i * d + k];
        assert.ok(Math.abs(y.view[k] - sum) < 1e-5, `vecmat[${k}] ${y.view[k]} vs ${sum}`);
      }
    });
  }

  // A chunk of T tokens after S0 cached positions, several query heads on one KV group whose keys
  // and values are int8 rows with a scale each (the 8-bit KV cache): token t sees positions
  // 0…S0+t only (causal), each head its own softmax, against a plain f64 attention over the
  // dequantized rows and the query quantized as the kernel does (16 bits, one scale per head).
  for (const [S0, T, heads, hd] of [[0, 5, 3, 8], [6, 3, 2, 16], [1, 1, 1, 64], [40, 4, 3, 72]] as const) {
    it(`attendQ8 equals a plain causal attention over the int8 rows (${S0} cached, ${T} tokens, ${heads} heads of ${hd})`, () => {
      const rnd = random(S0 * 7 + T * 5 + heads + hd);
      const S = S0 + T, qStride = heads * hd + 4, outStride = heads * hd + 8; // strides wider than the rows
      const arena = new KernelArena(2 * S * hd + 4 * (2 * S + T * qStride + T * outStride + S) + 2 * hd + 512);
      const keys = arena.bytes(S * hd), values = arena.bytes(S * hd), ks = arena.floats(S), vs = arena.floats(S);
      const q = arena.floats(T * qStride), out = arena.floats(T * outStride), scores = arena.floats(S), qx = arena.bytes(2 * hd);
      const k8 = new Int8Array(keys.view.buffer, keys.ptr, S * hd), v8 = new Int8Array(values.view.buffer, values.ptr, S * hd);
      for (const a of [k8, v8]) for (let i = 0; i < a.length; i++) a[i] = Math.round(rnd() * 254);
      for (let s = 0; s < S; s++) { ks.view[s] = Math.fround(0.02 + rnd() * 0.02); vs.view[s] = Math.fround(0.03 + rnd() * 0.02); }
      for (let i = 0; i < q.view.length; i++) q.view[i] = rnd() * 2;
      out.view.fill(77);
      arena.kernels.attendQ8(q.ptr, 4 * qStride, keys.ptr, ks.ptr, values.ptr, vs.ptr, S0, T, heads, hd, scores.ptr, qx.ptr, out.ptr, 4 * outStride);
      for (let t = 0; t < T; t++) {
        for (let h = 0; h < heads; h++) {
          const seen = S0 + t + 1;
          const query = q.view.subarray(t * qStride + h * hd, t * qStride + (h + 1) * hd);
          const sq = Math.fround(Math.max(...query.map(Math.abs)) / 32767);
          const logits = Array.from({ length: seen }, (_, s) => {
            let dot = 0;
            for (let i = 0; i < hd; i++) dot += Math.round(query[i] / sq) * k8[s * hd + i];
            return dot * sq * ks.view[s];
          });
          const max = Math.max(...logits), e = logits.map((x) => Math.exp(x - max)), sum = e.reduce((a, b) => a + b, 0);
          for (let i = 0; i < hd; i++) {
            let expected = 0;
            for (let s = 0; s < seen; s++) expected += (e[s] / sum) * v8[s * hd + i] * vs.view[s];
            const got = out.view[t * outStride + h * hd + i];
            assert.ok(Math.abs(got - expected) < 2e-5 * (1 + Math.abs(expected)), `token ${t} head ${h} [${i}] ${got} vs ${expected}`);
          }
        }
        assert.equal(out.view[t * outStride + heads * hd], 77, 'nothing written past the heads');
      }
    });
  }

  it('swiglu gives silu(gate) and up·silu(gate) within float rounding, from -100 to 100', () => {
    const n = 64;
    const arena = new KernelArena(8 * n + 64);
    const gate = arena.floats(n), up = arena.floats(n);
    const g = Float32Array.from({ length: n }, (_, i) => (i === 0 ? -100 : i === 1 ? 100 : i === 2 ? 0 : (i - 32) * 0.37));
    const u = Float32Array.from({ length: n }, (_, i) => Math.cos(i) * 3);
    gate.view.set(g);
    up.view.set(u);
    arena.kernels.swiglu(gate.ptr, up.ptr, n);
    for (let i = 0; i < n; i++) {
      const silu = g[i] / (1 + Math.exp(-g[i]));
      assert.ok(Math.abs(gate.view[i] - silu) <= 2e-7 * Math.abs(silu) + 1e-30, `silu(${g[i]}) ${gate.view[i]} vs ${silu}`);
      assert.ok(Math.abs(up.view[i] - u[i] * silu) <= 3e-7 * Math.abs(u[i] * silu) + 1e-30, `up[${i}]`);
    }
  });

  for (const [kind, name] of [[0, 'ReLU'], [1, 'SiLU'], [2, 'squared ReLU']] as const) {
    for (const threshold of [0, 0.3]) {
      it(`gateSelect keeps, in order, the neurons with |${name}(gate)| > ${threshold}, their activations compacted in place`, () => {
        const n = 64;
        const arena = new KernelArena(16 * n + 64);
        const gate = arena.floats(n), ids = arena.ints(n), ref = arena.floats(n), ones = arena.floats(n);
        const rnd = random(7 + kind);
        const odd = [-0, 0.3, -100, 100, NaN, Infinity, -Infinity]; // and NaN skipped, as before
        const g = Float32Array.from({ length: n }, (_, i) => (i < odd.length ? odd[i] : rnd() * 4));
        gate.view.set(g);
        // the activations: ReLU and its square as JavaScript computes them; SiLU as swiglu does
        ref.view.set(g);
        ones.view.fill(1);
        if (kind === 1) arena.kernels.swiglu(ref.ptr, ones.ptr, n);
        else ref.view.forEach((v, i) => { const r = v > 0 ? v : 0; ref.view[i] = kind === 2 ? Math.fround(r * r) : r; });
        const want = [...ref.view.keys()].filter((j) => Math.abs(ref.view[j]) > threshold);
        const kept = arena.kernels.gateSelect(gate.ptr, n, kind, threshold, ids.ptr);
        assert.equal(kept, want.length);
        assert.ok(kept > 0 && kept < n, `some kept, some skipped (${kept})`);
        assert.deepEqual([...ids.view.subarray(0, kept)], want);
        assert.deepEqual([...gate.view.subarray(0, kept)], want.map((j) => ref.view[j]));
      });
    }
  }
});
