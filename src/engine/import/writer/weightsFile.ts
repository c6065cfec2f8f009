// weights.bin (models/FORMAT.md v2 §W): "FCWT", u32 version 1, u32 jsonBytes, the JSON table, zeros
// to dataStart (a multiple of 64), then each tensor at a 64-aligned offset. The table is planned
// from the shapes alone, so tensors stream to their offsets one at a time.
import fs from 'node:fs';
import { CheckpointCorruptError } from '../errors';
import { NonFiniteWeightError, quantizeRowQ8 } from './q8';

export const WEIGHTS_MAGIC = 'FCWT';
export const WEIGHTS_VERSION = 1;
const ALIGN = 64;

export interface WeightsEntry {
  name: string;
  dtype: 'f32' | 'q8_32';
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

export function tensorBytes(dtype: 'f32' | 'q8_32', shape: readonly number[]): number {
  const n = shape.reduce((a, b) => a * b, 1);
  return dtype === 'f32' ? 4 * n : (n * 9) / 8;
}

/** Lays out `specs` in order after the header. The JSON's own length moves dataStart, so offsets are
 *  computed until they stop changing (twice at most in practice). */
export function planWeights(specs: { name: string; dtype: 'f32' | 'q8_32'; shape: [number] | [number, number] }[]): WeightsPlan {
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
      header.writeUInt32LE(WEIGHTS_VERSION, 4);
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
        if (e instanceof NonFiniteWeightError) throw new CheckpointCorruptError(entry.name, `non-finite weight in row ${r0 + i}, column ${e.index}`);
        throw e;
      }
    }
    fs.writeSync(fd, new Uint8Array(quants.buffer, 0, n * cols), 0, n * cols, entry.offset + r0 * cols);
    const scaleBytes = new Uint8Array(scales.buffer, 0, n * cols / 8);
    fs.writeSync(fd, scaleBytes, 0, scaleBytes.length, entry.offset + rows * cols + r0 * cols / 8);
    onBytes((n * cols * 9) / 8);
  }
}

export function writeF32Tensor(fd: number, entry: WeightsEntry, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new CheckpointCorruptError(entry.name, `non-finite value at ${i}`);
  }
  fs.writeSync(fd, new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 0, values.byteLength, entry.offset);
}
