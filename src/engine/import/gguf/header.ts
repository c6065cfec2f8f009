// GGUF header (versions 2 and 3, llama.cpp's gguf.cpp): magic "GGUF", u32 version, u64 tensor count,
// u64 metadata count, the metadata key/values, the tensor infos, then the tensor data from the next
// multiple of general.alignment (default 32). Every length and offset is checked against the file.
import fs from 'node:fs';
import path from 'node:path';
import { CheckpointCorruptError, CheckpointUnsupportedError } from '../errors';
import { GGML_TYPES, ggmlTypeName } from './types';

export type GgufValue = number | bigint | boolean | string | GgufValue[];

export interface GgufTensorInfo {
  name: string;
  /** ggml order: dims[0] is the number of values in a row (contiguous). */
  dims: number[];
  type: number;
  /** From the start of the file. */
  offset: number;
  bytes: number;
  rows: number;
  cols: number;
}

export interface GgufHeader {
  file: string;
  fileBytes: number;
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: Map<string, GgufTensorInfo>;
  alignment: number;
  dataOffset: number;
}

const CHUNK_BYTES = 1 << 20;
const MAX_COUNT = 1 << 24;

/** Sequential little-endian reads from a file, fetched a chunk at a time. */
class Cursor {
  pos = 0;
  private buf = Buffer.alloc(0);
  private bufStart = 0;

  constructor(private readonly fd: number, readonly fileBytes: number, private readonly name: string) {}

  private take(n: number): number {
    if (this.pos + n > this.fileBytes) throw new CheckpointCorruptError(this.name, `truncated: the header needs byte ${this.pos + n} of a ${this.fileBytes}-byte file`);
    if (this.pos < this.bufStart || this.pos + n > this.bufStart + this.buf.length) {
      this.buf = Buffer.alloc(Math.min(Math.max(n, CHUNK_BYTES), this.fileBytes - this.pos));
      fs.readSync(this.fd, this.buf, 0, this.buf.length, this.pos);
      this.bufStart = this.pos;
    }
    const at = this.pos - this.bufStart;
    this.pos += n;
    return at;
  }

  u8(): number { const at = this.take(1); return this.buf[at]; }
  i8(): number { const at = this.take(1); return this.buf.readInt8(at); }
  u16(): number { const at = this.take(2); return this.buf.readUInt16LE(at); }
  i16(): number { const at = this.take(2); return this.buf.readInt16LE(at); }
  u32(): number { const at = this.take(4); return this.buf.readUInt32LE(at); }
  i32(): number { const at = this.take(4); return this.buf.readInt32LE(at); }
  f32(): number { const at = this.take(4); return this.buf.readFloatLE(at); }
  f64(): number { const at = this.take(8); return this.buf.readDoubleLE(at); }
  i64(): bigint { const at = this.take(8); return this.buf.readBigInt64LE(at); }
  /** A u64 that must fit a JavaScript number (counts, lengths, dims, offsets). */
  size(what: string): number {
    const at = this.take(8);
    const v = this.buf.readBigUInt64LE(at);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CheckpointCorruptError(this.name, `${what} ${v} is impossibly large`);
    return Number(v);
  }
  u64(): number | bigint {
    const at = this.take(8);
    const v = this.buf.readBigUInt64LE(at);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  string(): string {
    const n = this.size('a string length');
    if (this.pos + n > this.fileBytes) throw new CheckpointCorruptError(this.name, `truncated: a ${n}-byte string at byte ${this.pos} runs past the end`);
    const at = this.take(n);
    return this.buf.toString('utf8', at, at + n);
  }
}

function readValue(c: Cursor, type: number, key: string, name: string): GgufValue {
  switch (type) {
    case 0: return c.u8();
    case 1: return c.i8();
    case 2: return c.u16();
    case 3: return c.i16();
    case 4: return c.u32();
    case 5: return c.i32();
    case 6: return c.f32();
    case 7: return c.u8() !== 0;
    case 8: return c.string();
    case 9: {
      const elementType = c.u32();
      const n = c.size(`the length of array ${key}`);
      if (n > c.fileBytes - c.pos) throw new CheckpointCorruptError(name, `truncated: array ${key} of ${n} elements runs past the end`);
      if (elementType === 9) throw new CheckpointCorruptError(name, `array ${key} holds arrays, which llama.cpp does not write`);
      const out: GgufValue[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = readValue(c, elementType, key, name);
      return out;
    }
    case 10: return c.u64();
    case 11: return c.i64();
    case 12: return c.f64();
    default: throw new CheckpointCorruptError(name, `metadata ${key} has unknown value type ${type}`);
  }
}

/** Reads and validates the header of the GGUF file at `file`; reads no tensor data. */
export function readGgufHeader(file: string): GgufHeader {
  const name = path.basename(file);
  const fd = fs.openSync(file, 'r');
  try {
    const fileBytes = fs.fstatSync(fd).size;
    const c = new Cursor(fd, fileBytes, name);
    if (fileBytes < 4) throw new CheckpointCorruptError(name, `truncated: ${fileBytes} bytes`);
    const magic = String.fromCharCode(c.u8(), c.u8(), c.u8(), c.u8());
    if (magic !== 'GGUF') throw new CheckpointCorruptError(name, `not a GGUF file (magic "${magic}")`);
    const version = c.u32();
    if (version !== 2 && version !== 3) throw new CheckpointUnsupportedError(name, `GGUF version ${version} (this importer reads versions 2 and 3)`);
    const tensorCount = c.size('the tensor count');
    const kvCount = c.size('the metadata count');
    if (tensorCount > MAX_COUNT || kvCount > MAX_COUNT) throw new CheckpointCorruptError(name, `${tensorCount} tensors and ${kvCount} metadata entries is impossibly many`);

    const metadata = new Map<string, GgufValue>();
    for (let i = 0; i < kvCount; i++) {
      const key = c.string();
      if (metadata.has(key)) throw new CheckpointCorruptError(name, `duplicate metadata key ${key}`);
      metadata.set(key, readValue(c, c.u32(), key, name));
    }
    const alignmentValue = metadata.get('general.alignment') ?? 32;
    if (typeof alignmentValue !== 'number' || alignmentValue <= 0 || (alignmentValue & (alignmentValue - 1)) !== 0) {
      throw new CheckpointCorruptError(name, `general.alignment ${String(alignmentValue)} is not a power of two`);
    }
    const alignment = alignmentValue;

    const infos: Omit<GgufTensorInfo, 'offset'>[] = [];
    const relative: number[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < tensorCount; i++) {
      const tensorName = c.string();
      if (seen.has(tensorName)) throw new CheckpointCorruptError(name, `duplicate tensor name ${tensorName}`);
      seen.add(tensorName);
      const nDims = c.u32();
      if (nDims < 1 || nDims > 4) throw new CheckpointCorruptError(name, `tensor ${tensorName} has ${nDims} dimensions`);
      const dims: number[] = [];
      for (let d = 0; d < nDims; d++) dims.push(c.size(`a dimension of ${tensorName}`));
      const type = c.u32();
      const t = GGML_TYPES.get(type);
      if (!t) throw new CheckpointUnsupportedError(name, `tensor ${tensorName}'s ${ggmlTypeName(type)}`);
      const cols = dims[0];
      const rows = dims.slice(1).reduce((a, b) => a * b, 1);
      if (cols === 0 || rows === 0 || cols % t.blockValues !== 0) {
        throw new CheckpointCorruptError(name, `tensor ${tensorName} has dims [${dims.join(', ')}], not whole ${t.name} blocks of ${t.blockValues}`);
      }
      relative.push(c.size(`the offset of ${tensorName}`));
      infos.push({ name: tensorName, dims, type, rows, cols, bytes: rows * (cols / t.blockValues) * t.blockBytes });
    }
    const dataOffset = Math.ceil(c.pos / alignment) * alignment;
    const tensors = new Map<string, GgufTensorInfo>();
    infos.forEach((info, i) => {
      const offset = dataOffset + relative[i];
      if (relative[i] % alignment !== 0) throw new CheckpointCorruptError(name, `tensor ${info.name}'s offset ${relative[i]} is not a multiple of ${alignment}`);
      if (offset + info.bytes > fileBytes) {
        throw new CheckpointCorruptError(name, `tensor ${info.name} (${info.bytes} bytes at ${offset}) runs past the end of the ${fileBytes}-byte file: truncated or lying offsets`);
      }
      tensors.set(info.name, { ...info, offset });
    });
    return { file, fileBytes, version, metadata, tensors, alignment, dataOffset };
  } finally {
    fs.closeSync(fd);
  }
}
