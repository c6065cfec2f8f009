// manifest.json (models/FORMAT.md §1): parsed and checked field by field, so that a bad model
// directory fails at load with a message naming the field, not later with NaNs.
import { ModelFormatUnsupportedError, ModelManifestInvalidError } from './errors';
import { MANIFEST_FORMAT_VERSION_2, parseManifestV2, type ManifestV2 } from './manifestV2';

export const MANIFEST_FORMAT_VERSION = 1;
/** What parseManifest reads: v1 here, v2 in manifestV2.ts (models/FORMAT.md §M). */
const SUPPORTED_VERSIONS = '1 or 2';

/** The KV cache lives in WebAssembly memory (the layer kernels' arena), whose ceiling is 4 GiB;
 *  half of it for the cache leaves room for the weights. contextTokens × layers × 2 × kvHeads ×
 *  headDim × 4 bytes must stay within this, and contextTokens within MAX_CONTEXT_TOKENS. */
export const MAX_KV_CACHE_BYTES = 2 * 1024 ** 3;
export const MAX_CONTEXT_TOKENS = 131_072;
/** Sizes and counts are u32 in the binary headers; bytes may be larger. */
const MAX_INT = 2 ** 31 - 1;

export interface Architecture {
  family: 'llama';
  layers: number;
  dModel: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffnSize: number;
  ffnActivation: 'relu' | 'squared_relu' | 'silu'; // silu: v2 only, gated (SwiGLU)
  ffnGated: boolean;
  ropeTheta: number;
  normEps: number;
  vocabSize: number;
  tiedEmbeddings: boolean;
  attentionBias: boolean; // v2 only (Qwen2); false for v1
}

/** A v1 directory (ONNX graphs) or a v2 one (weights.bin); narrow on `formatVersion`. */
export type Manifest = ManifestV1 | ManifestV2;
export type { ManifestV2 };

export interface ManifestV1 {
  format: 'flashcode-model';
  formatVersion: 1;
  id: string;
  displayName: string;
  architecture: Architecture;
  contextTokens: number;
  fim: { order: 'psm' | 'spm'; prefixToken: string; suffixToken: string; middleToken: string; endOfTextToken: string; fileSeparatorToken: string };
  stopTokens: string[];
  graphs: { embed: string; attention: string[]; ffn: string; head: string };
  ffn: { file: string };
  files: Record<string, { bytes: number; sha256: string }>;
  sparsity?: { meanActivationSparsity: number; perLayer: number[]; measuredOn?: string };
  predictors?: Predictors;
}

/** The optional `predictors` block: predictors.bin (FORMAT.md §4) and what the pipeline measured per layer. */
export interface Predictors {
  file: string;
  perLayer: PredictorStats[];
  measuredOn?: string;
}

export interface PredictorStats {
  rank: number;
  threshold: number;
  recall: number; //                  0–1, share of truly active neurons predicted active
  precision: number; //               0–1, share of predicted neurons truly active
  predictedActiveFraction: number; // 0–1, mean share of neurons predicted active per token
  macsPerToken: number; //            dModel·rank + rank·ffnSize
}

export type Json = Record<string, unknown>;

export function obj(v: unknown, field: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ModelManifestInvalidError(field, 'must be an object');
  return v as Json;
}
export function int(o: Json, key: string, field: string, max = MAX_INT): number {
  const v = o[key];
  if (!Number.isInteger(v) || (v as number) <= 0 || (v as number) > max) throw new ModelManifestInvalidError(`${field}.${key}`, `must be a positive integer, at most ${max.toLocaleString('en-US')}`);
  return v as number;
}
export function num(o: Json, key: string, field: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelManifestInvalidError(`${field}.${key}`, 'must be a number');
  return v;
}
export function positive(o: Json, key: string, field: string, below = Infinity): number {
  const v = num(o, key, field);
  if (!(v > 0 && v < below)) throw new ModelManifestInvalidError(`${field}.${key}`, `must be above 0${below < Infinity ? ` and below ${below}` : ''} (found ${v})`);
  return v;
}
export function str(o: Json, key: string, field: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw new ModelManifestInvalidError(`${field}.${key}`, 'must be a non-empty string');
  return v;
}
export function fraction(o: Json, key: string, field: string): number {
  const v = num(o, key, field);
  if (v < 0 || v > 1) throw new ModelManifestInvalidError(`${field}.${key}`, 'must be between 0 and 1');
  return v;
}
export function oneOf<T extends string>(o: Json, key: string, field: string, allowed: readonly T[]): T {
  const v = o[key];
  if (!allowed.includes(v as T)) throw new ModelManifestInvalidError(`${field}.${key}`, `must be one of ${allowed.join(', ')}`);
  return v as T;
}
export function bool(o: Json, key: string, field: string): boolean {
  if (typeof o[key] !== 'boolean') throw new ModelManifestInvalidError(`${field}.${key}`, 'must be true or false');
  return o[key] as boolean;
}
export function strings(o: Json, key: string, field: string): string[] {
  const v = o[key];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new ModelManifestInvalidError(`${field}.${key}`, 'must be a list of strings');
  return v as string[];
}

export function parsePredictors(v: unknown, a: Architecture, files: ManifestV1['files']): Predictors {
  const p = obj(v, 'predictors');
  const file = str(p, 'file', 'predictors');
  if (!files[file]) throw new ModelManifestInvalidError('predictors.file', `names ${file}, which files does not list`);
  const perLayer = p.perLayer;
  if (!Array.isArray(perLayer) || perLayer.length !== a.layers) {
    throw new ModelManifestInvalidError('predictors.perLayer', `must list ${a.layers} entries, one per layer`);
  }
  const stats = perLayer.map((entry, l): PredictorStats => {
    const field = `predictors.perLayer[${l}]`;
    const e = obj(entry, field);
    const rank = int(e, 'rank', field);
    const macsPerToken = int(e, 'macsPerToken', field);
    const macs = a.dModel * rank + rank * a.ffnSize;
    if (macsPerToken !== macs) throw new ModelManifestInvalidError(`${field}.macsPerToken`, `must be dModel·rank + rank·ffnSize = ${macs}`);
    return {
      rank,
      threshold: num(e, 'threshold', field),
      recall: fraction(e, 'recall', field),
      precision: fraction(e, 'precision', field),
      predictedActiveFraction: fraction(e, 'predictedActiveFraction', field),
      macsPerToken,
    };
  });
  if (p.measuredOn === undefined) return { file, perLayer: stats };
  return { file, perLayer: stats, measuredOn: str(p, 'measuredOn', 'predictors') };
}

/** The manifest of a v1 directory (ONNX graphs) for the v1-only paths; a v2 directory (weights.bin)
 *  is rejected there by name: it loads through ModelV2. */
export function requireV1(manifest: Manifest, where: string): ManifestV1 {
  if (manifest.formatVersion === MANIFEST_FORMAT_VERSION) return manifest;
  throw new ModelFormatUnsupportedError(`manifest.json (${where})`, manifest.formatVersion, `${MANIFEST_FORMAT_VERSION} on this path; v2 directories load through ModelV2`);
}

export function contextTokens(m: Json, a: Architecture): number {
  const tokens = int(m, 'contextTokens', 'manifest', MAX_CONTEXT_TOKENS);
  const kvBytes = tokens * a.layers * 2 * a.kvHeads * a.headDim * 4;
  if (kvBytes > MAX_KV_CACHE_BYTES) {
    throw new ModelManifestInvalidError('contextTokens', `needs a ${(kvBytes / 1024 ** 3).toFixed(1)} GiB KV cache (contextTokens × layers × 2 × kvHeads × headDim × 4 bytes), above the ${MAX_KV_CACHE_BYTES / 1024 ** 3} GiB that WebAssembly memory leaves for it`);
  }
  return tokens;
}

function parseSparsity(v: unknown, a: Architecture): NonNullable<ManifestV1['sparsity']> {
  const s = obj(v, 'sparsity');
  const perLayer = s.perLayer;
  if (!Array.isArray(perLayer) || perLayer.length !== a.layers || perLayer.some((x) => typeof x !== 'number' || !(x >= 0 && x <= 1))) {
    throw new ModelManifestInvalidError('sparsity.perLayer', `must list ${a.layers} numbers between 0 and 1, one per layer`);
  }
  const sparsity = { meanActivationSparsity: fraction(s, 'meanActivationSparsity', 'sparsity'), perLayer: perLayer as number[] };
  return s.measuredOn === undefined ? sparsity : { ...sparsity, measuredOn: str(s, 'measuredOn', 'sparsity') };
}

/** manifest.json's `architecture`, as format `version` allows it: v2 adds the silu activation and
 *  attention biases (v1 has none). */
export function parseArchitecture(v: unknown, version: 1 | 2): Architecture {
  const a = obj(v, 'architecture');
  const activations = version === 1 ? ['relu', 'squared_relu'] as const : ['relu', 'squared_relu', 'silu'] as const;
  const arch: Architecture = {
    family: oneOf(a, 'family', 'architecture', ['llama'] as const),
    layers: int(a, 'layers', 'architecture'),
    dModel: int(a, 'dModel', 'architecture'),
    heads: int(a, 'heads', 'architecture'),
    kvHeads: int(a, 'kvHeads', 'architecture'),
    headDim: int(a, 'headDim', 'architecture'),
    ffnSize: int(a, 'ffnSize', 'architecture'),
    ffnActivation: oneOf(a, 'ffnActivation', 'architecture', activations),
    ffnGated: bool(a, 'ffnGated', 'architecture'),
    ropeTheta: positive(a, 'ropeTheta', 'architecture'),
    normEps: positive(a, 'normEps', 'architecture', 1),
    vocabSize: int(a, 'vocabSize', 'architecture'),
    tiedEmbeddings: bool(a, 'tiedEmbeddings', 'architecture'),
    attentionBias: version === 1 ? false : bool(a, 'attentionBias', 'architecture'),
  };
  if (arch.heads % arch.kvHeads !== 0) throw new ModelManifestInvalidError('architecture.heads', 'must be a multiple of kvHeads');
  return arch;
}

export function parseManifest(text: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ModelManifestInvalidError('(file)', `is not valid JSON (${(e as Error).message})`);
  }
  const m = obj(raw, 'manifest');
  if (m.format !== 'flashcode-model') throw new ModelManifestInvalidError('format', 'must be "flashcode-model"');
  if (m.formatVersion === MANIFEST_FORMAT_VERSION_2) return parseManifestV2(m);
  if (m.formatVersion !== MANIFEST_FORMAT_VERSION) {
    throw new ModelFormatUnsupportedError('manifest.json', String(m.formatVersion), SUPPORTED_VERSIONS);
  }
  const architecture = parseArchitecture(m.architecture, 1);
  const f = obj(m.fim, 'fim');
  const g = obj(m.graphs, 'graphs');
  const attention = strings(g, 'attention', 'graphs');
  if (attention.length !== architecture.layers) throw new ModelManifestInvalidError('graphs.attention', `must list ${architecture.layers} files, one per layer`);
  const files = obj(m.files, 'files');
  const checkedFiles: ManifestV1['files'] = {};
  for (const [name, entry] of Object.entries(files)) {
    const e = obj(entry, `files.${name}`);
    const sha256 = str(e, 'sha256', `files.${name}`);
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new ModelManifestInvalidError(`files.${name}.sha256`, 'must be 64 lowercase hex digits');
    checkedFiles[name] = { bytes: int(e, 'bytes', `files.${name}`, Number.MAX_SAFE_INTEGER), sha256 };
  }
  const manifest: ManifestV1 = {
    format: 'flashcode-model',
    formatVersion: MANIFEST_FORMAT_VERSION,
    id: str(m, 'id', 'manifest'),
    displayName: str(m, 'displayName', 'manifest'),
    architecture,
    contextTokens: contextTokens(m, architecture),
    fim: {
      order: oneOf(f, 'order', 'fim', ['psm', 'spm'] as const),
      prefixToken: str(f, 'prefixToken', 'fim'),
      suffixToken: str(f, 'suffixToken', 'fim'),
      middleToken: str(f, 'middleToken', 'fim'),
      endOfTextToken: str(f, 'endOfTextToken', 'fim'),
      fileSeparatorToken: str(f, 'fileSeparatorToken', 'fim'),
    },
    stopTokens: strings(m, 'stopTokens', 'manifest'),
    graphs: { embed: str(g, 'embed', 'graphs'), attention, ffn: str(g, 'ffn', 'graphs'), head: str(g, 'head', 'graphs') },
    ffn: { file: str(obj(m.ffn, 'ffn'), 'file', 'ffn') },
    files: checkedFiles,
  };
  if (m.sparsity !== undefined) manifest.sparsity = parseSparsity(m.sparsity, architecture);
  if (m.predictors !== undefined) manifest.predictors = parsePredictors(m.predictors, architecture, checkedFiles);
  for (const name of [manifest.graphs.embed, ...attention, manifest.graphs.ffn, manifest.graphs.head, manifest.ffn.file, 'tokenizer.json']) {
    if (!checkedFiles[name]) throw new ModelManifestInvalidError('files', `does not list ${name}`);
  }
  return manifest;
}
