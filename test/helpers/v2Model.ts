// Test-side readers of what the importer writes (models/FORMAT.md v2 §W, §F), kept apart from the
// importer so a test compares two readings of the spec: weights.bin tensors dequantized to f32, and
// ffn.bin version 3 records split back into up rows and down columns.
import fs from 'node:fs';

export interface V2Tensor {
  dtype: 'f32' | 'q8_32' | 'q4_32';
  shape: number[];
  values: Float32Array;
  quants?: Int8Array;
  scales?: Float32Array;
}

export function readWeightsBin(file: string): Map<string, V2Tensor> {
  const buf = fs.readFileSync(file);
  const version = buf.readUInt32LE(4);
  if (buf.toString('ascii', 0, 4) !== 'FCWT' || (version !== 1 && version !== 2)) throw new Error('not weights.bin v1 or v2');
  const table = JSON.parse(buf.toString('utf8', 12, 12 + buf.readUInt32LE(8))) as {
    fileBytes: number; tensors: { name: string; dtype: 'f32' | 'q8_32' | 'q4_32'; shape: number[]; offset: number; bytes: number }[];
  };
  if ((version === 2) !== table.tensors.some((t) => t.dtype === 'q4_32')) throw new Error(`version ${version} with${version === 2 ? 'out' : ''} q4_32 tensors`);
  if (table.fileBytes !== buf.length) throw new Error(`fileBytes ${table.fileBytes} ≠ ${buf.length}`);
  const out = new Map<string, V2Tensor>();
  for (const t of table.tensors) {
    if (t.offset % 64 !== 0) throw new Error(`${t.name} unaligned`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    const bytes = buf.subarray(t.offset, t.offset + t.bytes);
    if (t.dtype === 'f32') {
      out.set(t.name, { dtype: t.dtype, shape: t.shape, values: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 4 * n)) });
      continue;
    }
    if (t.dtype === 'q4_32') {
      // FORMAT.md §Q4: nibbles (value k low, k + 16 high in each block's 16 bytes), scales, mins
      const scales = new Float32Array(bytes.buffer.slice(bytes.byteOffset + n / 2, bytes.byteOffset + n / 2 + n / 8));
      const mins = new Float32Array(bytes.buffer.slice(bytes.byteOffset + n / 2 + n / 8, bytes.byteOffset + (3 * n) / 4));
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const byte = bytes[(i >> 5) * 16 + (i & 15)];
        values[i] = Math.fround(((i & 31) < 16 ? byte & 15 : byte >> 4) * scales[i >> 5]) + mins[i >> 5];
      }
      out.set(t.name, { dtype: t.dtype, shape: t.shape, values, scales });
      continue;
    }
    const quants = new Int8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n));
    const scales = new Float32Array(bytes.buffer.slice(bytes.byteOffset + n, bytes.byteOffset + n + n / 8));
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = quants[i] * scales[i >> 5];
    out.set(t.name, { dtype: t.dtype, shape: t.shape, values, quants, scales });
  }
  return out;
}

export interface FfnV3 {
  version: number;
  layers: number;
  dModel: number;
  ffnSize: number;
  dtype: number;
  flags: number;
  /** Per layer: up [ffnSize][d] and down [d][ffnSize], dequantized. */
  up: Float32Array[];
  down: Float32Array[];
}

export function readFfnV3(file: string): FfnV3 {
  const buf = fs.readFileSync(file);
  const u32 = (at: number) => buf.readUInt32LE(at);
  if (buf.toString('ascii', 0, 4) !== 'FCFF') throw new Error('not ffn.bin');
  const [version, , layers, d, f, dtype, flags, recordBytes, alignment] = [4, 8, 12, 16, 20, 24, 28, 32, 36].map(u32);
  if (Number(buf.readBigUInt64LE(40)) !== buf.length) throw new Error('fileBytes mismatch');
  const up: Float32Array[] = [], down: Float32Array[] = [];
  for (let l = 0; l < layers; l++) {
    const offset = Number(buf.readBigUInt64LE(64 + 16 * l));
    if (offset % alignment !== 0) throw new Error('layer unaligned');
    const u = new Float32Array(f * d), dn = new Float32Array(d * f);
    for (let j = 0; j < f; j++) {
      const at = offset + j * recordBytes;
      for (let i = 0; i < d; i++) {
        u[j * d + i] = buf.readInt8(at + i) * buf.readFloatLE(at + 2 * d + 4 * (i >> 5));
        dn[i * f + j] = buf.readInt8(at + d + i) * buf.readFloatLE(at + 2 * d + 4 * (d / 32) + 4 * (i >> 5));
      }
    }
    up.push(u);
    down.push(dn);
  }
  return { version, layers, dModel: d, ffnSize: f, dtype, flags, up, down };
}

/** A safetensors tensor decoded to f32 (F32, F16, BF16), read straight from the file. */
export function readSafetensor(file: string, name: string): { shape: number[]; values: Float32Array } | undefined {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.toString('utf8', 8, 8 + n));
  const t = header[name];
  if (!t) return undefined;
  const [begin, end] = t.data_offsets as number[];
  const raw = buf.subarray(8 + n + begin, 8 + n + end);
  const width = t.dtype === 'F32' ? 4 : 2;
  const values = new Float32Array(raw.length / width);
  for (let i = 0; i < values.length; i++) {
    if (t.dtype === 'F32') values[i] = raw.readFloatLE(4 * i);
    else if (t.dtype === 'BF16') values[i] = new Float32Array(new Uint32Array([raw.readUInt16LE(2 * i) << 16]).buffer)[0];
    else values[i] = halfBits(raw.readUInt16LE(2 * i));
  }
  return { shape: t.shape, values };
}

function halfBits(h: number): number {
  const e = (h >> 10) & 31, m = h & 1023, s = h & 0x8000 ? -1 : 1;
  return e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
}
