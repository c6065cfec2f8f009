// Reader for ffn.bin (models/FORMAT.md §3, §F): header, layer table, neuron-major bundled records in
// float32, float16, (version 2) int8 with one f32 scale per part or (version 3) q8_32.
import fs from 'node:fs/promises';
import { ModelFileCorruptError, ModelFormatUnsupportedError } from '../errors';
import { readCommonHeader } from './binHeader';
import { decodeFloat16Into, decodeFloat32Into } from './float16';
import { decodeInt8Into, readFloat32LE } from './int8';
import type { ManifestV2 } from '../manifestV2';

export const FFN_MAGIC = 'FCFF';
/** Version 2 is version 1 plus the int8 dtype; float files are still written as version 1.
 *  Version 3 (format v2 directories) holds q8_32 records only. */
export const FFN_VERSIONS: readonly number[] = [1, 2, 3];
const FFN_VERSION_INT8 = 2;
export const FFN_VERSION_Q8 = 3;
const SUPPORTED = '1, 2 or 3';
const FIXED_HEADER_BYTES = 64;
const LAYER_ENTRY_BYTES = 16;

export enum FfnDtype { F32 = 0, F16 = 1, I8 = 2, Q8 = 3 }
const VALUE_BYTES: Record<FfnDtype, number> = { [FfnDtype.F32]: 4, [FfnDtype.F16]: 2, [FfnDtype.I8]: 1, [FfnDtype.Q8]: 1 };
const Q8_BLOCK = 32;

/** One neuron record: parts × dModel values, plus one f32 scale per part for int8, or one per
 *  32 values for q8_32. */
export function ffnRecordBytes(dtype: FfnDtype, dModel: number, gated: boolean): number {
  const parts = gated ? 3 : 2;
  if (dtype === FfnDtype.Q8) return q8RecordLayout(dModel, gated).recordBytes;
  return parts * dModel * VALUE_BYTES[dtype] + (dtype === FfnDtype.I8 ? parts * 4 : 0);
}

/** Where a q8_32 record keeps each part (FORMAT.md §F), in bytes from the record's start:
 *  part p (0 gate when gated, then up, then down) has its d quants at quants[p] and its d/32 f32
 *  scales at scales[p]; the kernels address records in place with these. */
export interface Q8RecordLayout {
  parts: number;
  recordBytes: number;
  quants: number[];
  scales: number[];
}

export function q8RecordLayout(dModel: number, gated: boolean): Q8RecordLayout {
  const parts = gated ? 3 : 2;
  const part = [...Array(parts).keys()];
  return {
    parts,
    recordBytes: (parts * dModel * 9) / 8,
    quants: part.map((p) => p * dModel),
    scales: part.map((p) => parts * dModel + p * (dModel / Q8_BLOCK) * 4),
  };
}

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
  const { view, version, headerBytes, layers, dModel, ffnSize, dtype, flags } = readCommonHeader(buf, name, FFN_MAGIC, FFN_VERSIONS, SUPPORTED, FIXED_HEADER_BYTES);
  const recordBytes = view.getUint32(32, true);
  const alignment = view.getUint32(36, true);
  const fileBytes = Number(view.getBigUint64(40, true));
  if (!(dtype in VALUE_BYTES)) throw new ModelFormatUnsupportedError(name, `${version} with dtype ${dtype}`, SUPPORTED);
  if (dtype === FfnDtype.I8 && version < FFN_VERSION_INT8) {
    throw new ModelFormatUnsupportedError(name, `${version} with dtype 2 (int8 needs version 2)`, SUPPORTED);
  }
  if ((dtype === FfnDtype.Q8) !== (version === FFN_VERSION_Q8)) {
    throw new ModelFormatUnsupportedError(name, `${version} with dtype ${dtype} (q8_32, dtype 3, is version 3's only dtype)`, SUPPORTED);
  }
  if (dtype === FfnDtype.Q8 && dModel % Q8_BLOCK !== 0) throw new ModelFileCorruptError(name, `dModel ${dModel} is not a multiple of ${Q8_BLOCK} (q8_32 blocks)`);
  if (flags & ~1) throw new ModelFormatUnsupportedError(name, `${version} with flags 0x${flags.toString(16)}`, SUPPORTED);
  const gated = (flags & 1) === 1;
  if (headerBytes !== FIXED_HEADER_BYTES + LAYER_ENTRY_BYTES * layers || buf.length < headerBytes) {
    throw new ModelFileCorruptError(name, `header size ${headerBytes} does not match ${layers} layers`);
  }
  if (recordBytes !== ffnRecordBytes(dtype as FfnDtype, dModel, gated)) {
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

/** One layer section's records as stored ([ffnSize] records of recordBytes), e.g. q8_32 records for
 *  kernels that read them in place (offsets within a record: q8RecordLayout). */
export async function readFfnLayerRaw(file: fs.FileHandle, header: FfnHeader, layer: number, name = 'ffn.bin'): Promise<Uint8Array> {
  const { offset, bytes } = header.sections[layer];
  const raw = new Uint8Array(bytes);
  const { bytesRead } = await file.read(raw, 0, bytes, offset);
  if (bytesRead !== bytes) throw new ModelFileCorruptError(name, `truncated: layer ${layer}`);
  return raw;
}

/** Every value of every record is finite (int8: every scale), checked once at load: a NaN or an
 *  infinity would otherwise turn every suggestion into NULs, silently. Reads each layer section
 *  in slices of whole records. */
export async function checkFfnValues(file: fs.FileHandle, header: FfnHeader, name = 'ffn.bin'): Promise<void> {
  const { recordBytes, dModel, gated, dtype } = header;
  const parts = gated ? 3 : 2;
  const perSlice = Math.max(1, Math.floor((4 << 20) / recordBytes));
  const raw = Buffer.alloc(perSlice * recordBytes);
  const values = new Float32Array(parts * dModel); // one record, widened: [parts][dModel] f32
  const record = { gate: gated ? values.subarray(0, dModel) : undefined, up: values.subarray(gated ? dModel : 0), down: values.subarray((parts - 1) * dModel) };
  for (const [l, { offset, bytes }] of header.sections.entries()) {
    for (let done = 0; done < bytes; done += raw.length) {
      const want = Math.min(raw.length, bytes - done);
      const { bytesRead } = await file.read(raw, 0, want, offset + done);
      if (bytesRead !== want) throw new ModelFileCorruptError(name, `truncated: layer ${l}`);
      for (let at = 0; at < want; at += recordBytes) {
        const neuron = (done + at) / recordBytes;
        if (dtype === FfnDtype.I8) {
          for (let p = 0; p < parts; p++) {
            const scale = readFloat32LE(raw, at + 4 * p);
            if (!Number.isFinite(scale)) throw new ModelFileCorruptError(name, `layer ${l} neuron ${neuron} has an int8 scale of ${scale}`);
          }
          continue;
        }
        decodeFfnRecord(header, raw, at, record, 0);
        const bad = values.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) throw new ModelFileCorruptError(name, `layer ${l} neuron ${neuron} holds ${values[bad]}`);
      }
    }
  }
}

/** Reads one layer section and splits its records into gate / up / down matrices (f32). */
export async function readFfnLayer(file: fs.FileHandle, header: FfnHeader, layer: number): Promise<FfnLayerWeights> {
  const raw = await readFfnLayerRaw(file, header, layer);
  const { ffnSize, dModel, gated } = header;
  const weights = {
    gate: gated ? new Float32Array(ffnSize * dModel) : undefined,
    up: new Float32Array(ffnSize * dModel),
    down: new Float32Array(ffnSize * dModel),
  };
  for (let j = 0; j < ffnSize; j++) decodeFfnRecord(header, raw, j * header.recordBytes, weights, j);
  return weights;
}

/** Decodes the record at `src[at…at+recordBytes)` into row `row` of `dst`'s gate, up and down
 *  ([rows][dModel] f32 each; gate present exactly when the file is gated): float values widened,
 *  int8 values times their part's scale. The flash engine calls it per record it loads. */
export function decodeFfnRecord(header: FfnHeader, src: Uint8Array, at: number, dst: FfnLayerWeights, row: number): void {
  const d = header.dModel;
  const out = row * d;
  if (header.dtype === FfnDtype.Q8) {
    const parts = header.gated ? 3 : 2; // as q8RecordLayout, without allocating per record
    const scales = at + parts * d;
    let p = 0;
    if (dst.gate) { decodeQ8PartInto(src, at, scales, d, dst.gate, out); p++; }
    decodeQ8PartInto(src, at + p * d, scales + p * (d / 8), d, dst.up, out); p++;
    decodeQ8PartInto(src, at + p * d, scales + p * (d / 8), d, dst.down, out);
    return;
  }
  if (header.dtype === FfnDtype.I8) {
    const parts = header.gated ? 3 : 2;
    const q = at + 4 * parts; // the parts' scales come first, then their values
    let p = 0;
    if (dst.gate) { decodeInt8Into(src, q, d, readFloat32LE(src, at), dst.gate, out); p++; }
    decodeInt8Into(src, q + p * d, d, readFloat32LE(src, at + 4 * p), dst.up, out); p++;
    decodeInt8Into(src, q + p * d, d, readFloat32LE(src, at + 4 * p), dst.down, out);
    return;
  }
  const decode = header.dtype === FfnDtype.F16 ? decodeFloat16Into : decodeFloat32Into;
  const partBytes = d * VALUE_BYTES[header.dtype];
  if (dst.gate) { decode(src, at, d, dst.gate, out); at += partBytes; }
  decode(src, at, d, dst.up, out);
  decode(src, at + partBytes, d, dst.down, out);
}

/** d values of one q8_32 part: quants at src[q…], one f32 scale per 32 at src[s…] (any alignment). */
function decodeQ8PartInto(src: Uint8Array, q: number, s: number, d: number, dst: Float32Array, dstAt: number): void {
  for (let b = 0; b < d / Q8_BLOCK; b++) decodeInt8Into(src, q + b * Q8_BLOCK, Q8_BLOCK, readFloat32LE(src, s + 4 * b), dst, dstAt + b * Q8_BLOCK);
}

/** A v2 directory's ffn.bin: version 3 (q8_32) with the manifest's shape; the gate is in the
 *  records exactly for ReLU-gated models (a silu model's gate is in weights.bin). */
export function checkFfnMatchesV2(h: FfnHeader, manifest: ManifestV2, name = manifest.ffn.file): void {
  const a = manifest.architecture;
  if (h.version !== FFN_VERSION_Q8) throw new ModelFormatUnsupportedError(name, `${h.version} in a format-v2 directory`, FFN_VERSION_Q8);
  const gated = a.ffnGated && a.ffnActivation !== 'silu';
  if (h.layers !== a.layers || h.dModel !== a.dModel || h.ffnSize !== a.ffnSize || h.gated !== gated) {
    throw new ModelFileCorruptError(name, `shape ${h.layers}×${h.ffnSize}×${h.dModel}${h.gated ? ' gated' : ''} does not match the manifest's architecture (${a.layers}×${a.ffnSize}×${a.dModel}${gated ? ' gated' : ''})`);
  }
}
