// Reader for ffn.bin (models/FORMAT.md §3): header, layer table, neuron-major bundled records.
import fs from 'node:fs/promises';
import { ModelFileCorruptError, ModelFormatUnsupportedError } from '../errors';
import { float16ToFloat32 } from './float16';

export const FFN_MAGIC = 'FCFF';
export const FFN_VERSION = 1;
const FIXED_HEADER_BYTES = 64;
const LAYER_ENTRY_BYTES = 16;

export enum FfnDtype { F32 = 0, F16 = 1 }
const DTYPE_BYTES: Record<FfnDtype, number> = { [FfnDtype.F32]: 4, [FfnDtype.F16]: 2 };

export interface FfnHeader {
  version: number;
  layers: number;
  dModel: number;
  ffnSize: number;
  dtype: FfnDtype;
  gated: boolean;
  recordBytes: number;
  alignment: number;
  fileBytes: number;
  sections: { offset: number; bytes: number }[];
}

/** One layer's FFN weights, split out of the bundled records for the dense path. */
export interface FfnLayerWeights {
  gate: Float32Array | undefined; // [ffnSize][dModel] f32, W_gate rows; undefined when not gated
  up: Float32Array; //               [ffnSize][dModel] f32, W_up rows
  down: Float32Array; //             [ffnSize][dModel] f32, W_down columns
}

export function parseFfnHeader(buf: Uint8Array, actualFileBytes: number, name = 'ffn.bin'): FfnHeader {
  if (buf.length < FIXED_HEADER_BYTES) throw new ModelFileCorruptError(name, 'truncated header');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = String.fromCharCode(buf[0], buf[1], buf[2], buf[3]);
  if (magic !== FFN_MAGIC) throw new ModelFileCorruptError(name, `bad magic "${magic}"`);
  const version = view.getUint32(4, true);
  if (version !== FFN_VERSION) throw new ModelFormatUnsupportedError(name, version, FFN_VERSION);
  const headerBytes = view.getUint32(8, true);
  const layers = view.getUint32(12, true);
  const dModel = view.getUint32(16, true);
  const ffnSize = view.getUint32(20, true);
  const dtype = view.getUint32(24, true);
  const flags = view.getUint32(28, true);
  const recordBytes = view.getUint32(32, true);
  const alignment = view.getUint32(36, true);
  const fileBytes = Number(view.getBigUint64(40, true));
  if (!(dtype in DTYPE_BYTES)) throw new ModelFormatUnsupportedError(name, `dtype ${dtype}`, FFN_VERSION);
  if (flags & ~1) throw new ModelFormatUnsupportedError(name, `flags 0x${flags.toString(16)}`, FFN_VERSION);
  const gated = (flags & 1) === 1;
  if (headerBytes !== FIXED_HEADER_BYTES + LAYER_ENTRY_BYTES * layers || buf.length < headerBytes) {
    throw new ModelFileCorruptError(name, `header size ${headerBytes} does not match ${layers} layers`);
  }
  if (recordBytes !== (gated ? 3 : 2) * dModel * DTYPE_BYTES[dtype as FfnDtype]) {
    throw new ModelFileCorruptError(name, `record size ${recordBytes} does not match dModel ${dModel}`);
  }
  if (actualFileBytes < fileBytes) throw new ModelFileCorruptError(name, `truncated: ${actualFileBytes} of ${fileBytes} bytes`);
  const sections = [];
  for (let l = 0; l < layers; l++) {
    const at = FIXED_HEADER_BYTES + LAYER_ENTRY_BYTES * l;
    const offset = Number(view.getBigUint64(at, true));
    const bytes = Number(view.getBigUint64(at + 8, true));
    if (bytes !== ffnSize * recordBytes || offset % alignment !== 0 || offset + bytes > fileBytes) {
      throw new ModelFileCorruptError(name, `truncated: layer ${l} section ${offset}+${bytes} lies outside the file`);
    }
    sections.push({ offset, bytes });
  }
  return { version, layers, dModel, ffnSize, dtype, gated, recordBytes, alignment, fileBytes, sections };
}

export async function readFfnHeader(file: fs.FileHandle, name = 'ffn.bin'): Promise<FfnHeader> {
  const { size } = await file.stat();
  const fixed = Buffer.alloc(FIXED_HEADER_BYTES);
  await file.read(fixed, 0, FIXED_HEADER_BYTES, 0);
  const layers = fixed.readUInt32LE(12);
  const full = Buffer.alloc(Math.min(FIXED_HEADER_BYTES + LAYER_ENTRY_BYTES * layers, size));
  await file.read(full, 0, full.length, 0);
  return parseFfnHeader(full, size, name);
}

/** Reads one layer section and splits its records into gate / up / down matrices. */
export async function readFfnLayer(file: fs.FileHandle, header: FfnHeader, layer: number): Promise<FfnLayerWeights> {
  const { offset, bytes } = header.sections[layer];
  const raw = Buffer.alloc(bytes);
  const { bytesRead } = await file.read(raw, 0, bytes, offset);
  if (bytesRead !== bytes) throw new ModelFileCorruptError('ffn.bin', `truncated: layer ${layer}`);
  const values = decode(raw, header.dtype); // [ffnSize][parts][dModel]
  const { ffnSize, dModel, gated } = header;
  const parts = gated ? 3 : 2;
  const gate = gated ? new Float32Array(ffnSize * dModel) : undefined;
  const up = new Float32Array(ffnSize * dModel);
  const down = new Float32Array(ffnSize * dModel);
  for (let j = 0; j < ffnSize; j++) {
    let at = j * parts * dModel;
    if (gate) { gate.set(values.subarray(at, at + dModel), j * dModel); at += dModel; }
    up.set(values.subarray(at, at + dModel), j * dModel); at += dModel;
    down.set(values.subarray(at, at + dModel), j * dModel);
  }
  return { gate, up, down };
}

function decode(raw: Buffer, dtype: FfnDtype): Float32Array {
  // Typed-array views need an aligned byte offset; Buffer.alloc gives one, a copy is the fallback.
  const bytes = raw.byteOffset % 4 === 0 ? raw : Uint8Array.from(raw);
  if (dtype === FfnDtype.F32) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  return float16ToFloat32(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2));
}
