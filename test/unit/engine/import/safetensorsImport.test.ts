// Hugging Face checkpoints → v2 directory: the committed tiny random Llama (BF16 matrices, F32 norms,
// untied, two shards) and Qwen2 (F16, tied, biases, ChatML), written by PyPI safetensors
// (scripts/import-fixtures.py); the bad inputs are edited copies of them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { importCheckpoint } from '../../../../src/engine/import/importModel';
import { quantizeQ8 } from '../../../../src/engine/import/writer/q8';
import { readFfnV3, readSafetensor, readWeightsBin } from '../../../helpers/v2Model';
import { tempDir } from '../../../helpers/importFixtures';

const FIXTURES = path.join(__dirname, '../../../fixtures/import');

/** A tensor by Hugging Face name from whichever file of `dir` holds it. */
function hf(dir: string, name: string): Float32Array {
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.safetensors'))) {
    const t = readSafetensor(path.join(dir, f), name);
    if (t) return t.values;
  }
  throw new Error(`${name} not in ${dir}`);
}

function q8Values(values: Float32Array, rows: number, cols: number): Float32Array {
  const b = quantizeQ8(values, rows, cols);
  const q = new Int8Array(b.buffer, 0, rows * cols), s = new Float32Array(b.slice(rows * cols).buffer);
  return values.map((_, i) => q[i] * s[i >> 5]);
}

function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

function copyFixture(name: string): { dir: string; src: string } {
  const dir = tempDir();
  const src = path.join(dir, name);
  fs.cpSync(path.join(FIXTURES, name), src, { recursive: true });
  return { dir, src };
}

function editJson(file: string, edit: (j: Record<string, unknown>) => void): void {
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(j);
  fs.writeFileSync(file, JSON.stringify(j));
}

/** Rewrites a safetensors header in place (the data stays where it was relative to the data start). */
function editHeader(file: string, edit: (h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void): void {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.toString('utf8', 8, 8 + n));
  edit(header);
  let json = Buffer.from(JSON.stringify(header));
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([len, json, buf.subarray(8 + n)]));
}

describe('import: Hugging Face safetensors → model directory v2', () => {
  it('tiny Llama: sharded BF16, untied head, StarCoder-style FIM, context capped', async () => {
    const src = path.join(FIXTURES, 'tiny-llama');
    const dir = tempDir();
    const out = path.join(dir, 'm');
    await importCheckpoint({ input: src, outDir: out });
    const w = readWeightsBin(path.join(out, 'weights.bin'));
    assert.deepEqual(w.get('embed')!.values, q8Values(hf(src, 'model.embed_tokens.weight'), 264, 32));
    assert.deepEqual(w.get('head')!.values, q8Values(hf(src, 'lm_head.weight'), 264, 32));
    assert.deepEqual(w.get('final_norm')!.values, hf(src, 'model.norm.weight'));
    const p = 'model.layers.1.';
    assert.deepEqual(w.get('layers.1.qkv')!.values, q8Values(concat(hf(src, `${p}self_attn.q_proj.weight`), hf(src, `${p}self_attn.k_proj.weight`), hf(src, `${p}self_attn.v_proj.weight`)), 64, 32));
    assert.deepEqual(w.get('layers.1.out')!.values, q8Values(hf(src, `${p}self_attn.o_proj.weight`), 32, 32));
    assert.deepEqual(w.get('layers.1.ffn_gate')!.values, q8Values(hf(src, `${p}mlp.gate_proj.weight`), 64, 32));
    assert.deepEqual(w.get('layers.1.ffn_norm')!.values, hf(src, `${p}post_attention_layernorm.weight`));
    const ffn = readFfnV3(path.join(out, 'ffn.bin'));
    assert.deepEqual(ffn.up[1], q8Values(hf(src, `${p}mlp.up_proj.weight`), 64, 32));
    const down = hf(src, `${p}mlp.down_proj.weight`); // [d 32][ffn 64]
    for (const j of [0, 17, 63]) {
      const column = Float32Array.from({ length: 32 }, (_, i) => down[i * 64 + j]);
      assert.deepEqual(Float32Array.from({ length: 32 }, (_, i) => ffn.down[1][i * 64 + j]), q8Values(column, 1, 32));
    }
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    assert.equal(m.architecture.tiedEmbeddings, false);
    assert.equal(m.architecture.attentionBias, false);
    assert.equal(m.architecture.ropeTheta, 500000);
    assert.deepEqual(m.fim, { order: 'psm', prefixToken: '<fim_prefix>', suffixToken: '<fim_suffix>', middleToken: '<fim_middle>', endOfTextToken: '<|endoftext|>', fileSeparatorToken: '<file_sep>' });
    assert.deepEqual(m.stopTokens, ['<|endoftext|>', '<file_sep>']);
    assert.equal(m.contextTokens, 8192);
    assert.match(m.notes, /capped at 8192 tokens \(the checkpoint allows 16384\)/);
    assert.equal(m.chat, undefined);
    assert.equal(m.source.kind, 'safetensors');
    assert.deepEqual(m.source.files.map((f: { name: string }) => f.name), [
      'config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors',
    ]);
    assert.match(m.source.files[4].sha256, /^[0-9a-f]{64}$/);
    assert.ok(fs.existsSync(path.join(out, 'tokenizer_config.json')) && m.files['tokenizer_config.json']);
  });

  it('tiny Qwen2: F16, tied, attention biases, Qwen-style FIM, ChatML', async () => {
    const src = path.join(FIXTURES, 'tiny-qwen2');
    const out = path.join(tempDir(), 'm');
    await importCheckpoint({ input: src, outDir: out });
    const w = readWeightsBin(path.join(out, 'weights.bin'));
    assert.equal(w.has('head'), false);
    const p = 'model.layers.0.self_attn.';
    assert.deepEqual(w.get('layers.0.qkv_bias')!.values, concat(hf(src, `${p}q_proj.bias`), hf(src, `${p}k_proj.bias`), hf(src, `${p}v_proj.bias`)));
    assert.deepEqual(w.get('layers.0.qkv')!.values, q8Values(concat(hf(src, `${p}q_proj.weight`), hf(src, `${p}k_proj.weight`), hf(src, `${p}v_proj.weight`)), 64, 32));
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    assert.equal(m.architecture.tiedEmbeddings, true);
    assert.equal(m.architecture.attentionBias, true);
    assert.equal(m.fim.prefixToken, '<|fim_prefix|>');
    assert.equal(m.fim.fileSeparatorToken, '<|file_sep|>');
    assert.deepEqual(m.stopTokens, ['<|im_end|>', '<|endoftext|>', '<|file_sep|>']);
    assert.equal(m.chat.format, 'chatml');
    assert.equal(m.contextTokens, 4096);
    assert.equal(m.source.quantization, 'F16+F32');
  });

  it('FIM tokens the tokenizer does not mark special (Qwen2.5-Coder) are found and marked special', async () => {
    const { dir, src } = copyFixture('tiny-qwen2');
    editJson(path.join(src, 'tokenizer.json'), (t) => {
      for (const a of t.added_tokens as { content: string; special: boolean }[]) if (a.content.startsWith('<|fim_')) a.special = false;
    });
    await importCheckpoint({ input: src, outDir: path.join(dir, 'out') });
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'manifest.json'), 'utf8'));
    assert.equal(m.fim.middleToken, '<|fim_middle|>');
    const tok = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'tokenizer.json'), 'utf8'));
    assert.ok(tok.added_tokens.filter((a: { content: string }) => a.content.startsWith('<|fim_')).every((a: { special: boolean }) => a.special));
  });

  it('Mistral: a sliding window shorter than the context is refused; none is imported', async () => {
    const { dir, src } = copyFixture('tiny-llama');
    editJson(path.join(src, 'config.json'), (c) => Object.assign(c, { architectures: ['MistralForCausalLM'], sliding_window: 4096 }));
    await assert.rejects(importCheckpoint({ input: src, outDir: path.join(dir, 'out') }), { name: 'CheckpointUnsupportedError', message: /sliding-window attention/ });
    editJson(path.join(src, 'config.json'), (c) => Object.assign(c, { sliding_window: null }));
    await importCheckpoint({ input: src, outDir: path.join(dir, 'out') });
  });
});

describe('import: bad safetensors input', () => {
  const cases: [string, string, { name: string; message: RegExp }, (src: string) => void][] = [
    ['a truncated shard', 'tiny-qwen2', { name: 'CheckpointCorruptError', message: /past the end.*truncated or lying offsets/ }, (src) => {
      const f = path.join(src, 'model.safetensors');
      fs.truncateSync(f, fs.statSync(f).size - 1000);
    }],
    ['a header longer than the file', 'tiny-qwen2', { name: 'CheckpointCorruptError', message: /truncated: a \d+-byte header/ }, (src) => {
      const f = path.join(src, 'model.safetensors');
      fs.truncateSync(f, 200);
    }],
    ['offsets past the end', 'tiny-qwen2', { name: 'CheckpointCorruptError', message: /model\.norm\.weight ends at byte/ }, (src) => editHeader(path.join(src, 'model.safetensors'), (h) => {
      h['model.norm.weight'].data_offsets = [10_000_000, 10_000_128];
    })],
    ['offsets that contradict the shape', 'tiny-qwen2', { name: 'CheckpointCorruptError', message: /data_offsets .* do not hold shape/ }, (src) => editHeader(path.join(src, 'model.safetensors'), (h) => {
      h['model.norm.weight'].data_offsets[1] += 4;
    })],
    ['dims that contradict config.json', 'tiny-qwen2', { name: 'CheckpointCorruptError', message: /gate_proj\.weight has shape \[64, 32\], but config\.json implies \[128, 32\]/ }, (src) => editJson(path.join(src, 'config.json'), (c) => {
      c.intermediate_size = 128;
    })],
    ['a tensor in two shards', 'tiny-llama', { name: 'CheckpointCorruptError', message: /duplicate tensor/ }, (src) => {
      fs.rmSync(path.join(src, 'model.safetensors.index.json'));
      fs.copyFileSync(path.join(src, 'model-00001-of-00002.safetensors'), path.join(src, 'model-extra.safetensors'));
    }],
    ['a tensor twice in one header', 'tiny-qwen2', { name: 'CheckpointCorruptError', message: /duplicate tensor model\.norm\.weight/ }, (src) => {
      const f = path.join(src, 'model.safetensors');
      const buf = fs.readFileSync(f);
      const n = Number(buf.readBigUInt64LE(0));
      const header = buf.toString('utf8', 8, 8 + n).trimEnd();
      const entry = /"model\.norm\.weight":\{[^}]*\}/.exec(header)![0];
      const json = Buffer.from(`${header.slice(0, -1)},${entry}}`);
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(json.length));
      fs.writeFileSync(f, Buffer.concat([len, json, buf.subarray(8 + n)]));
    }],
    ['a shard the index names is missing', 'tiny-llama', { name: 'CheckpointIncompleteError', message: /shard model-00002-of-00002\.safetensors is missing/ }, (src) => {
      fs.rmSync(path.join(src, 'model-00002-of-00002.safetensors'));
    }],
    ['an unsupported dtype', 'tiny-qwen2', { name: 'CheckpointUnsupportedError', message: /dtype I16/ }, (src) => editHeader(path.join(src, 'model.safetensors'), (h) => {
      h['model.layers.0.mlp.up_proj.weight'].dtype = 'I16';
    })],
    ['no tokenizer.json', 'tiny-qwen2', { name: 'CheckpointIncompleteError', message: /tokenizer\.json \(the tokenizer\) is missing/ }, (src) => fs.rmSync(path.join(src, 'tokenizer.json'))],
    ['no config.json', 'tiny-qwen2', { name: 'CheckpointIncompleteError', message: /config\.json .* is missing/ }, (src) => fs.rmSync(path.join(src, 'config.json'))],
    ['a config without hidden_size', 'tiny-qwen2', { name: 'CheckpointIncompleteError', message: /required field hidden_size is missing/ }, (src) => editJson(path.join(src, 'config.json'), (c) => {
      delete c.hidden_size;
    })],
    ['a config without rms_norm_eps', 'tiny-llama', { name: 'CheckpointIncompleteError', message: /required field rms_norm_eps is missing/ }, (src) => editJson(path.join(src, 'config.json'), (c) => {
      delete c.rms_norm_eps;
    })],
    ['RoPE scaling', 'tiny-llama', { name: 'CheckpointUnsupportedError', message: /RoPE scaling/ }, (src) => editJson(path.join(src, 'config.json'), (c) => {
      c.rope_scaling = { rope_type: 'llama3', factor: 8 };
    })],
    ['Qwen2 with its sliding window on', 'tiny-qwen2', { name: 'CheckpointUnsupportedError', message: /sliding-window/ }, (src) => editJson(path.join(src, 'config.json'), (c) => {
      Object.assign(c, { use_sliding_window: true, sliding_window: 1024 });
    })],
    ['another architecture', 'tiny-qwen2', { name: 'CheckpointUnsupportedError', message: /architecture GemmaForCausalLM/ }, (src) => editJson(path.join(src, 'config.json'), (c) => {
      c.architectures = ['GemmaForCausalLM'];
    })],
  ];
  for (const [what, fixture, error, breakIt] of cases) {
    it(`${what}: ${error.name}, nothing written`, async () => {
      const { dir, src } = copyFixture(fixture);
      breakIt(src);
      await assert.rejects(importCheckpoint({ input: src, outDir: path.join(dir, 'out') }), (e: Error) => {
        assert.equal(e.name, error.name, e.message);
        assert.match(e.message, error.message);
        return true;
      });
      assert.deepEqual(fs.readdirSync(dir), [fixture]);
    });
  }
});
