// Reader for predictors.bin (models/FORMAT.md §4): per layer, a low-rank predictor of which FFN
// neurons are active for a token: score = (x · A) · B + bias, neuron j active ⇔ score[j] > threshold.
import fs from 'node:fs/promises';
import { ModelFileCorruptError, ModelFormatUnsupportedError } from '../errors';
import { readCommonHeader } from './binHeader';
import { FfnDtype } from './ffnFile';
import { float16ToFloat32 } from './float16';

export const PREDICTORS_MAGIC = 'FCPR';
export const PREDICTORS_VERSION = 1;
const FIXED_HEADER_BYTES = 64;
const LAYER_ENTRY_BYTES = 32;
const SECTION_ALIGNMENT = 64;
type FloatDtype = FfnDtype.F32 | FfnDtype.F16; // ffn.bin's float codes; int8 is ffn.bin's only
const DTYPE_BYTES: Record<FloatDtype, number> = { [FfnDtype.F32]: 4, [FfnDtype.F16]: 2 };

/** One layer's predictor; a, b and bias are views into one copy of the layer's section. */
export interface PredictorLayer {
  rank: number;
  threshold: number; // f32, as stored
  a: Float32Array; //    [dModel][rank]
  b: Float32Array; //    [rank][ffnSize]
  bias: Float32Array; // [ffnSize]
}

/** The architecture the file must match (the manifest's), and the manifest's rank per layer. */
export interface PredictorsExpectation { layers: number; dModel: number; ffnSize: number; ranks?: readonly number[] }

/** Parses a whole predictors.bin; throws ModelFileCorruptError / ModelFormatUnsupportedError naming what is wrong. */
export function parsePredictors(buf: Uint8Array, expect: PredictorsExpectation, name = 'predictors.bin'): PredictorLayer[] {
  const { view, headerBytes, layers, dModel, ffnSize, dtype, flags } = readCommonHeader(buf, name, PREDICTORS_MAGIC, [PREDICTORS_VERSION], PREDICTORS_VERSION, FIXED_HEADER_BYTES);
  const fileBytes = Number(view.getBigUint64(32, true));
  if (!(dtype in DTYPE_BYTES)) throw new ModelFormatUnsupportedError(name, `dtype ${dtype}`, PREDICTORS_VERSION);
  if (flags !== 0) throw new ModelFormatUnsupportedError(name, `flags 0x${flags.toString(16)}`, PREDICTORS_VERSION);
  if (buf.length < fileBytes) throw new ModelFileCorruptError(name, `truncated: ${buf.length} of ${fileBytes} bytes`);
  if (headerBytes !== FIXED_HEADER_BYTES + LAYER_ENTRY_BYTES * layers || headerBytes > fileBytes) {
    throw new ModelFileCorruptError(name, `header size ${headerBytes} does not match ${layers} layers`);
  }
  const found = { layers, dModel, ffnSize };
  for (const key of ['layers', 'dModel', 'ffnSize'] as const) {
    if (found[key] !== expect[key]) throw new ModelFileCorruptError(name, `${key} ${found[key]} does not match the manifest's ${expect[key]}`);
  }

  const dtypeBytes = DTYPE_BYTES[dtype as FloatDtype];
  const out: PredictorLayer[] = [];
  for (let l = 0; l < layers; l++) {
    const at = FIXED_HEADER_BYTES + LAYER_ENTRY_BYTES * l;
    const offset = Number(view.getBigUint64(at, true));
    const bytes = Number(view.getBigUint64(at + 8, true));
    const rank = view.getUint32(at + 16, true);
    const threshold = view.getFloat32(at + 20, true);
    if (rank === 0) throw new ModelFileCorruptError(name, `layer ${l} has rank 0`);
    if (offset + bytes > fileBytes) throw new ModelFileCorruptError(name, `truncated: layer ${l} section ${offset}+${bytes} lies outside the file`);
    const values = dModel * rank + rank * ffnSize + ffnSize;
    if (offset % SECTION_ALIGNMENT !== 0 || offset < headerBytes || bytes !== values * dtypeBytes) {
      throw new ModelFileCorruptError(name, `layer ${l} table entry (offset ${offset}, ${bytes} bytes, rank ${rank}) is inconsistent`);
    }
    if (!Number.isFinite(threshold)) throw new ModelFileCorruptError(name, `layer ${l} threshold is ${threshold}`);
    if (expect.ranks && expect.ranks[l] !== rank) throw new ModelFileCorruptError(name, `layer ${l} has rank ${rank}, the manifest says ${expect.ranks[l]}`);
    const all = decode(buf.subarray(offset, offset + bytes), dtype as FloatDtype); // [A | B | bias]
    const bad = all.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new ModelFileCorruptError(name, `layer ${l} holds ${all[bad]} at value ${bad} of its A | B | bias`);
    const aEnd = dModel * rank;
    const bEnd = aEnd + rank * ffnSize;
    out.push({ rank, threshold, a: all.subarray(0, aEnd), b: all.subarray(aEnd, bEnd), bias: all.subarray(bEnd) });
  }
  return out;
}

export async function readPredictors(file: string, expect: PredictorsExpectation, name = 'predictors.bin'): Promise<PredictorLayer[]> {
  return parsePredictors(await fs.readFile(file), expect, name);
}

function decode(raw: Uint8Array, dtype: FloatDtype): Float32Array {
  // A copy (not raw.slice(): on a Buffer that is a view): typed-array views need an aligned byte
  // offset, and the layers must not alias the file's buffer.
  const bytes = new Uint8Array(raw);
  if (dtype === FfnDtype.F32) return new Float32Array(bytes.buffer, 0, bytes.length / 4);
  return float16ToFloat32(new Uint16Array(bytes.buffer, 0, bytes.length / 2));
}
