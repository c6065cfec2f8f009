// Bad GGUF input: each a named error before anything is written, and nothing left beside --out.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { importCheckpoint, ImportOutputExistsError } from '../../../../src/engine/import/importModel';
import { tinyModel, writeGguf, type TinyModel } from '../../../helpers/ggufWriter';
import { tempDir } from '../../../helpers/importFixtures';

type Edit = (m: TinyModel) => void;

/** Imports a tiny llama edited by `edit` (or the bytes `mangle` returns) and expects `error`. */
async function expectRefusal(error: { name: string; message: RegExp }, edit: Edit = () => {}, mangle: (b: Buffer) => Buffer = (b) => b, options: { bits?: number } = {}) {
  const dir = tempDir();
  const m = tinyModel('llama');
  edit(m);
  const file = path.join(dir, 'in.gguf');
  fs.writeFileSync(file, mangle(writeGguf(m.meta, m.tensors)));
  await assert.rejects(importCheckpoint({ input: file, outDir: path.join(dir, 'out'), ...options }), (e: Error) => {
    assert.equal(e.name, error.name, e.message);
    assert.match(e.message, error.message);
    return true;
  });
  assert.deepEqual(fs.readdirSync(dir), ['in.gguf'], 'nothing written');
}

const corrupt = (message: RegExp) => ({ name: 'CheckpointCorruptError', message });
const unsupported = (message: RegExp) => ({ name: 'CheckpointUnsupportedError', message });
const incomplete = (message: RegExp) => ({ name: 'CheckpointIncompleteError', message });

describe('import: bad GGUF input', () => {
  it('a file cut inside the header', () => expectRefusal(corrupt(/truncated/), undefined, (b) => b.subarray(0, 3000)));
  it('a file cut inside the tensor data', () => expectRefusal(corrupt(/runs past the end/), undefined, (b) => b.subarray(0, b.length - 100)));
  it('a tensor offset past the end', () => expectRefusal(corrupt(/blk\.1\.ffn_up\.weight.*runs past the end/), (m) => {
    m.tensors.find((t) => t.name === 'blk.1.ffn_up.weight')!.offset = 1 << 24;
  }));
  it('not a GGUF file', () => expectRefusal(corrupt(/not a GGUF file/), undefined, (b) => Buffer.concat([Buffer.from('GGML'), b.subarray(4)])));
  it('dims that contradict the metadata', () => expectRefusal(corrupt(/ffn_gate\.weight has dims \[32, 64\], but the metadata implies \[32, 128\]/), (m) => {
    m.meta['llama.feed_forward_length'] = { type: 'u32', value: 128 };
  }));
  it('a vocabulary size that contradicts the embedding', () => expectRefusal(corrupt(/259 rows but llama\.vocab_size is 300/), (m) => {
    m.meta['llama.vocab_size'] = { type: 'u32', value: 300 };
  }));
  it('duplicate tensor names', () => expectRefusal(corrupt(/duplicate tensor name blk\.0\.attn_norm\.weight/), (m) => {
    m.tensors.push({ ...m.tensors.find((t) => t.name === 'blk.0.attn_norm.weight')! });
  }));
  it('an unknown tensor type', () => expectRefusal(unsupported(/unknown type 99/), (m) => {
    m.tensors[1].type = 99;
  }));
  it('a known quant type the importer does not convert (Q5_0)', () => expectRefusal(unsupported(/Q5_0/), (m) => {
    const t = m.tensors.find((x) => x.name === 'blk.0.ffn_up.weight')!;
    t.type = 6;
    t.data = new Uint8Array((64 * 32 / 32) * 22);
  }));
  it('GGUF version 1', () => expectRefusal(unsupported(/GGUF version 1/), undefined, (b) => Buffer.concat([b.subarray(0, 4), Buffer.from([1, 0, 0, 0]), b.subarray(8)])));
  it('a split GGUF', () => expectRefusal(unsupported(/split into 3 files/), (m) => {
    m.meta['split.count'] = { type: 'u32', value: 3 };
  }));
  it('another architecture', () => expectRefusal(unsupported(/architecture "gemma"/), (m) => {
    m.meta['general.architecture'] = { type: 'string', value: 'gemma' };
  }));
  it('RoPE scaling', () => expectRefusal(unsupported(/RoPE scaling \(yarn/), (m) => {
    m.meta['llama.rope.scaling.type'] = { type: 'string', value: 'yarn' };
  }));
  it('sliding-window attention', () => expectRefusal(unsupported(/sliding-window attention/), (m) => {
    m.meta['llama.attention.sliding_window'] = { type: 'u32', value: 4096 };
  }));
  it('mixture of experts', () => expectRefusal(unsupported(/mixture of experts/), (m) => {
    m.meta['llama.expert_count'] = { type: 'u32', value: 8 };
  }));
  it('a tensor that is not part of a plain llama model', () => expectRefusal(unsupported(/blk\.0\.ffn_gate_exps\.weight/), (m) => {
    m.tensors.push({ name: 'blk.0.ffn_gate_exps.weight', dims: [32], data: new Uint8Array(128) });
  }));
  it('a missing tensor', () => expectRefusal(incomplete(/blk\.1\.ffn_down\.weight is missing/), (m) => {
    m.tensors = m.tensors.filter((t) => t.name !== 'blk.1.ffn_down.weight');
  }));
  it('no tokenizer', () => expectRefusal(incomplete(/tokenizer\.ggml\.model is missing/), (m) => {
    delete m.meta['tokenizer.ggml.model'];
  }));
  it('a metadata field missing', () => expectRefusal(incomplete(/llama\.block_count is missing/), (m) => {
    delete m.meta['llama.block_count'];
  }));
  it('an unknown pre-tokenizer', () => expectRefusal(unsupported(/pre-tokenizer "chatglm-bpe"/), (m) => {
    m.meta['tokenizer.ggml.pre'] = { type: 'string', value: 'chatglm-bpe' };
  }));
  it('a non-finite weight', () => expectRefusal(corrupt(/layers\.0\.ffn_gate.*non-finite/), (m) => {
    new Float32Array(m.tensors.find((t) => t.name === 'blk.0.ffn_gate.weight')!.data.buffer)[5] = NaN;
  }));
  it('a weight too large for an 8-bit block (its scale must be an f16 value)', () => expectRefusal(corrupt(/layers\.0\.ffn_gate.*weight 9000000 too large for 8 bits.*row 0, column 5/), (m) => {
    new Float32Array(m.tensors.find((t) => t.name === 'blk.0.ffn_gate.weight')!.data.buffer)[5] = 9e6;
  }));
  it('--bits 3', () => expectRefusal({ name: 'ImportBitsUnsupportedError', message: /--bits 3 is not supported: .* 8-bit \(q8_32\) or 4-bit \(q4_32\)/ }, undefined, undefined, { bits: 3 }));

  it('GGUF version 2 (same layout as 3) imports', async () => {
    const dir = tempDir();
    const m = tinyModel('qwen2');
    const bytes = writeGguf(m.meta, m.tensors);
    bytes.writeUInt32LE(2, 4);
    fs.writeFileSync(path.join(dir, 'in.gguf'), bytes);
    const summary = await importCheckpoint({ input: path.join(dir, 'in.gguf'), outDir: path.join(dir, 'out') });
    assert.equal(summary.architecture.attentionBias, true);
  });

  it('an --out that exists is never overwritten', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'in.gguf'), writeGguf(tinyModel('llama').meta, tinyModel('llama').tensors));
    fs.mkdirSync(path.join(dir, 'out'));
    fs.writeFileSync(path.join(dir, 'out', 'keep'), 'x');
    await assert.rejects(importCheckpoint({ input: path.join(dir, 'in.gguf'), outDir: path.join(dir, 'out') }), ImportOutputExistsError);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'out')), ['keep']);
  });

  it('an abort removes the temporary directory', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'in.gguf'), writeGguf(tinyModel('llama').meta, tinyModel('llama').tensors));
    const abort = new AbortController();
    const run = importCheckpoint({
      input: path.join(dir, 'in.gguf'), outDir: path.join(dir, 'out'), signal: abort.signal,
      onProgress: () => abort.abort(),
    });
    await assert.rejects(run, { name: 'AbortError' });
    assert.deepEqual(fs.readdirSync(dir), ['in.gguf']);
  });
});
