// The models bench:peers runs, each as a GGUF for llama.cpp and a format-v2 directory for Flashcode
// holding the same weights, written once under .cache/peers/:
// - random Llama models at the SmolLM2-135M and Qwen2.5-0.5B shapes (vocab 4,096), written as Q8_0
//   GGUFs here and imported by Flashcode's importer (Q8_0 → q8_32 is exact: same ints, same scales);
// - SmolLM2-135M-Instruct: its Q4_1 GGUF as published, and a Q8_0 GGUF of the same dequantized
//   weights (bench/peers/q8gguf.py, PyPI gguf) — Flashcode imports each;
// - the bundled ReLU model (convert_v2.py) against a random SiLU GGUF of its shape: speed only.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { importCheckpoint } from '../../src/engine/import/importModel';
import { writeGguf, type GgufTensorSpec, type MetaValue } from '../../test/helpers/ggufWriter';

export const ROOT = path.resolve(__dirname, '../..');
export const CACHE = path.join(ROOT, '.cache/peers');
const SMOLLM2 = path.join(ROOT, '.cache/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf');
const IMPORT_PYTHON = path.join(ROOT, '.cache/import-venv/bin/python');

export interface PeerModel {
  name: string;
  gguf: string;
  /** llama.cpp's quantization of `gguf`. */
  ggufQuant: string;
  v2Dir: string;
  /** False where llama.cpp computes another function (the ReLU model): speed only. */
  sameFunction: boolean;
  note?: string;
}

interface Shape { d: number; layers: number; heads: number; kvHeads: number; ffn: number; vocab: number }
export const SHAPES: Record<string, Shape> = {
  'random-135m': { d: 576, layers: 30, heads: 9, kvHeads: 3, ffn: 1536, vocab: 4096 },
  'random-0.5b': { d: 896, layers: 24, heads: 14, kvHeads: 2, ffn: 4864, vocab: 4096 },
  // the bundled model's shape (models/flashcode-code-v1/manifest.json)
  'bundled-shape': { d: 256, layers: 4, heads: 4, kvHeads: 2, ffn: 1024, vocab: 4096 },
};

function f16(v: number): number {
  const f = new Float32Array([v]), u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000, exp = ((u >>> 23) & 0xff) - 127 + 15;
  let mant = u & 0x7fffff;
  if (exp <= 0) return sign; // the scales here are never subnormal
  if (exp >= 31) return sign | 0x7c00;
  const round = mant & 0x1fff;
  mant >>>= 13;
  let h = sign | (exp << 10) | mant;
  if (round > 0x1000 || (round === 0x1000 && (mant & 1))) h++;
  return h;
}

/** GGUF Q8_0: blocks of 32 as [f16 scale = absmax/127][32 × int8]. */
function q8_0(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length / 32 * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < values.length / 32; b++) {
    let amax = 0;
    for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(values[b * 32 + i]));
    const d = amax / 127, inv = d ? 1 / d : 0;
    view.setUint16(b * 34, f16(d), true);
    for (let i = 0; i < 32; i++) view.setInt8(b * 34 + 2 + i, Math.round(values[b * 32 + i] * inv));
  }
  return out;
}

/** A random SiLU Llama of `s`'s shape with tied embeddings, weights N(0, 0.02)-ish, as Q8_0. */
function randomGguf(name: string, s: Shape, file: string): void {
  let seed = 12345;
  const rand = () => { // xorshift32 → sum of 3 uniforms ≈ normal
    let t = 0;
    for (let k = 0; k < 3; k++) { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; t += (seed >>> 0) / 4294967296 - 0.5; }
    return t * 0.04;
  };
  const hd = 64;
  const tensors: GgufTensorSpec[] = [];
  const mat = (n: string, cols: number, rows: number) => tensors.push({ name: n, dims: [cols, rows], type: 8, data: q8_0(new Float32Array(rows * cols).map(rand)) });
  const ones = (n: string, len: number) => tensors.push({ name: n, dims: [len], type: 0, data: new Uint8Array(new Float32Array(len).fill(1).buffer) });
  mat('token_embd.weight', s.d, s.vocab);
  ones('output_norm.weight', s.d);
  for (let l = 0; l < s.layers; l++) {
    const p = `blk.${l}.`;
    ones(`${p}attn_norm.weight`, s.d);
    mat(`${p}attn_q.weight`, s.d, s.heads * hd);
    mat(`${p}attn_k.weight`, s.d, s.kvHeads * hd);
    mat(`${p}attn_v.weight`, s.d, s.kvHeads * hd);
    mat(`${p}attn_output.weight`, s.heads * hd, s.d);
    ones(`${p}ffn_norm.weight`, s.d);
    mat(`${p}ffn_gate.weight`, s.d, s.ffn);
    mat(`${p}ffn_up.weight`, s.d, s.ffn);
    mat(`${p}ffn_down.weight`, s.ffn, s.d);
  }
  // byte-level tokens, the chat specials, then control tokens up to the vocabulary size: the bench
  // feeds token ids, never text
  const tokens = [...Array.from({ length: 256 }, (_, b) => byteChar(b)), '<|endoftext|>', '<|im_start|>', '<|im_end|>'];
  while (tokens.length < s.vocab) tokens.push(`<|x${tokens.length}|>`);
  const meta: Record<string, MetaValue> = {
    'general.architecture': { type: 'string', value: 'llama' },
    'general.name': { type: 'string', value: name },
    'llama.block_count': { type: 'u32', value: s.layers },
    'llama.context_length': { type: 'u32', value: 2048 },
    'llama.embedding_length': { type: 'u32', value: s.d },
    'llama.feed_forward_length': { type: 'u32', value: s.ffn },
    'llama.attention.head_count': { type: 'u32', value: s.heads },
    'llama.attention.head_count_kv': { type: 'u32', value: s.kvHeads },
    'llama.rope.freq_base': { type: 'f32', value: 10000 },
    'llama.attention.layer_norm_rms_epsilon': { type: 'f32', value: 1e-5 },
    'tokenizer.ggml.model': { type: 'string', value: 'gpt2' },
    'tokenizer.ggml.pre': { type: 'string', value: 'smollm' },
    'tokenizer.ggml.tokens': { type: 'strings', value: tokens },
    'tokenizer.ggml.token_type': { type: 'i32s', value: tokens.map((_, i) => (i < 256 ? 1 : 3)) },
    'tokenizer.ggml.merges': { type: 'strings', value: [] },
    'tokenizer.ggml.eos_token_id': { type: 'u32', value: 256 },
  };
  fs.writeFileSync(file, writeGguf(meta, tensors));
}

function byteChar(b: number): string {
  const printable = (x: number) => (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255);
  if (printable(b)) return String.fromCharCode(b);
  let n = 0;
  for (let x = 0; x < b; x++) if (!printable(x)) n++;
  return String.fromCharCode(256 + n);
}

/** Imports `gguf` into `dir` unless a directory made by an importer of the same defaults is there
 *  (one from before q4_32, with every matrix 8-bit, is imported again). */
async function imported(gguf: string, dir: string, quantization = 'q8_32'): Promise<void> {
  const manifest = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifest) || (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { quantization?: string }).quantization !== quantization) {
    fs.rmSync(dir, { recursive: true, force: true });
    await importCheckpoint({ input: gguf, outDir: dir });
  }
}

/** Writes what is missing under .cache/peers/ and lists the models, `only` filtering by name. */
export async function prepareModels(only: string[] | undefined, log: (line: string) => void): Promise<PeerModel[]> {
  fs.mkdirSync(CACHE, { recursive: true });
  const want = (n: string) => !only || only.includes(n);
  const models: PeerModel[] = [];
  if (want('smollm2-135m-q4_1') || want('smollm2-135m-q8_0')) {
    if (!fs.existsSync(SMOLLM2)) execFileSync(process.execPath, [path.join(ROOT, 'scripts/fetch-smollm2.mjs')], { stdio: ['ignore', 2, 2] });
    if (want('smollm2-135m-q4_1')) {
      await imported(SMOLLM2, path.join(CACHE, 'smollm2-135m-q4_1'), 'q4_32');
      models.push({ name: 'smollm2-135m-q4_1', gguf: SMOLLM2, ggufQuant: 'Q4_1 (+Q8_0 embedding)', v2Dir: path.join(CACHE, 'smollm2-135m-q4_1'), sameFunction: true, note: 'llama.cpp runs the published Q4_1 GGUF; Flashcode its default import of it (the Q4_1 matrices kept 4-bit exactly, the embedding and ffn.bin 8-bit)' });
    }
    if (want('smollm2-135m-q8_0')) {
      const q8 = path.join(CACHE, 'smollm2-135m-q8_0.gguf');
      if (!fs.existsSync(q8)) {
        if (!fs.existsSync(IMPORT_PYTHON)) execFileSync('bash', [path.join(ROOT, 'scripts/import-venv.sh')], { stdio: ['ignore', 2, 2] });
        log(`writing ${q8}`);
        execFileSync(IMPORT_PYTHON, [path.join(__dirname, 'q8gguf.py'), SMOLLM2, q8], { stdio: ['ignore', 2, 2] });
      }
      await imported(q8, path.join(CACHE, 'smollm2-135m-q8_0'));
      models.push({ name: 'smollm2-135m-q8_0', gguf: q8, ggufQuant: 'Q8_0', v2Dir: path.join(CACHE, 'smollm2-135m-q8_0'), sameFunction: true, note: 'the Q4_1 weights dequantized and written as Q8_0: both runtimes on the same 8-bit tensors' });
    }
  }
  for (const name of ['random-135m', 'random-0.5b']) {
    if (!want(name)) continue;
    const gguf = path.join(CACHE, `${name}.q8_0.gguf`);
    if (!fs.existsSync(gguf)) { log(`writing ${gguf}`); randomGguf(name, SHAPES[name], gguf); }
    await imported(gguf, path.join(CACHE, name));
    models.push({ name, gguf, ggufQuant: 'Q8_0', v2Dir: path.join(CACHE, name), sameFunction: true, note: 'random weights, same tensors in both' });
  }
  if (want('bundled')) {
    const v2 = path.join(CACHE, 'bundled-v2');
    if (!fs.existsSync(path.join(v2, 'manifest.json'))) {
      log(`converting the bundled model to v2 in ${v2}`);
      execFileSync('/usr/bin/python3', [path.join(ROOT, 'models/pipeline/convert_v2.py'), path.join(ROOT, 'models/flashcode-code-v1'), v2], { stdio: ['ignore', 2, 2] });
    }
    const gguf = path.join(CACHE, 'bundled-shape.q8_0.gguf');
    if (!fs.existsSync(gguf)) randomGguf('bundled-shape', SHAPES['bundled-shape'], gguf);
    models.push({ name: 'bundled', gguf, ggufQuant: 'Q8_0', v2Dir: v2, sameFunction: false, note: 'ReLU model: llama.cpp runs a random SiLU model of the same shape; speed only. Its dense decode is the ReLU gate-sparse path (exact zeros skipped)' });
  }
  return models;
}
