// The one place a v2 matrix's storage type (models/FORMAT.md §Q q8_32, §Q4 q4_32) picks its kernel:
// the forward pass calls these and never asks which it has.
import type { KernelArena } from '../wasm/wasmKernels';
import { dequantPanelRow, PANEL_BLOCK_BYTES } from './panels';
import { runCalls, type KernelCall } from './threadPool';

/** A matrix in kernel memory: [rows][cols] codes at ptr, a scale per 32 (and, for q4_32, a min).
 *  A q8_32 one with layout 'panels' is in the kernels' panel layout from ptr (panels.ts: every
 *  resident dense q8 matrix; `scales` unused); 'blocks': the FFN's down columns with their quants
 *  in the down-block layout (kernels.wat, toDownBlocks) and their scales as rows; otherwise rows as
 *  FORMAT.md lays them out. */
export interface Q8 { ptr: number; scales: number; rows: number; cols: number; mins?: number; layout?: 'rows' | 'panels' | 'blocks' }

/** A matrix left in weights.bin: [rows][cols], q8_32 (FORMAT.md §Q) or q4_32 (§Q4), at `offset`. */
export interface StreamedMatrix { streamed: true; name: string; offset: number; rows: number; cols: number; q4: boolean }

/** A weights.bin matrix: in kernel memory, or left in the file by the memory budget (weightStream.ts). */
export type Weight = Q8 | StreamedMatrix;

/** out [T][W.rows] = x [T][W.cols] · Wᵀ, x already quantized (qx i16, sx f32: quantizeI16). */
export function matmulQuantized(k: KernelArena['kernels'], W: Q8, qx: number, sx: number, T: number, outPtr: number): void {
  runCalls(k, [matmulCall(W, qx, sx, T, outPtr)]);
}

/** matmulQuantized as a kernel call, for a thread to run (tokens t0… of x: qx + 2·t0·cols,
 *  sx + t0·cols/8, outPtr + 4·t0·rows). */
export function matmulCall(W: Q8, qx: number, sx: number, T: number, outPtr: number): KernelCall {
  if (W.mins !== undefined) return ['matmulQ4', W.ptr, W.scales, W.mins, W.rows, W.cols, qx, sx, T, outPtr];
  if (W.layout === 'panels') return ['matmulQ8P', W.ptr, W.rows, W.cols, qx, sx, T, outPtr];
  return ['matmulQ8', W.ptr, W.scales, W.rows, W.cols, qx, sx, T, outPtr];
}

/** Rows r0 … r0 + n of W (r0 a multiple of 4 in panels) as a matrix of their own. */
export function rowSlice(W: Q8, r0: number, n: number): Q8 {
  const nb = W.cols / 32;
  if (W.layout === 'panels') return { ptr: W.ptr + (r0 / 4) * nb * PANEL_BLOCK_BYTES, scales: 0, rows: n, cols: W.cols, layout: 'panels' };
  if (W.mins !== undefined) return { ptr: W.ptr + (r0 * W.cols) / 2, scales: W.scales + 4 * r0 * nb, mins: W.mins + 4 * r0 * nb, rows: n, cols: W.cols };
  return { ptr: W.ptr + r0 * W.cols, scales: W.scales + 4 * r0 * nb, rows: n, cols: W.cols, layout: 'rows' };
}

/** Row `row` of W dequantized into out[at … at + W.cols) (the embedding lookup). */
export function dequantRowInto(memory: ArrayBufferLike, W: Q8, row: number, out: Float32Array, at: number): void {
  if (W.layout === 'panels') { dequantPanelRow(memory, W.ptr, W.cols, row, out, at); return; }
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
