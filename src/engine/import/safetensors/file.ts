// safetensors: u64 header length n, n bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}},
// then the data (offsets relative to its start). Checked against the file before any tensor is read.
import { halfToFloat } from '../../weights/float16';
import fs from 'node:fs';
import path from 'node:path';
import type { TensorSource } from '../checkpoint';
import { CheckpointCorruptError, CheckpointUnsupportedError } from '../errors';

const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

export interface SafetensorsTensor {
  file: string;
  dtype: string;
  shape: number[];
  /** From the start of the file. */
  offset: number;
  bytes: number;
}

export function readSafetensorsHeader(file: string): Map<string, SafetensorsTensor> {
  const name = path.basename(file);
  const fd = fs.openSync(file, 'r');
  try {
    const fileBytes = fs.fstatSync(fd).size;
    if (fileBytes < 8) throw new CheckpointCorruptError(name, `truncated: ${fileBytes} bytes`);
    const lenBuf = Buffer.alloc(8);
    fs.readSync(fd, lenBuf, 0, 8, 0);
    const headerBytes = Number(lenBuf.readBigUInt64LE(0));
    if (8 + headerBytes > fileBytes) throw new CheckpointCorruptError(name, `truncated: a ${headerBytes}-byte header in a ${fileBytes}-byte file`);
    const headerBuf = Buffer.alloc(headerBytes);
    fs.readSync(fd, headerBuf, 0, headerBytes, 8);
    let header: Record<string, { dtype?: unknown; shape?: unknown; data_offsets?: unknown }>;
    try {
      header = JSON.parse(headerBuf.toString('utf8'));
    } catch (e) {
      throw new CheckpointCorruptError(name, `header is not JSON (${(e as Error).message})`);
    }
    // JSON.parse keeps the last of duplicate keys silently; every `"name": {` is a top-level key
    // (the entries' own values hold no objects), so count them.
    const keys = headerBuf.toString('utf8').match(/"(?:[^"\\]|\\.)*"\s*:\s*\{/g) ?? [];
    if (keys.length !== Object.keys(header).length) {
      const seen = new Set<string>();
      const dup = keys.map((k) => JSON.parse(k.replace(/\s*:\s*\{$/, '')) as string).find((k) => seen.has(k) || !seen.add(k));
      if (dup !== undefined) throw new CheckpointCorruptError(name, `duplicate tensor ${dup}`);
    }
    const dataStart = 8 + headerBytes;
    const out = new Map<string, SafetensorsTensor>();
    for (const [tensor, info] of Object.entries(header)) {
      if (tensor === '__metadata__') continue;
      const { dtype, shape, data_offsets: offsets } = info;
      if (typeof dtype !== 'string' || !Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2) {
        throw new CheckpointCorruptError(name, `tensor ${tensor} lacks dtype, shape or data_offsets`);
      }
      if (!(dtype in DTYPE_BYTES)) throw new CheckpointUnsupportedError(name, `tensor ${tensor}'s dtype ${dtype} (supported: F32, F16, BF16)`);
      const [begin, end] = offsets as number[];
      const count = (shape as number[]).reduce((a, b) => a * b, 1);
      if (end - begin !== count * DTYPE_BYTES[dtype] || begin < 0) {
        throw new CheckpointCorruptError(name, `tensor ${tensor}: data_offsets [${begin}, ${end}] do not hold shape [${shape.join(', ')}] of ${dtype}`);
      }
      if (dataStart + end > fileBytes) throw new CheckpointCorruptError(name, `tensor ${tensor} ends at byte ${dataStart + end}, past the end of the ${fileBytes}-byte file: truncated or lying offsets`);
      out.set(tensor, { file, dtype, shape: shape as number[], offset: dataStart + begin, bytes: end - begin });
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

export function safetensorsSource(fd: number, t: SafetensorsTensor): TensorSource {
  const cols = t.shape[t.shape.length - 1] ?? 1;
  const rows = t.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const width = DTYPE_BYTES[t.dtype];
  let raw = Buffer.alloc(0);
  const bits = new Uint32Array(1);
  const asFloat = new Float32Array(bits.buffer);
  return {
    rows,
    cols,
    readRows(r0, n, out) {
      const bytes = n * cols * width;
      if (raw.length < bytes) raw = Buffer.alloc(bytes);
      fs.readSync(fd, raw, 0, bytes, t.offset + r0 * cols * width);
      for (let i = 0; i < n * cols; i++) {
        if (t.dtype === 'F32') out[i] = raw.readFloatLE(4 * i);
        else if (t.dtype === 'BF16') {
          bits[0] = raw.readUInt16LE(2 * i) << 16;
          out[i] = asFloat[0];
        } else out[i] = halfToFloat(raw.readUInt16LE(2 * i));
      }
    },
  };
}

