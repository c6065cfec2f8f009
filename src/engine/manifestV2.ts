// manifest.json, formatVersion 2 (models/FORMAT.md §M): no ONNX graphs but one weights.bin of
// q8_32 tensors, SwiGLU (`silu`) and attention biases, FIM optional. Checked field by field with
// manifest.ts's helpers; parseManifest dispatches here on formatVersion 2.
import { ModelManifestInvalidError } from './errors';
import {
  fraction, int, MAX_CONTEXT_TOKENS, obj, oneOf, parseArchitecture, parsePredictors, str, strings,
  type Architecture, type Json, type ManifestV1, type Predictors,
} from './manifest';

export const MANIFEST_FORMAT_VERSION_2 = 2;
/** q8_32 blocks run along a row: every quantized matrix's columns are a multiple of this (§Q). */
export const Q8_BLOCK = 32;

export interface FimV2 {
  order: 'psm' | 'spm';
  prefixToken: string;
  suffixToken: string;
  middleToken: string;
  endOfTextToken?: string;
  fileSeparatorToken?: string;
}

/** `sparsity` of a silu model: neuron j of layer l is skipped when |silu(gate_j · x)| ≤ gateThresholds[l]. */
export interface GateSparsity {
  gateThresholds: number[];
  targetSkip: number;
  measuredSkip: number[];
  measuredOn: string;
}

export interface ManifestV2 {
  format: 'flashcode-model';
  formatVersion: 2;
  id: string;
  displayName: string;
  architecture: Architecture;
  contextTokens: number;
  fim?: FimV2; // absent: the model completes from the prefix alone
  stopTokens: string[];
  weights: { file: string };
  ffn: { file: string };
  files: Record<string, { bytes: number; sha256: string }>;
  /** q8_32: every matrix q8_32; q4_32: weights.bin's matrices q4_32 or q8_32, each as its table says (ffn.bin stays q8_32). */
  quantization: 'q8_32' | 'q4_32';
  chat?: { template: string; format: string };
  source?: { kind: 'gguf' | 'safetensors'; files: { name: string; bytes: number; sha256: string }[]; quantization: string };
  /** silu models: GateSparsity; ReLU models: v1's activation sparsity (unchecked, as v1). */
  sparsity?: GateSparsity | ManifestV1['sparsity'];
  predictors?: Predictors; // ReLU models only
}

function architectureV2(v: unknown): Architecture {
  const arch = parseArchitecture(v, 2);
  if (arch.ffnActivation === 'silu' && !arch.ffnGated) throw new ModelManifestInvalidError('architecture.ffnGated', 'must be true when ffnActivation is silu (SwiGLU)');
  if (arch.dModel % Q8_BLOCK !== 0) throw new ModelManifestInvalidError('architecture.dModel', `must be a multiple of ${Q8_BLOCK} (q8_32 blocks)`);
  if ((arch.heads * arch.headDim) % Q8_BLOCK !== 0) throw new ModelManifestInvalidError('architecture.headDim', `× heads must be a multiple of ${Q8_BLOCK} (q8_32 blocks)`);
  return arch;
}

function fimV2(v: unknown): FimV2 | undefined {
  if (v === undefined) return undefined;
  const f = obj(v, 'fim');
  const fim: FimV2 = {
    order: oneOf(f, 'order', 'fim', ['psm', 'spm'] as const),
    prefixToken: str(f, 'prefixToken', 'fim'),
    suffixToken: str(f, 'suffixToken', 'fim'),
    middleToken: str(f, 'middleToken', 'fim'),
  };
  if (f.endOfTextToken !== undefined) fim.endOfTextToken = str(f, 'endOfTextToken', 'fim');
  if (f.fileSeparatorToken !== undefined) fim.fileSeparatorToken = str(f, 'fileSeparatorToken', 'fim');
  return fim;
}

function sha256Of(e: Json, field: string): string {
  const sha256 = str(e, 'sha256', field);
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new ModelManifestInvalidError(`${field}.sha256`, 'must be 64 lowercase hex digits');
  return sha256;
}

function filesV2(v: unknown): ManifestV2['files'] {
  const files: ManifestV2['files'] = {};
  for (const [name, entry] of Object.entries(obj(v, 'files'))) {
    const e = obj(entry, `files.${name}`);
    files[name] = { bytes: int(e, 'bytes', `files.${name}`), sha256: sha256Of(e, `files.${name}`) };
  }
  return files;
}

function perLayer(o: Json, key: string, layers: number, check: (x: number) => boolean, what: string): number[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length !== layers || v.some((x) => typeof x !== 'number' || !check(x))) {
    throw new ModelManifestInvalidError(`sparsity.${key}`, `must list ${layers} numbers (one per layer), each ${what}`);
  }
  return v as number[];
}

function gateSparsity(v: unknown, layers: number): GateSparsity {
  const s = obj(v, 'sparsity');
  return {
    gateThresholds: perLayer(s, 'gateThresholds', layers, (x) => Number.isFinite(x) && x >= 0, 'finite and ≥ 0'),
    targetSkip: fraction(s, 'targetSkip', 'sparsity'),
    measuredSkip: perLayer(s, 'measuredSkip', layers, (x) => x >= 0 && x <= 1, 'between 0 and 1'),
    measuredOn: str(s, 'measuredOn', 'sparsity'),
  };
}

function chatV2(v: unknown): ManifestV2['chat'] {
  const c = obj(v, 'chat');
  return { template: str(c, 'template', 'chat'), format: str(c, 'format', 'chat') };
}

function sourceV2(v: unknown): ManifestV2['source'] {
  const s = obj(v, 'source');
  const list = s.files;
  if (!Array.isArray(list)) throw new ModelManifestInvalidError('source.files', 'must be a list');
  const files = list.map((entry, i) => {
    const e = obj(entry, `source.files[${i}]`);
    return { name: str(e, 'name', `source.files[${i}]`), bytes: int(e, 'bytes', `source.files[${i}]`), sha256: sha256Of(e, `source.files[${i}]`) };
  });
  return { kind: oneOf(s, 'kind', 'source', ['gguf', 'safetensors'] as const), files, quantization: str(s, 'quantization', 'source') };
}

/** The v2 fields of `m` (already checked to be a flashcode-model with formatVersion 2). */
export function parseManifestV2(m: Json): ManifestV2 {
  if (m.graphs !== undefined) throw new ModelManifestInvalidError('graphs', 'must be absent in formatVersion 2 (weights.bin replaces the graphs)');
  const architecture = architectureV2(m.architecture);
  const files = filesV2(m.files);
  const manifest: ManifestV2 = {
    format: 'flashcode-model',
    formatVersion: 2,
    id: str(m, 'id', 'manifest'),
    displayName: str(m, 'displayName', 'manifest'),
    architecture,
    // Not bounded by its KV cache like v1: the v2 engine holds at most 2,048 positions (loadV2.ts).
    contextTokens: int(m, 'contextTokens', 'manifest', MAX_CONTEXT_TOKENS),
    stopTokens: strings(m, 'stopTokens', 'manifest'),
    weights: { file: str(obj(m.weights, 'weights'), 'file', 'weights') },
    ffn: { file: str(obj(m.ffn, 'ffn'), 'file', 'ffn') },
    files,
    quantization: oneOf(m, 'quantization', 'manifest', ['q8_32', 'q4_32'] as const),
  };
  const fim = fimV2(m.fim);
  if (fim) manifest.fim = fim;
  if (m.chat !== undefined) manifest.chat = chatV2(m.chat);
  if (m.source !== undefined) manifest.source = sourceV2(m.source);
  const silu = architecture.ffnActivation === 'silu';
  if (m.sparsity !== undefined) manifest.sparsity = silu ? gateSparsity(m.sparsity, architecture.layers) : m.sparsity as ManifestV1['sparsity'];
  if (m.predictors !== undefined) {
    if (silu) throw new ModelManifestInvalidError('predictors', 'must be absent for a silu model (its sparsity is sparsity.gateThresholds)');
    manifest.predictors = parsePredictors(m.predictors, architecture, files);
  }
  for (const name of [manifest.weights.file, manifest.ffn.file, 'tokenizer.json']) {
    if (!files[name]) throw new ModelManifestInvalidError('files', `does not list ${name}`);
  }
  return manifest;
}
