// Builds small GGUF v3 files for tests: a tiny llama/qwen2 model with F32 tensors and a byte-level
// tokenizer, written value by value per the GGUF spec, with hooks to make it lie (the bad-input
// tests). Not the importer's code: it only writes.
export type MetaValue = { type: 'u32' | 'f32' | 'string' | 'bool'; value: number | string | boolean } | { type: 'strings'; value: string[] } | { type: 'i32s'; value: number[] };

export interface GgufTensorSpec {
  name: string;
  /** ggml order: dims[0] = values per row. */
  dims: number[];
  type?: number;
  data: Uint8Array;
  /** Overrides the offset written in the header (relative to the data start). */
  offset?: number;
}

class Bytes {
  parts: Buffer[] = [];
  get length() { return this.parts.reduce((s, p) => s + p.length, 0); }
  u32(v: number) { const b = Buffer.alloc(4); b.writeUInt32LE(v); this.parts.push(b); }
  i32(v: number) { const b = Buffer.alloc(4); b.writeInt32LE(v); this.parts.push(b); }
  u64(v: number) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.parts.push(b); }
  f32(v: number) { const b = Buffer.alloc(4); b.writeFloatLE(v); this.parts.push(b); }
  str(s: string) { const b = Buffer.from(s, 'utf8'); this.u64(b.length); this.parts.push(b); }
  raw(b: Uint8Array) { this.parts.push(Buffer.from(b)); }
}

export function writeGguf(meta: Record<string, MetaValue>, tensors: GgufTensorSpec[], alignment = 32): Buffer {
  const w = new Bytes();
  w.raw(Buffer.from('GGUF'));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(Object.keys(meta).length);
  for (const [key, m] of Object.entries(meta)) {
    w.str(key);
    switch (m.type) {
      case 'u32': w.u32(4); w.u32(m.value as number); break;
      case 'f32': w.u32(6); w.f32(m.value as number); break;
      case 'bool': w.u32(7); w.raw(Buffer.from([m.value ? 1 : 0])); break;
      case 'string': w.u32(8); w.str(m.value as string); break;
      case 'strings': w.u32(9); w.u32(8); w.u64(m.value.length); m.value.forEach((s) => w.str(s)); break;
      case 'i32s': w.u32(9); w.u32(5); w.u64(m.value.length); m.value.forEach((v) => w.i32(v)); break;
    }
  }
  let cursor = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    offsets.push(cursor);
    cursor = Math.ceil((cursor + t.data.length) / alignment) * alignment;
  }
  tensors.forEach((t, i) => {
    w.str(t.name);
    w.u32(t.dims.length);
    t.dims.forEach((d) => w.u64(d));
    w.u32(t.type ?? 0);
    w.u64(t.offset ?? offsets[i]);
  });
  const head = Buffer.concat(w.parts);
  const data = Buffer.alloc(cursor);
  tensors.forEach((t, i) => data.set(t.data, offsets[i]));
  return Buffer.concat([head, Buffer.alloc(Math.ceil(head.length / alignment) * alignment - head.length), data]);
}

export interface TinyModel {
  arch: 'llama' | 'qwen2';
  meta: Record<string, MetaValue>;
  tensors: GgufTensorSpec[];
  /** f32 values of each tensor by GGUF name, in the file's (llama.cpp) row order. */
  values: Map<string, Float32Array>;
}

/** A random tiny model: d 32, 2 heads of 16, 1 KV head, FFN 64, 2 layers, vocab 256 + specials. */
export function tinyModel(arch: 'llama' | 'qwen2', seed = 1): TinyModel {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.2;
  const d = 32, heads = 2, hd = 16, kv = 1, ffn = 64, layers = 2;
  const tokens = [...Array.from({ length: 256 }, (_, b) => byteChar(b)), '<|endoftext|>', '<|im_start|>', '<|im_end|>'];
  const vocab = tokens.length;
  const values = new Map<string, Float32Array>();
  const tensors: GgufTensorSpec[] = [];
  const add = (name: string, dims: number[]) => {
    const v = new Float32Array(dims.reduce((a, b) => a * b, 1)).map(rand);
    values.set(name, v);
    tensors.push({ name, dims, data: new Uint8Array(v.buffer) });
  };
  add('token_embd.weight', [d, vocab]);
  add('output_norm.weight', [d]);
  for (let l = 0; l < layers; l++) {
    const p = `blk.${l}.`;
    add(`${p}attn_norm.weight`, [d]);
    add(`${p}attn_q.weight`, [d, heads * hd]);
    add(`${p}attn_k.weight`, [d, kv * hd]);
    add(`${p}attn_v.weight`, [d, kv * hd]);
    if (arch === 'qwen2') {
      add(`${p}attn_q.bias`, [heads * hd]);
      add(`${p}attn_k.bias`, [kv * hd]);
      add(`${p}attn_v.bias`, [kv * hd]);
    }
    add(`${p}attn_output.weight`, [heads * hd, d]);
    add(`${p}ffn_norm.weight`, [d]);
    add(`${p}ffn_gate.weight`, [d, ffn]);
    add(`${p}ffn_up.weight`, [d, ffn]);
    add(`${p}ffn_down.weight`, [ffn, d]);
  }
  const meta: Record<string, MetaValue> = {
    'general.architecture': { type: 'string', value: arch },
    'general.name': { type: 'string', value: `tiny ${arch}` },
    [`${arch}.block_count`]: { type: 'u32', value: layers },
    [`${arch}.context_length`]: { type: 'u32', value: 2048 },
    [`${arch}.embedding_length`]: { type: 'u32', value: d },
    [`${arch}.feed_forward_length`]: { type: 'u32', value: ffn },
    [`${arch}.attention.head_count`]: { type: 'u32', value: heads },
    [`${arch}.attention.head_count_kv`]: { type: 'u32', value: kv },
    [`${arch}.rope.freq_base`]: { type: 'f32', value: 10000 },
    [`${arch}.attention.layer_norm_rms_epsilon`]: { type: 'f32', value: 1e-6 },
    'tokenizer.ggml.model': { type: 'string', value: 'gpt2' },
    'tokenizer.ggml.pre': { type: 'string', value: arch === 'qwen2' ? 'qwen2' : 'smollm' },
    'tokenizer.ggml.tokens': { type: 'strings', value: tokens },
    'tokenizer.ggml.token_type': { type: 'i32s', value: tokens.map((_, i) => (i < 256 ? 1 : 3)) },
    'tokenizer.ggml.merges': { type: 'strings', value: [] },
    'tokenizer.ggml.eos_token_id': { type: 'u32', value: 258 },
    'tokenizer.chat_template': { type: 'string', value: '{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>{% endfor %}' },
  };
  return { arch, meta, tensors, values };
}

function byteChar(b: number): string {
  const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  if (printable) return String.fromCharCode(b);
  let n = 0;
  for (let x = 0; x < b; x++) if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255))) n++;
  return String.fromCharCode(256 + n);
}
