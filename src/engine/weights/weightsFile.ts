// Reader for weights.bin (models/FORMAT.md §W): a JSON tensor table, then 64-byte-aligned f32,
// q8_32 (§Q) and (version 2) q4_32 (§Q4) tensors. Everything the table says is checked against the v2 manifest's architecture
// before a byte of data is read, and every float is checked finite as it is read, so a bad file is
// named at load, not found later as NaN logits.
import type fs from 'node:fs/promises';
import { ModelFileCorruptError, ModelFormatUnsupportedError } from '../errors';
import type { Architecture } from '../manifest';
import { isF16Scale, scaleError } from './f16';
import { Q8_BLOCK, type ManifestV2 } from '../manifestV2';

export const WEIGHTS_MAGIC = 'FCWT';
export const WEIGHTS_VERSION = 1;
/** Version 1 plus dtype q4_32 for any matrix; writers write it only when a tensor is q4_32. */
export const WEIGHTS_VERSION_Q4 = 2;
export const WEIGHTS_ALIGNMENT = 64;
const FIXED_BYTES = 12;
/** Reads stay below Node's 2 GiB limit per call. */
const READ_CHUNK = 1 << 26;

export type WeightDtype = 'f32' | 'q8_32' | 'q4_32';
export interface WeightTensor { name: string; dtype: WeightDtype; shape: number[]; offset: number; bytes: number }
export interface WeightsHeader { fileBytes: number; dataStart: number; tensors: Map<string, WeightTensor> }

/** What the architecture requires (or, `optional`, allows) in weights.bin, by name. A matrix's
 *  spec says q8_32; q4_32 is allowed in its place (version 2). */
export interface TensorSpec { dtype: 'f32' | 'q8_32'; shape: number[]; optional?: boolean }

export function weightsTensorSpecs(a: Architecture): Map<string, TensorSpec> {
  const { dModel: d, heads: H, kvHeads: Hkv, headDim: hd, ffnSize: F, vocabSize: V } = a;
  const specs = new Map<string, TensorSpec>([
    ['embed', { dtype: 'q8_32', shape: [V, d] }],
    ['head_bias', { dtype: 'f32', shape: [V], optional: true }],
    ['final_norm', { dtype: 'f32', shape: [d] }],
  ]);
  if (!a.tiedEmbeddings) specs.set('head', { dtype: 'q8_32', shape: [V, d] });
  for (let l = 0; l < a.layers; l++) {
    const qkvRows = (H + 2 * Hkv) * hd;
    specs.set(`layers.${l}.attn_norm`, { dtype: 'f32', shape: [d] });
    specs.set(`layers.${l}.qkv`, { dtype: 'q8_32', shape: [qkvRows, d] });
    if (a.attentionBias) specs.set(`layers.${l}.qkv_bias`, { dtype: 'f32', shape: [qkvRows] });
    specs.set(`layers.${l}.out`, { dtype: 'q8_32', shape: [d, H * hd] });
    specs.set(`layers.${l}.ffn_norm`, { dtype: 'f32', shape: [d] });
    if (a.ffnActivation === 'silu') specs.set(`layers.${l}.ffn_gate`, { dtype: 'q8_32', shape: [F, d] });
  }
  return specs;
}

/** Bytes of a tensor: 4·n for f32, rows·cols·9/8 for q8_32 (quants, then one f32 scale per 32),
 *  rows·cols·3/4 for q4_32 (nibbles, then an f32 scale and an f32 min per 32). */
export function tensorBytes(dtype: WeightDtype, shape: readonly number[]): number {
  const n = shape.reduce((a, b) => a * b, 1);
  return dtype === 'f32' ? 4 * n : dtype === 'q8_32' ? (n * 9) / 8 : (n * 3) / 4;
}

/** Byte offset of the first f32 (scale or value) in a tensor's bytes. */
function floatsStart(t: WeightTensor): number {
  if (t.dtype === 'f32') return 0;
  const n = t.shape[0] * t.shape[1];
  return t.dtype === 'q8_32' ? n : n / 2;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function tableEntry(e: unknown, i: number, fileName: string, version: number): WeightTensor {
  const bad = (what: string) => new ModelFileCorruptError(fileName, `tensor table entry ${i} ${what}`);
  if (typeof e !== 'object' || e === null) throw bad('is not an object');
  const { name, dtype, shape, offset, bytes } = e as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') throw bad('has no name');
  const known = version === WEIGHTS_VERSION_Q4 ? ['f32', 'q8_32', 'q4_32'] : ['f32', 'q8_32'];
  if (typeof dtype !== 'string' || !known.includes(dtype)) throw new ModelFormatUnsupportedError(fileName, `${version} with tensor ${name} of dtype ${JSON.stringify(dtype)}`, `${WEIGHTS_VERSION} (dtypes f32 and q8_32) or ${WEIGHTS_VERSION_Q4} (also q4_32)`);
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > 2 || !shape.every((n) => isCount(n) && n > 0)) throw bad(`(${name}) has shape ${JSON.stringify(shape)}`);
  if (!isCount(offset) || !isCount(bytes)) throw bad(`(${name}) has offset ${offset} and bytes ${bytes}, not byte counts`);
  return { name, dtype: dtype as WeightDtype, shape: shape as number[], offset, bytes };
}

/** Validates the table (`json`, parsed) of a weights.bin of `actualBytes` bytes against `manifest`. */
export function checkWeightsTable(json: unknown, dataStart: number, actualBytes: number, fileName: string, manifest: ManifestV2, version = WEIGHTS_VERSION): WeightsHeader {
  const corrupt = (what: string) => new ModelFileCorruptError(fileName, what);
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { tensors?: unknown }).tensors)) throw corrupt('its JSON table has no tensors list');
  const fileBytes = (json as { fileBytes?: unknown }).fileBytes;
  if (!isCount(fileBytes)) throw corrupt('its JSON table has no fileBytes');
  if (actualBytes < fileBytes) throw corrupt(`truncated: ${actualBytes} of ${fileBytes} bytes`);
  if (actualBytes !== fileBytes) throw corrupt(`${actualBytes} bytes, its table says ${fileBytes}`);
  const tensors = new Map<string, WeightTensor>();
  (json as { tensors: unknown[] }).tensors.forEach((e, i) => {
    const t = tableEntry(e, i, fileName, version);
    if (tensors.has(t.name)) throw corrupt(`tensor ${t.name} is listed twice`);
    tensors.set(t.name, t);
  });
  const specs = weightsTensorSpecs(manifest.architecture);
  for (const [name, spec] of specs) if (!spec.optional && !tensors.has(name)) throw corrupt(`tensor ${name} is missing`);
  for (const t of tensors.values()) {
    const spec = specs.get(t.name);
    const at = `tensor ${t.name}`;
    if (!spec) throw corrupt(`${at} is unexpected for this architecture`);
    if (t.dtype !== spec.dtype && !(spec.dtype === 'q8_32' && t.dtype === 'q4_32')) throw corrupt(`${at} is ${t.dtype}, the format says ${spec.dtype === 'f32' ? 'f32' : 'q8_32 or q4_32'}`);
    if (t.dtype === 'q4_32' && manifest.quantization !== 'q4_32') throw corrupt(`${at} is q4_32, but the manifest's quantization is ${manifest.quantization}`);
    if (t.shape.join() !== spec.shape.join()) throw corrupt(`${at} has shape [${t.shape}], the manifest's architecture needs [${spec.shape}]`);
    if (t.bytes !== tensorBytes(t.dtype, t.shape)) throw corrupt(`${at} has ${t.bytes} bytes, [${t.shape}] ${t.dtype} needs ${tensorBytes(t.dtype, t.shape)}`);
    if (t.offset % WEIGHTS_ALIGNMENT !== 0 || t.offset < dataStart) throw corrupt(`${at} at offset ${t.offset} is unaligned or inside the header (data starts at ${dataStart}, every ${WEIGHTS_ALIGNMENT} bytes)`);
    if (t.offset + t.bytes > fileBytes) throw corrupt(`truncated: ${at} ends at ${t.offset + t.bytes}, past the end (${fileBytes})`);
  }
  const byOffset = [...tensors.values()].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < byOffset.length; i++) {
    const [prev, t] = [byOffset[i - 1], byOffset[i]];
    if (t.offset < prev.offset + prev.bytes) throw corrupt(`tensor ${t.name} overlaps tensor ${prev.name}`);
  }
  return { fileBytes, dataStart, tensors };
}

async function readExactly(file: fs.FileHandle, dst: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < dst.byteLength) {
    const { bytesRead } = await file.read(dst, done, Math.min(READ_CHUNK, dst.byteLength - done), position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** Reads and validates the header and tensor table against the v2 architecture (required/forbidden tensors, shapes, bytes, alignment, overlap, file size). */
export async function readWeightsHeader(file: fs.FileHandle, fileName: string, manifest: ManifestV2): Promise<WeightsHeader> {
  const { size } = await file.stat();
  const fixed = new Uint8Array(FIXED_BYTES);
  if (await readExactly(file, fixed, 0) < FIXED_BYTES) throw new ModelFileCorruptError(fileName, `truncated: ${size} bytes, shorter than the header`);
  const view = new DataView(fixed.buffer);
  const magic = String.fromCharCode(...fixed.subarray(0, 4));
  if (magic !== WEIGHTS_MAGIC) throw new ModelFileCorruptError(fileName, `bad magic "${magic}"`);
  const version = view.getUint32(4, true);
  if (version !== WEIGHTS_VERSION && version !== WEIGHTS_VERSION_Q4) throw new ModelFormatUnsupportedError(fileName, version, `${WEIGHTS_VERSION} or ${WEIGHTS_VERSION_Q4}`);
  const jsonBytes = view.getUint32(8, true);
  if (FIXED_BYTES + jsonBytes > size) throw new ModelFileCorruptError(fileName, `truncated: its ${jsonBytes}-byte tensor table ends past the end (${size} bytes)`);
  const text = new Uint8Array(jsonBytes);
  await readExactly(file, text, FIXED_BYTES);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(text));
  } catch (e) {
    throw new ModelFileCorruptError(fileName, `its tensor table is not valid JSON (${(e as Error).message})`);
  }
  const dataStart = Math.ceil((FIXED_BYTES + jsonBytes) / WEIGHTS_ALIGNMENT) * WEIGHTS_ALIGNMENT;
  return checkWeightsTable(json, dataStart, size, fileName, manifest, version);
}

/** Reads tensor t into dst (dst.byteLength === t.bytes), checks every f32 value / q8 scale / q4
 *  scale and min is finite, and every q8 scale an f16 value (named error naming file and tensor). */
export async function readTensorInto(file: fs.FileHandle, fileName: string, t: WeightTensor, dst: Uint8Array): Promise<void> {
  if (dst.byteLength !== t.bytes) throw new RangeError(`readTensorInto: ${t.name} needs ${t.bytes} bytes, got a ${dst.byteLength}-byte buffer`);
  if (await readExactly(file, dst, t.offset) !== t.bytes) throw new ModelFileCorruptError(fileName, `truncated: tensor ${t.name}`);
  const floatsAt = floatsStart(t); // q8_32, q4_32: the scales (and mins) follow the quants
  const view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  for (let at = floatsAt; at < t.bytes; at += 4) {
    // An exponent of all ones is ±Infinity or NaN.
    if ((view.getUint32(at, true) & 0x7f800000) === 0x7f800000) {
      const i = (at - floatsAt) / 4, blocks = t.bytes / 24; // q4_32: 24 bytes a block
      const what = t.dtype === 'f32' ? `value ${i}` : t.dtype === 'q8_32' || i < blocks ? `scale ${i}` : `min ${i - blocks}`;
      throw new ModelFileCorruptError(fileName, `tensor ${t.name}: ${what} is ${view.getFloat32(at, true)}, not finite`);
    }
    if (t.dtype === 'q8_32' && !isF16Scale(view.getFloat32(at, true))) throw scaleError(fileName, `tensor ${t.name}: scale ${(at - floatsAt) / 4}`, view.getFloat32(at, true));
  }
}

export { dequantizeQ8, quantizeQ8 } from './q8';
export { dequantizeQ4, quantizeQ4 } from './q4';
export { Q8_BLOCK };
