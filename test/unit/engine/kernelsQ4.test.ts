// The 4-bit kernel (matmulQ4, models/FORMAT.md §Q4) against plain JavaScript: the same 16-bit
// activations as the 8-bit kernels, Σ q·qx scaled by scale·sx plus min·sx·Σ qx per block; and the
// whole product within the 4-bit weights' quantization error of the f32 product. Row counts that are
// not multiples of 4 run the one-row tail.
import assert from 'node:assert/strict';
import { KernelArena } from '../../../src/engine/wasm/wasmKernels';
import { dequantizeQ4, q4Bytes, q4Layout, quantizeQ4 } from '../../../src/engine/weights/q4';
import { dequantRowInto } from '../../../src/engine/v2/matrix';
import { quantizeActivations, random } from '../../helpers/kernelReference';

function setup(rows: number, cols: number, T: number, seed: number) {
  const rnd = random(seed);
  // rows of mixed magnitude and sign, some all-positive blocks (min > 0, as Q4_1 blocks often are)
  const w = Float32Array.from({ length: rows * cols }, (_, i) => (((i >> 5) % 3 === 2) ? 0.3 + rnd() * 0.1 : rnd() * (rnd() > 0.45 ? 1 : 0.01)));
  const x = Float32Array.from({ length: T * cols }, () => rnd() * 3);
  const arena = new KernelArena(rows * cols * 2 + T * cols * 8 + T * rows * 4 + 4096);
  const bytes = quantizeQ4(w, rows, cols);
  const wq = arena.bytes(q4Bytes(rows, cols));
  wq.view.set(bytes);
  const at = q4Layout(rows, cols);
  const xs = arena.floats(T * cols);
  xs.view.set(x);
  const qx = arena.bytes(T * cols * 2), sx = arena.floats(T * cols / 32);
  arena.kernels.quantizeI16(xs.ptr, T * cols, qx.ptr, sx.ptr);
  return { arena, w, x, W: { ptr: wq.ptr, scales: wq.ptr + at.scales, mins: wq.ptr + at.mins, rows, cols }, qx, sx, bytes };
}

describe('4-bit WebAssembly kernel', () => {
  for (const [rows, cols, T] of [[8, 64, 1], [13, 96, 3], [4, 576, 2], [7, 32, 5], [1, 64, 1]]) {
    it(`matmulQ4 [${rows}][${cols}] × ${T} tokens equals the integer reference and is within q4 error of f32`, () => {
      const { arena, w, x, W, qx, sx, bytes } = setup(rows, cols, T, rows * 31 + cols);
      const out = arena.floats(T * rows);
      arena.kernels.matmulQ4(W.ptr, W.scales, W.mins, rows, cols, qx.ptr, sx.ptr, T, out.ptr);
      const at = q4Layout(rows, cols);
      const nib = bytes.subarray(0, rows * cols / 2);
      const scales = new Float32Array(bytes.buffer.slice(at.scales, at.mins));
      const mins = new Float32Array(bytes.buffer.slice(at.mins));
      const deq = dequantizeQ4(bytes, rows, cols);
      for (let t = 0; t < T; t++) {
        const { q, s } = quantizeActivations(x.subarray(t * cols, (t + 1) * cols));
        for (let r = 0; r < rows; r++) {
          let exact = 0, f32 = 0, mag = 0, deqDot = 0, halfSteps = 0;
          for (let b = 0; b < cols / 32; b++) {
            let dot = 0, sum = 0;
            for (let k = 0; k < 16; k++) {
              const byte = nib[(r * cols) / 2 + b * 16 + k];
              dot += (byte & 15) * q[b * 32 + k] + (byte >> 4) * q[b * 32 + k + 16];
            }
            for (let i = 0; i < 32; i++) sum += q[b * 32 + i];
            const blk = r * (cols / 32) + b;
            exact += (dot * scales[blk] + sum * mins[blk]) * s[b];
          }
          for (let c = 0; c < cols; c++) {
            f32 += w[r * cols + c] * x[t * cols + c];
            deqDot += deq[r * cols + c] * x[t * cols + c];
            mag += Math.abs(w[r * cols + c] * x[t * cols + c]);
            halfSteps += Math.abs(x[t * cols + c]) * scales[r * (cols / 32) + (c >> 5)] / 2;
          }
          const got = out.view[t * rows + r];
          assert.ok(Math.abs(got - exact) <= 1e-5 * (1 + mag), `out[${t}][${r}] ${got} vs integer reference ${exact}`);
          // 16-bit activations: the dequantized weights' dot product almost exactly
          assert.ok(Math.abs(got - deqDot) <= 1e-3 * mag + 1e-6, `out[${t}][${r}] ${got} vs dequantized f32 ${deqDot}`);
          // each weight within half a step (scale / 2) of its f32 value
          assert.ok(Math.abs(got - f32) <= halfSteps * 1.001 + 1e-3 * mag + 1e-6, `out[${t}][${r}] ${got} vs f32 ${f32}`);
        }
      }
    });
  }

  it('dequantRowInto reads a q4_32 row as dequantizeQ4 does (the embedding lookup)', () => {
    const rows = 5, cols = 96;
    const { arena, W, bytes } = setup(rows, cols, 1, 9);
    const all = dequantizeQ4(bytes, rows, cols);
    for (let r = 0; r < rows; r++) {
      const out = new Float32Array(cols);
      dequantRowInto(arena.memory.buffer, W, r, out, 0);
      assert.deepEqual([...out], [...all.subarray(r * cols, (r + 1) * cols)]);
    }
  });
});
