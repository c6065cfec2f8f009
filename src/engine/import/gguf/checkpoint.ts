// A GGUF file of the `llama` or `qwen2` architecture as a Checkpoint: metadata → architecture,
// llama.cpp tensor names → v2 names, rows dequantized on demand. Everything unsupported is refused
// here, before the writer starts.
import fs from 'node:fs';
import path from 'node:path';
import { expectedShape, layerTensorNames, type Checkpoint, type ImportedArchitecture, type TensorSource } from '../checkpoint';
import { CheckpointCorruptError, CheckpointIncompleteError, CheckpointUnsupportedError } from '../errors';
import { DEQUANTIZERS } from './dequant';
import { Q4_REPACKERS } from './q4blocks';
import { readGgufHeader, type GgufHeader, type GgufTensorInfo, type GgufValue } from './header';
import { ggufTokenizer } from './tokenizer';
import { GGML_TYPES, ggmlTypeName } from './types';

const ARCHITECTURES = ['llama', 'qwen2'];

/** llama.cpp name of each v2 tensor (per layer: `blk.<l>.` + the name). */
const LAYER_NAMES: Record<string, string> = {
  attn_norm: 'attn_norm.weight', q: 'attn_q.weight', k: 'attn_k.weight', v: 'attn_v.weight',
  q_bias: 'attn_q.bias', k_bias: 'attn_k.bias', v_bias: 'attn_v.bias', out: 'attn_output.weight',
  ffn_norm: 'ffn_norm.weight', gate: 'ffn_gate.weight', up: 'ffn_up.weight', down: 'ffn_down.weight',
};

function ggufName(v2: string): string {
  if (v2 === 'embed') return 'token_embd.weight';
  if (v2 === 'head') return 'output.weight';
  if (v2 === 'final_norm') return 'output_norm.weight';
  const m = /^layers\.(\d+)\.(.+)$/.exec(v2);
  if (!m || !LAYER_NAMES[m[2]]) throw new Error(`no GGUF name for ${v2}`);
  return `blk.${m[1]}.${LAYER_NAMES[m[2]]}`;
}

function metaNumber(h: GgufHeader, key: string, fallback?: number): number {
  const v = h.metadata.get(key);
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new CheckpointIncompleteError(path.basename(h.file), `metadata ${key} is ${v === undefined ? 'missing' : `not a number (${String(v)})`}`);
  return v;
}

/** The shortest decimal that rounds to the same f32: GGUF stores ε and the RoPE base as f32, and
 *  1e-5 reads better in a manifest than 9.999999747378752e-6 (the engine computes in f32 anyway). */
function shortestF32(x: number): number {
  for (let digits = 1; digits < 10; digits++) {
    const v = Number(x.toPrecision(digits));
    if (Math.fround(v) === Math.fround(x)) return v;
  }
  return x;
}

/** Refusals that do not depend on tensors: architecture, RoPE scaling, sliding window, experts. */
function architectureOf(h: GgufHeader): { arch: string; a: Omit<ImportedArchitecture, 'vocabSize' | 'tiedEmbeddings' | 'attentionBias'>; context: number } {
  const name = path.basename(h.file);
  const arch = h.metadata.get('general.architecture');
  if (typeof arch !== 'string') throw new CheckpointIncompleteError(name, 'metadata general.architecture is missing');
  const splits = h.metadata.get('split.count');
  if (typeof splits === 'number' && splits > 1) throw new CheckpointUnsupportedError(name, `a GGUF split into ${splits} files (merge them first: llama-gguf-split --merge)`);
  if (!ARCHITECTURES.includes(arch)) throw new CheckpointUnsupportedError(name, `architecture "${arch}" (supported: ${ARCHITECTURES.join(', ')})`);
  const scaling = h.metadata.get(`${arch}.rope.scaling.type`);
  const factor = h.metadata.get(`${arch}.rope.scaling.factor`);
  if ((scaling !== undefined && scaling !== 'none') || (typeof factor === 'number' && factor !== 1 && factor !== 0)) {
    throw new CheckpointUnsupportedError(name, `RoPE scaling (${String(scaling ?? 'factor')} ${String(factor ?? '')})`.trim());
  }
  if (h.tensors.has('rope_freqs.weight')) throw new CheckpointUnsupportedError(name, 'RoPE scaling (rope_freqs.weight, Llama 3.1 style)');
  if (h.metadata.has(`${arch}.attention.sliding_window`)) throw new CheckpointUnsupportedError(name, 'sliding-window attention');
  if (metaNumber(h, `${arch}.expert_count`, 0) > 0) throw new CheckpointUnsupportedError(name, 'mixture of experts');
  const dModel = metaNumber(h, `${arch}.embedding_length`);
  const heads = metaNumber(h, `${arch}.attention.head_count`);
  const headDim = dModel / heads;
  for (const key of ['rope.dimension_count', 'attention.key_length', 'attention.value_length']) {
    const v = metaNumber(h, `${arch}.${key}`, headDim);
    if (v !== headDim) throw new CheckpointUnsupportedError(name, `${arch}.${key} = ${v} ≠ embedding_length / head_count = ${headDim}`);
  }
  if (!Number.isInteger(headDim) || dModel % 32 !== 0) throw new CheckpointUnsupportedError(name, `embedding_length ${dModel} with ${heads} heads (needs whole heads and a multiple of 32)`);
  return {
    arch,
    context: metaNumber(h, `${arch}.context_length`),
    a: {
      family: 'llama', layers: metaNumber(h, `${arch}.block_count`), dModel, heads,
      kvHeads: metaNumber(h, `${arch}.attention.head_count_kv`, heads), headDim,
      ffnSize: metaNumber(h, `${arch}.feed_forward_length`), ffnActivation: 'silu', ffnGated: true,
      ropeTheta: shortestF32(metaNumber(h, `${arch}.rope.freq_base`, 10000)),
      normEps: shortestF32(metaNumber(h, `${arch}.attention.layer_norm_rms_epsilon`)),
    },
  };
}

/** Row `o` of the Hugging Face layout comes from row rowMap(o) of llama.cpp's: its converter
 *  interleaves the two halves of each head for `llama` (convert_hf_to_gguf.py LlamaModel.permute). */
function unpermute(headDim: number): (o: number) => number {
  const half = headDim / 2;
  return (o) => {
    const h = Math.floor(o / headDim), r = o % headDim;
    return h * headDim + 2 * (r % half) + Math.floor(r / half);
  };
}

function ggufTensorSource(fd: number, t: GgufTensorInfo, rowMap?: (o: number) => number): TensorSource {
  const type = GGML_TYPES.get(t.type)!;
  const dequant = DEQUANTIZERS.get(t.type)!;
  const rowBytes = (t.cols / type.blockValues) * type.blockBytes;
  let raw = Buffer.alloc(0);
  const read = (r0: number, n: number) => {
    if (raw.length < n * rowBytes) raw = Buffer.alloc(n * rowBytes);
    if (rowMap) {
      for (let i = 0; i < n; i++) fs.readSync(fd, raw, i * rowBytes, rowBytes, t.offset + rowMap(r0 + i) * rowBytes);
    } else {
      fs.readSync(fd, raw, 0, n * rowBytes, t.offset + r0 * rowBytes);
    }
  };
  const repack = Q4_REPACKERS.get(t.type);
  return {
    rows: t.rows,
    cols: t.cols,
    readRows(r0, n, out) {
      read(r0, n);
      for (let i = 0; i < n; i++) dequant(raw, i * rowBytes, out.subarray(i * t.cols, (i + 1) * t.cols), t.cols);
    },
    readQ4Rows: repack && ((r0, n, nibbles, scales, mins) => {
      read(r0, n);
      for (let i = 0; i < n; i++) repack(raw, i * rowBytes, t.cols, nibbles, (i * t.cols) / 2, scales, mins, (i * t.cols) / 32);
    }),
  };
}

export function openGgufCheckpoint(file: string): Checkpoint {
  const h = readGgufHeader(file);
  const name = path.basename(file);
  const { arch, a, context } = architectureOf(h);
  const embed = h.tensors.get('token_embd.weight');
  if (!embed) throw new CheckpointIncompleteError(name, 'tensor token_embd.weight is missing');
  const architecture: ImportedArchitecture = {
    ...a, vocabSize: embed.rows, tiedEmbeddings: !h.tensors.has('output.weight'), attentionBias: h.tensors.has('blk.0.attn_q.bias'),
  };
  const declaredVocab = h.metadata.get(`${arch}.vocab_size`);
  if (declaredVocab !== undefined && declaredVocab !== architecture.vocabSize) {
    throw new CheckpointCorruptError(name, `token_embd.weight has ${architecture.vocabSize} rows but ${arch}.vocab_size is ${String(declaredVocab)}`);
  }

  const wanted = ['embed', ...(architecture.tiedEmbeddings ? [] : ['head']), 'final_norm'];
  for (let l = 0; l < architecture.layers; l++) wanted.push(...layerTensorNames(l, architecture.attentionBias));
  const byV2 = new Map<string, GgufTensorInfo>();
  for (const v2 of wanted) {
    const t = h.tensors.get(ggufName(v2));
    if (!t) throw new CheckpointIncompleteError(name, `tensor ${ggufName(v2)} is missing`);
    const [rows, cols] = expectedShape(v2, architecture);
    if (t.rows !== rows || t.cols !== cols) {
      throw new CheckpointCorruptError(name, `tensor ${t.name} has dims [${t.dims.join(', ')}], but the metadata implies [${cols}, ${rows}]`);
    }
    if (!DEQUANTIZERS.has(t.type)) throw new CheckpointUnsupportedError(name, `tensor ${t.name}'s quant type ${ggmlTypeName(t.type)} (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K)`);
    byV2.set(v2, t);
  }
  const used = new Set([...byV2.values()].map((t) => t.name));
  for (const t of h.tensors.keys()) {
    if (!used.has(t)) throw new CheckpointUnsupportedError(name, `tensor ${t} (not part of a plain ${arch} model)`);
  }
  const tokenizer = ggufTokenizer(h);
  const types = [...new Set([...byV2.values()].map((t) => ggmlTypeName(t.type)))];
  const fd = fs.openSync(file, 'r');
  const permuted = arch === 'llama' ? unpermute(architecture.headDim) : undefined;
  return {
    kind: 'gguf',
    files: [{ path: file, name, bytes: h.fileBytes }],
    displayName: name.replace(/\.gguf$/i, ''), // general.name is often a training-run label
    architecture,
    contextTokens: context,
    quantization: types.join('+'),
    tensor(v2) {
      const t = byV2.get(v2);
      if (!t) throw new Error(`no tensor ${v2} in ${name}`);
      const leaf = v2.replace(/^layers\.\d+\./, '');
      // biases are vectors: [1][n] rows; their permutation acts on the columns
      if (permuted && (leaf === 'q_bias' || leaf === 'k_bias')) return permutedVector(ggufTensorSource(fd, t), permuted);
      return ggufTensorSource(fd, t, permuted && (leaf === 'q' || leaf === 'k') ? permuted : undefined);
    },
    tokenizerJson: tokenizer.json,
    chatTemplate: strOrUndefined(h.metadata.get('tokenizer.chat_template')),
    eosToken: tokenizer.eosToken,
    close: () => fs.closeSync(fd),
  };
}

function permutedVector(src: TensorSource, rowMap: (o: number) => number): TensorSource {
  return {
    rows: 1,
    cols: src.cols,
    readRows(_r0, _n, out) {
      const raw = new Float32Array(src.cols);
      src.readRows(0, 1, raw);
      for (let o = 0; o < src.cols; o++) out[o] = raw[rowMap(o)];
    },
  };
}

function strOrUndefined(v: GgufValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
