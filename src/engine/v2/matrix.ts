// The one place a v2 matrix's storage type (models/FORMAT.md §Q q8_32, §Q4 q4_32) picks its kernel:
// the forward pass calls these and never asks which it has.
import type { KernelArena } from '../wasm/wasmKernels';

/** A matrix in kernel memory: [rows][cols] codes at ptr, a scale per 32 (and, for q4_32, a min). */
export interface Q8 { ptr: number; scales: number; rows: number; cols: number; mins?: number }

/** out [T][W.rows] = x [T][W.cols] · Wᵀ, x already quantized (qx i16, sx f32: quantizeI16). */
export function matmulQuantized(k: KernelArena['kernels'], W: Q8, qx: number, sx: number, T: number, outPtr: number): void {
  if (W.mins !== undefined) k.matmulQ4(W.ptr, W.scales, W.mins, W.rows, W.cols, qx, sx, T, outPtr);
  else k.matmulQ8(W.ptr, W.scales, W.rows, W.cols, qx, sx, T, outPtr);
}

/** Row `row` of W dequantized into out[at … at + W.cols) (the embedding lookup). */
export function dequantRowInto(memory: ArrayBuffer, W: Q8, row: number, out: Float32Array, at: number): void {
  const blocks = W.cols / 32;
  const scales = new Float32Array(memory, W.scales + row * blocks * 4, blocks);
  if (W.mins === undefined) {
    const q = new Int8Array(memory, W.ptr + row * W.cols, W.cols);
    for (let c = 0; c < W.cols; c++) out[at + c] = q[c] * scales[c >> 5];
    return;
  }
  const nibbles = new Uint8Array(memory, W.ptr + row * (W.cols / 2), W.cols / 2);
  const mins = new Float32Array(memory, W.mins + row * blocks * 4, blocks);
  for (let b = 0; b < blocks; b++) {
    for (let k = 0; k < 16; k++) {
      const byte = nibbles[b * 16 + k];
      out[at + b * 32 + k] = Math.fround((byte & 15) * scales[b]) + mins[b];
      out[at + b * 32 + k + 16] = Math.fround((byte >> 4) * scales[b]) + mins[b];
    }
  }
}
