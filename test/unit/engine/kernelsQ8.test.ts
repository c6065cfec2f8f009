// The 8-bit kernels against plain JavaScript: activations quantized to 16 bits per block of 32
// exactly as the kernel does (round half to even of x·32767/max), integer block sums scaled once per
// block; and the whole product within the weights' quantization error of the f32 product.
import assert from 'node:assert/strict';
import { KernelArena, sparseDownScratch } from '../../../src/engine/wasm/wasmKernels';
import { transposeScales } from '../../../src/engine/v2/ffnStore';
import { dequantPanelRow, panelBytes, panelRoom, rowsToPanels } from '../../../src/engine/v2/panels';
import { dequantizeQ8, quantizeQ8 } from '../../../src/engine/weights/weightsFile';
import { quantizeActivations, random } from '../../helpers/kernelReference';

function setup(rows: number, cols: number, T: number, seed: number) {
  const rnd = random(seed);
  const w = Float32Array.from({ length: rows * cols }, () => rnd() * (rnd() > 0.45 ? 1 : 0.01));
  const x = Float32Array.from({ length: T * cols }, () => rnd() * 3);
  const arena = new KernelArena(rows * cols * 5 + T * cols * 8 + T * rows * 4 + 4096);
  const wq = arena.bytes(rows * cols * 9 / 8);
  wq.view.set(quantizeQ8(w, rows, cols));
  const xs = arena.floats(T * cols);
  xs.view.set(x);
  const qx = arena.bytes(T * cols * 2), sx = arena.floats(T * cols / 32);
  arena.kernels.quantizeI16(xs.ptr, T * cols, qx.ptr, sx.ptr);
  return { arena, w, x, wq, qx, sx, wBytes: quantizeQ8(w, rows, cols) };
}

describe('8-bit WebAssembly kernels', () => {
  it('quantizeI16 rounds half to even per block of 32, scale max/32767, a zero block to zeros', () => {
    const x = new Float32Array(64);
    x[0] = 32767; x[1] = 0.5; x[2] = 1.5; x[3] = -2.5; x[4] = -32767; // a block whose scale is 1
    const arena = new KernelArena(4096);
    const xs = arena.floats(64);
    xs.view.set(x);
    const qx = arena.bytes(128), sx = arena.floats(2);
    arena.kernels.quantizeI16(xs.ptr, 64, qx.ptr, sx.ptr);
    const q = new Int16Array(qx.view.buffer, qx.ptr, 64);
    assert.deepEqual([...q.slice(0, 6)], [32767, 0, 2, -2, -32767, 0]);
    assert.deepEqual([...sx.view], [1, 0]);
    assert.ok(q.slice(32).every((v) => v === 0));
    const ref = quantizeActivations(Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 7));
    xs.view.set(Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 7));
    arena.kernels.quantizeI16(xs.ptr, 64, qx.ptr, sx.ptr);
    assert.deepEqual([...q], [...ref.q]);
    assert.deepEqual([...sx.view], [...ref.s]);
  });

  for (const [rows, cols, T] of [[8, 64, 1], [13, 96, 3], [4, 576, 2], [7, 32, 5]]) {
    it(`matmulQ8 [${rows}][${cols}] × ${T} tokens equals the integer reference and is within q8 error of f32`, () => {
      const { arena, w, x, wq, qx, sx, wBytes } = setup(rows, cols, T, rows * 31 + cols);
      const out = arena.floats(T * rows);
      arena.kernels.matmulQ8(wq.ptr, wq.ptr + rows * cols, rows, cols, qx.ptr, sx.ptr, T, out.ptr);
      const wqv = new Int8Array(wBytes.buffer, 0, rows * cols);
      const ws = new Float32Array(wBytes.buffer.slice(rows * cols));
      for (let t = 0; t < T; t++) {
        const { q, s } = quantizeActivations(x.subarray(t * cols, (t + 1) * cols));
        for (let r = 0; r < rows; r++) {
          let exact = 0, f32 = 0, mag = 0;
          for (let b = 0; b < cols / 32; b++) {
            let sum = 0;
            for (let i = 0; i < 32; i++) sum += wqv[r * cols + b * 32 + i] * q[b * 32 + i];
            exact += sum * ws[r * (cols / 32) + b] * s[b];
          }
          for (let c = 0; c < cols; c++) { f32 += w[r * cols + c] * x[t * cols + c]; mag += Math.abs(w[r * cols + c] * x[t * cols + c]); }
          const got = out.view[t * rows + r];
          assert.ok(Math.abs(got - exact) <= 1e-5 * (1 + Math.abs(exact)), `out[${t}][${r}] ${got} vs ${exact}`);
          assert.ok(Math.abs(got - f32) <= 0.02 * mag + 1e-6, `out[${t}][${r}] ${got} vs f32 ${f32}`);
        }
      }
    });
  }

  it('gatherUpQ8 over chosen rows gives each its matmulQ8 row times its g, bit for bit (four at a time and the rest)', () => {
    const rows = 24, cols = 64;
    const { arena, wq, qx, sx } = setup(rows, cols, 1, 5);
    const all = arena.floats(rows);
    arena.kernels.matmulQ8(wq.ptr, wq.ptr + rows * cols, rows, cols, qx.ptr, sx.ptr, 1, all.ptr);
    const chosen = [3, 0, 17, 23, 8, 8, 11];
    const idx = arena.ints(chosen.length), g = arena.floats(chosen.length), got = arena.floats(chosen.length);
    idx.view.set(chosen);
    g.view.set([1, -0.5, 2.25, 0, 1e-3, 3, -1]);
    arena.kernels.gatherUpQ8(wq.ptr, wq.ptr + rows * cols, 0, idx.ptr, chosen.length, cols, qx.ptr, sx.ptr, g.ptr, got.ptr);
    assert.deepEqual([...got.view], chosen.map((r, i) => Math.fround(all.view[r] * g.view[i])));
  });

  // The panel layout (panels.ts) holds the same quants and scales; its kernels must give the row
  // layout's results bit for bit (the flash cache keeps rows, the resident model panels).
  for (const [rows, cols, T] of [[8, 64, 1], [13, 96, 3], [7, 32, 5], [6, 576, 2]]) {
    it(`toPanels, matmulQ8P and gatherUpQ8 over [${rows}][${cols}] in panels: the row layout's bits (${T} tokens)`, () => {
      const { arena, wq, qx, sx, wBytes } = setup(rows, cols, T, rows * 7 + cols);
      const p = arena.bytes(panelRoom(rows, cols));
      p.view.set(wBytes);
      rowsToPanels(arena.memory.buffer, p.ptr, rows, cols);
      const k = arena.bytes(panelRoom(rows, cols)), tmp = arena.bytes(rows * cols / 8 + 4 * cols);
      k.view.set(wBytes);
      arena.kernels.toPanels(k.ptr, rows, cols, tmp.ptr);
      const n = panelBytes(rows, cols);
      assert.deepEqual([...k.view.subarray(0, n)], [...p.view.subarray(0, n)], 'toPanels (the kernel) lays out as rowsToPanels');
      const a = arena.floats(T * rows), b = arena.floats(T * rows);
      arena.kernels.matmulQ8(wq.ptr, wq.ptr + rows * cols, rows, cols, qx.ptr, sx.ptr, T, a.ptr);
      arena.kernels.matmulQ8P(p.ptr, rows, cols, qx.ptr, sx.ptr, T, b.ptr);
      assert.deepEqual([...b.view], [...a.view]);
      const chosen = [rows - 1, 0, Math.floor(rows / 2), 1, rows - 2];
      const idx = arena.ints(5), ones = arena.floats(5), g1 = arena.floats(5), g2 = arena.floats(5);
      idx.view.set(chosen);
      ones.view.fill(1);
      arena.kernels.gatherUpQ8(wq.ptr, wq.ptr + rows * cols, 0, idx.ptr, 5, cols, qx.ptr, sx.ptr, ones.ptr, g1.ptr);
      arena.kernels.gatherUpQ8(p.ptr, 0, 1, idx.ptr, 5, cols, qx.ptr, sx.ptr, ones.ptr, g2.ptr);
      assert.deepEqual([...g2.view], [...g1.view]);
      assert.deepEqual([...g1.view], chosen.map((r) => a.view[r]), 'a gathered row is its matmul row');
      const deq = dequantizeQ8(wBytes, rows, cols), row = new Float32Array(cols);
      for (let r = 0; r < rows; r++) {
        dequantPanelRow(arena.memory.buffer, p.ptr, cols, r, row, 0);
        assert.deepEqual([...row], [...deq.subarray(r * cols, (r + 1) * cols)], `row ${r}`);
      }
    });
  }

  /** downQ8's inputs over [F][d] and T tokens of h (a seeded mix of large, tiny and zero values). */
  function downSetup(F: number, d: number, T: number) {
    const rnd = random(F + d + T);
    const w = Float32Array.from({ length: F * d }, () => rnd() * (rnd() > 0.3 ? 1 : 0.02));
    const h = Float32Array.from({ length: T * F }, () => (rnd() > 0.4 ? rnd() * 5 : 0));
    const wBytes = quantizeQ8(w, F, d), deq = dequantizeQ8(wBytes, F, d);
    const nb = d / 32;
    const arena = new KernelArena(F * d * 4 + (T + 1) * (F + d) * 4 + T * nb * F * 4 + 32 * d + 65536);
    const wq = arena.bytes(F * d * 9 / 8);
    wq.view.set(wBytes);
    arena.kernels.toDownBlocks(wq.ptr, F, d, arena.bytes(32 * d).ptr);
    const sT = arena.bytes(2 * F * nb); // the scales transposed, f16 bits
    transposeScales(arena.memory.buffer, { ptr: wq.ptr, scales: wq.ptr + F * d, rows: F, cols: d }, sT.ptr);
    const hv = arena.floats(T * F), out = arena.floats(T * d), zq = arena.bytes(T * nb * 64), zs = arena.floats(T * nb); // a group of 32 neurons at a time
    hv.view.set(h);
    out.view.fill(123); // overwritten, not added to
    const run = (hPtr: number, tokens: number, outPtr: number, b0 = 0, b1 = nb) => arena.kernels.downQ8(wq.ptr, sT.ptr, hPtr, tokens, F, d, zq.ptr, zs.ptr, outPtr, b0, b1);
    return { arena, h, hv, deq, wBytes, wq, out, run };
  }

  /** sparseDownQ8 over the neurons `ids` (ascending; h their weights) of D into y, output blocks b0 … b1:
   *  D's quants at w in the down-block layout (R 32, B 1024; row j = neuron j), or in the row layout
   *  (R d, B 32) with neuron ids[i] at row rows[i]; scales [*][d/32] f32 at ws. */
  function sparseDown(arena: KernelArena, y: number, w: number, ws: number, ids: number[], h: number[], d: number, layout: 'rows' | 'blocks', b0 = 0, b1 = d / 32, rowsOf = ids) {
    const [R, B] = layout === 'rows' ? [d, 32] : [32, 1024];
    const idv = arena.ints(ids.length), rows = arena.ints(ids.length), hv = arena.floats(ids.length);
    idv.view.set(ids);
    rows.view.set(rowsOf);
    hv.view.set(h);
    arena.kernels.sparseDownQ8(y, w, ws, hv.ptr, rows.ptr, idv.ptr, ids.length, d, R, B, b0, b1, arena.bytes(sparseDownScratch(d)).ptr);
  }

  it('toDownBlocks lays out neuron j\'s output o at (j/32)·32·d + (o/32)·1024 + (j mod 32)·32 + o mod 32, and sparseDownQ8 reads it as the rows', () => {
    const F = 64, d = 96;
    const { arena, wBytes, wq } = downSetup(F, d, 1);
    for (let j = 0; j < F; j++) {
      for (let o = 0; o < d; o++) {
        const at = (j >> 5) * 32 * d + (o >> 5) * 1024 + (j & 31) * 32 + (o & 31);
        assert.equal(wq.view[at], wBytes[j * d + o], `neuron ${j}, output ${o}`);
      }
    }
    assert.deepEqual([...wq.view.subarray(F * d)], [...wBytes.subarray(F * d)], 'the scales stay as rows');
    const rows = arena.bytes(F * d * 9 / 8);
    rows.view.set(wBytes);
    const chosen = [0, 5, 31, 32, 63], h = [0.5, -2, 0, 1.25, 3];
    const a = arena.floats(d), b = arena.floats(d);
    sparseDown(arena, a.ptr, rows.ptr, rows.ptr + F * d, chosen, h, d, 'rows');
    sparseDown(arena, b.ptr, wq.ptr, wq.ptr + F * d, chosen, h, d, 'blocks');
    assert.deepEqual([...b.view], [...a.view]);
    assert.ok(a.view.some((v) => v !== 0));
  });

  for (const [F, d, T] of [[64, 64, 1], [96, 32, 3], [128, 96, 2]]) {
    it(`downQ8 (down as neuron columns [${F}][${d}], ${T} tokens) equals the f32 product within i16 rounding`, () => {
      const { h, hv, deq, out, run } = downSetup(F, d, T);
      run(hv.ptr, T, out.ptr);
      for (let t = 0; t < T; t++) {
        for (let i = 0; i < d; i++) {
          let exact = 0, mag = 0;
          for (let j = 0; j < F; j++) { exact += h[t * F + j] * deq[j * d + i]; mag += Math.abs(h[t * F + j] * deq[j * d + i]); }
          const got = out.view[t * d + i];
          assert.ok(Math.abs(got - exact) <= 1e-4 * mag + 1e-6, `out[${t}][${i}] ${got} vs ${exact}`);
        }
      }
    });
  }

  it('downQ8 runs tokens in pairs and a last odd one alone: each token gets the bits it gets by itself', () => {
    const F = 96, d = 128, T = 5;
    const { arena, hv, out, run } = downSetup(F, d, T);
    run(hv.ptr, T, out.ptr);
    const one = arena.floats(d);
    for (let t = 0; t < T; t++) {
      run(hv.ptr + 4 * t * F, 1, one.ptr);
      assert.deepEqual([...out.view.subarray(t * d, (t + 1) * d)], [...one.view], `token ${t}`);
    }
  });

  it('downQ8 over a range of output blocks computes those, leaves the rest, and gives the whole run\'s bits', () => {
    const F = 96, d = 128, T = 3;
    const { arena, hv, out, run } = downSetup(F, d, T);
    run(hv.ptr, T, out.ptr);
    const parts = arena.floats(T * d);
    parts.view.fill(7);
    run(hv.ptr, T, parts.ptr, 0, 1);
    run(hv.ptr, T, parts.ptr, 1, 3);
    for (let t = 0; t < T; t++) {
      assert.deepEqual([...parts.view.subarray(t * d, t * d + 96)], [...out.view.subarray(t * d, t * d + 96)], `token ${t}, blocks 0-2`);
      assert.ok(parts.view.subarray(t * d + 96, (t + 1) * d).every((v) => v === 7), `token ${t}: block 3 untouched`);
    }
  });

  it('sparseDownQ8 given ids that are not ascending (40 entries of one neuron) writes nothing past its scratch', () => {
    const F = 64, d = 96;
    const { arena, wq } = downSetup(F, d, 1);
    const n = 40, ids = arena.ints(n), hv = arena.floats(n), y = arena.floats(d);
    ids.view.fill(5);
    hv.view.fill(0.5);
    const tmp = arena.bytes(sparseDownScratch(d)), after = arena.bytes(1024);
    after.view.fill(0xab);
    arena.kernels.sparseDownQ8(y.ptr, wq.ptr, wq.ptr + F * d, hv.ptr, ids.ptr, ids.ptr, n, d, 32, 1024, 0, d / 32, tmp.ptr);
    assert.ok(after.view.every((b) => b === 0xab));
    assert.ok(y.view.every(Number.isFinite));
  });

  for (const d of [96, 160]) { // 3 output blocks (each one alone), 5 (four at a time, then one)
    it(`sparseDownQ8 is downQ8 on h with the other neurons' h = 0, bit for bit (d ${d}): down blocks, rows in other slots, output block ranges, groups in turns`, () => {
      const F = 128, nb = d / 32;
      const { arena, h, hv, out, run, wBytes, wq } = downSetup(F, d, 1);
      // group 0: 5 neurons (an odd count), group 1: none, group 2: all 32, group 3: 1
      const ids = [1, 2, 7, 20, 31, ...Array.from({ length: 32 }, (_, i) => 64 + i), 100];
      const hs = ids.map((j) => h[j] || 0.25 * (j % 7) - 0.5);
      const masked = new Float32Array(F);
      ids.forEach((j, i) => { masked[j] = hs[i]; });
      hv.view.set(masked);
      run(hv.ptr, 1, out.ptr);
      assert.ok(out.view.some((v) => v !== 0));
      const y = arena.floats(d);
      sparseDown(arena, y.ptr, wq.ptr, wq.ptr + F * d, ids, hs, d, 'blocks');
      assert.deepEqual([...y.view], [...out.view], 'down blocks');
      // the row layout, neuron j in slot perm[j] (a neuron cache's slots)
      const perm = Array.from({ length: F }, (_, j) => (j * 37 + 11) % F);
      const slots = arena.bytes(F * d * 9 / 8);
      for (let j = 0; j < F; j++) {
        slots.view.set(wBytes.subarray(j * d, (j + 1) * d), perm[j] * d);
        slots.view.set(wBytes.subarray(F * d + j * nb * 4, F * d + (j + 1) * nb * 4), F * d + perm[j] * nb * 4);
      }
      const r = arena.floats(d);
      sparseDown(arena, r.ptr, slots.ptr, slots.ptr + F * d, ids, hs, d, 'rows', 0, nb, ids.map((j) => perm[j]));
      assert.deepEqual([...r.view], [...out.view], 'rows in other slots');
      // output blocks one range at a time, the rest untouched
      const parts = arena.floats(d);
      parts.view.fill(0);
      sparseDown(arena, parts.ptr, wq.ptr, wq.ptr + F * d, ids, hs, d, 'blocks', 0, 1);
      assert.ok(parts.view.subarray(32).every((v) => v === 0), 'blocks past b1 untouched');
      sparseDown(arena, parts.ptr, wq.ptr, wq.ptr + F * d, ids, hs, d, 'blocks', 1, nb);
      assert.deepEqual([...parts.view], [...out.view], 'by output blocks');
      // turns that end where a group does add up to one call's bits
      const turns = arena.floats(d);
      turns.view.fill(0);
      sparseDown(arena, turns.ptr, wq.ptr, wq.ptr + F * d, ids.slice(0, 5), hs.slice(0, 5), d, 'blocks');
      sparseDown(arena, turns.ptr, wq.ptr, wq.ptr + F * d, ids.slice(5), hs.slice(5), d, 'blocks');
      assert.deepEqual([...turns.view], [...out.view], 'in turns');
    });
  }
});
