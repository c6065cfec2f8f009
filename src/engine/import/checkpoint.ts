// What every checkpoint reader (GGUF, safetensors) hands the writer: the architecture, the weight
// matrices under the v2 names (Hugging Face layout, f32 rows read on demand), the tokenizer and the
// prompt facts. The writer never sees the source format.
import type { Architecture } from '../manifest';

/** models/FORMAT.md v2 `architecture`, for the SwiGLU families this importer reads. */
export type ImportedArchitecture = Architecture & { ffnActivation: 'silu'; ffnGated: true };

/** A [rows][cols] matrix (or a [cols] vector, rows = 1) read as f32 a few rows at a time, so that no
 *  more than a layer's matrix is ever held as f32. */
export interface TensorSource {
  rows: number;
  cols: number;
  /** Writes rows r0 … r0+n-1 into out[0 … n·cols). */
  readRows(r0: number, n: number, out: Float32Array): void;
  /** Present when the source's blocks are q4_32 exactly (GGUF Q4_0, Q4_1, Q4_K): rows r0 … r0+n-1
   *  as q4_32 (models/FORMAT.md §Q4), n·cols/2 nibble bytes and n·cols/32 scales and mins. */
  readQ4Rows?(r0: number, n: number, nibbles: Uint8Array, scales: Float32Array, mins: Float32Array): void;
}

export interface SourceFile {
  path: string;
  name: string;
  bytes: number;
}

export interface Checkpoint {
  kind: 'gguf' | 'safetensors';
  files: SourceFile[];
  displayName: string;
  architecture: ImportedArchitecture;
  /** The checkpoint's own context length (before any cap). */
  contextTokens: number;
  /** The source dtype(s), e.g. "Q4_1+Q8_0+F32". */
  quantization: string;
  /** Tensors by the v2 names of one matrix each: `embed`, `head` (untied only), `final_norm`,
   *  `layers.<l>.{attn_norm,q,k,v,q_bias,k_bias,v_bias,out,ffn_norm,gate,up,down}`. */
  tensor(name: string): TensorSource;
  /** A Hugging Face tokenizer.json object, and tokenizer_config.json when the checkpoint has one. */
  tokenizerJson: TokenizerJson;
  tokenizerConfig?: unknown;
  chatTemplate?: string;
  /** The end-of-sequence token's text, when the checkpoint names one. */
  eosToken?: string;
  close(): void;
}

export interface TokenizerJson {
  added_tokens: { id: number; content: string; special: boolean; [key: string]: unknown }[];
  model: { vocab: Record<string, number>; [key: string]: unknown };
  [key: string]: unknown;
}

/** The v2 names of the matrices a layer needs, in the order the writer reads them. */
export function layerTensorNames(l: number, bias: boolean): string[] {
  const p = `layers.${l}.`;
  return [
    'attn_norm', 'q', 'k', 'v', ...(bias ? ['q_bias', 'k_bias', 'v_bias'] : []), 'out', 'ffn_norm', 'gate', 'up', 'down',
  ].map((n) => p + n);
}

/** The shape [rows, cols] each v2 tensor must have (a vector has rows = 1). */
export function expectedShape(name: string, a: ImportedArchitecture): [number, number] {
  const { dModel: d, heads: h, kvHeads: kv, headDim: hd, ffnSize: f, vocabSize: v } = a;
  const leaf = name.replace(/^layers\.\d+\./, '');
  switch (leaf) {
    case 'embed': case 'head': return [v, d];
    case 'final_norm': case 'attn_norm': case 'ffn_norm': return [1, d];
    case 'q': return [h * hd, d];
    case 'k': case 'v': return [kv * hd, d];
    case 'q_bias': return [1, h * hd];
    case 'k_bias': case 'v_bias': return [1, kv * hd];
    case 'out': return [d, h * hd];
    case 'gate': case 'up': return [f, d];
    case 'down': return [d, f];
    default: throw new Error(`no v2 tensor ${name}`);
  }
}
