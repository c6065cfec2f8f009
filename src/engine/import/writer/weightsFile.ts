// weights.bin (models/FORMAT.md v2 §W): "FCWT", u32 version (1, or 2 when a tensor is q4_32), u32
// jsonBytes, the JSON table, zeros to dataStart (a multiple of 64), then each tensor at a 64-aligned offset. The table is planned
// from the shapes alone, so tensors stream to their offsets one at a time.
import fs from 'node:fs';
import { CheckpointCorruptError } from '../errors';
import { quantizeBlockQ4 } from '../../weights/q4';
import { quantizeRowQ8, UnquantizableWeightError } from './q8';

export const WEIGHTS_MAGIC = 'FCWT';
export const WEIGHTS_VERSION = 1;
export const WEIGHTS_VERSION_Q4 = 2;
export type WeightsDtype = 'f32' | 'q8_32' | 'q4_32';
const ALIGN = 64;

export interface WeightsEntry {
  name: string;
  dtype: WeightsDtype;
  shape: [number] | [number, number];
  offset: number;
  bytes: number;
}

export interface WeightsPlan {
  header: Buffer;
  tensors: WeightsEntry[];
  fileBytes: number;
}

const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export function tensorBytes(dtype: WeightsDtype, shape: readonly number[]): number {
  const n = shape.reduce((a, b) => a * b, 1);
  return dtype === 'f32' ? 4 * n : dtype === 'q8_32' ? (n * 9) / 8 : (n * 3) / 4;
}

/** Lays out `specs` in order after the header. The JSON's own length moves dataStart, so offsets are
 *  computed until they stop changing (twice at most in practice). */
export function planWeights(specs: { name: string; dtype: WeightsDtype; shape: [number] | [number, number] }[]): WeightsPlan {
  let dataStart = align(12 + 2);
  for (;;) {
    let cursor = dataStart;
    const tensors = specs.map((s) => {
      const bytes = tensorBytes(s.dtype, s.shape);
      const entry = { ...s, offset: cursor, bytes };
      cursor = align(cursor + bytes);
      return entry;
    });
    const json = Buffer.from(JSON.stringify({ fileBytes: cursor, tensors }), 'utf8');
    const needed = align(12 + json.length);
    if (needed === dataStart) {
      const header = Buffer.alloc(dataStart);
      header.write(WEIGHTS_MAGIC, 0, 'ascii');
      header.writeUInt32LE(specs.some((t) => t.dtype === 'q4_32') ? WEIGHTS_VERSION_Q4 : WEIGHTS_VERSION, 4);
      header.writeUInt32LE(json.length, 8);
      json.copy(header, 12);
      return { header, tensors, fileBytes: cursor };
    }
    dataStart = needed;
  }
}

/** Row source for one output tensor: writes rows r0 … r0+n-1 (f32) into `out`. */
export type RowReader = (r0: number, n: number, out: Float32Array) => void;

const CHUNK_VALUES = 1 << 20;

/** Quantizes a [rows][cols] matrix chunk by chunk and writes quants then scales at `entry.offset`. */
export function writeQ8Tensor(fd: number, entry: WeightsEntry, read: RowReader, onBytes: (n: number) => void): void {
  const [rows, cols] = entry.shape as [number, number];
  const chunkRows = Math.max(1, Math.floor(CHUNK_VALUES / cols));
  const values = new Float32Array(chunkRows * cols);
  const quants = new Int8Array(chunkRows * cols);
  const scales = new Float32Array(chunkRows * cols / 32);
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const n = Math.min(chunkRows, rows - r0);
    read(r0, n, values);
    for (let i = 0; i < n; i++) {
      try {
        quantizeRowQ8(values, i * cols, cols, quants, i * cols, scales, i * cols / 32);
      } catch (e) {
        if (e instanceof UnquantizableWeightError) throw new CheckpointCorruptError(entry.name, `${e.what} in row ${r0 + i}, column ${e.index}`);
        throw e;
      }
    }
    fs.writeSync(fd, new Uint8Array(quants.buffer, 0, n * cols), 0, n * cols, entry.offset + r0 * cols);
    const scaleBytes = new Uint8Array(scales.buffer, 0, n * cols / 8);
    fs.writeSync(fd, scaleBytes, 0, scaleBytes.length, entry.offset + rows * cols + r0 * cols / 8);
    onBytes((n * cols * 9) / 8);
  }
}

/** Rows r0 … r0+n-1 of a matrix already in q4_32 (a GGUF Q4_0/Q4_1/Q4_K source): copied, not re-quantized. */
export type Q4RowReader = (r0: number, n: number, nibbles: Uint8Array, scales: Float32Array, mins: Float32Array) => void;

/** Writes a [rows][cols] q4_32 matrix (nibbles, then scales, then mins: FORMAT.md §Q4) chunk by
 *  chunk at `entry.offset`: from `exact` when given, else quantized from `read`'s f32 rows. */
export function writeQ4Tensor(fd: number, entry: WeightsEntry, read: RowReader, exact: Q4RowReader | undefined, onBytes: (n: number) => void): void {
  const [rows, cols] = entry.shape as [number, number];
  const chunkRows = Math.max(1, Math.floor(CHUNK_VALUES / cols));
  const values = new Float32Array(chunkRows * cols);
  const nibbles = new Uint8Array(chunkRows * cols / 2);
  const scales = new Float32Array(chunkRows * cols / 32);
  const mins = new Float32Array(chunkRows * cols / 32);
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const n = Math.min(chunkRows, rows - r0);
    if (exact) {
      exact(r0, n, nibbles, scales, mins);
    } else {
      read(r0, n, values);
      for (let b = 0; b < n * cols / 32; b++) {
        try {
          ({ scale: scales[b], min: mins[b] } = quantizeBlockQ4(values, b * 32, nibbles, b * 16));
        } catch (e) {
          if (e instanceof RangeError) throw new CheckpointCorruptError(entry.name, `row ${r0 + Math.floor((b * 32) / cols)}: ${e.message}`);
          throw e;
        }
      }
    }
    const blocks = n * cols / 32;
    for (let b = 0; b < blocks; b++) {
      if (!Number.isFinite(scales[b]) || !Number.isFinite(mins[b])) throw new CheckpointCorruptError(entry.name, `non-finite scale or min in row ${r0 + Math.floor((b * 32) / cols)}`);
    }
    fs.writeSync(fd, nibbles, 0, n * cols / 2, entry.offset + r0 * cols / 2);
    fs.writeSync(fd, new Uint8Array(scales.buffer, 0, 4 * blocks), 0, 4 * blocks, entry.offset + rows * cols / 2 + r0 * cols / 8);
    fs.writeSync(fd, new Uint8Array(mins.buffer, 0, 4 * blocks), 0, 4 * blocks, entry.offset + rows * cols / 2 + rows * cols / 8 + r0 * cols / 8);
    onBytes((n * cols * 3) / 4);
  }
}

export function writeF32Tensor(fd: number, entry: WeightsEntry, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new CheckpointCorruptError(entry.name, `non-finite value at ${i}`);
  }
  fs.writeSync(fd, new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 0, values.byteLength, entry.offset);
}
