// GGUF → v2 directory on tiny synthetic llama/qwen2 files (test/helpers/ggufWriter.ts, F32 tensors so
// the expected q8_32 bytes are exact): row order (llama.cpp's Q/K permutation undone), biases, the
// FFN split, the manifest and the tokenizer.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TextTokenizer } from '../../../../src/engine/tokenizer';
import { importCheckpoint } from '../../../../src/engine/import/importModel';
import { quantizeQ8 } from '../../../../src/engine/import/writer/q8';
import { quantizeQ4 } from '../../../../src/engine/weights/q4';
import { tinyModel, type TinyModel } from '../../../helpers/ggufWriter';
import { tempDir, writeTiny } from '../../../helpers/importFixtures';
import { readFfnV3, readWeightsBin } from '../../../helpers/v2Model';

/** Hugging Face row order from llama.cpp's: row h·hd + s·hd/2 + i of a head came from row h·hd + 2i + s. */
function hfRows(values: Float32Array, cols: number, headDim: number): Float32Array {
  const out = new Float32Array(values.length);
  const rows = values.length / cols;
  for (let h = 0; h < rows / headDim; h++) {
    for (let s = 0; s < 2; s++) {
      for (let i = 0; i < headDim / 2; i++) {
        const to = h * headDim + s * (headDim / 2) + i, from = h * headDim + 2 * i + s;
        out.set(values.subarray(from * cols, (from + 1) * cols), to * cols);
      }
    }
  }
  return out;
}

function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function transpose(v: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = v[r * cols + c];
  return out;
}

function assertQ8(actual: { quants?: Int8Array; scales?: Float32Array } | undefined, expected: Float32Array, rows: number, cols: number, what: string): void {
  assert.ok(actual?.quants && actual.scales, `${what} missing`);
  const want = quantizeQ8(expected, rows, cols);
  assert.deepEqual(new Uint8Array(actual.quants.buffer), want.subarray(0, rows * cols), `${what} quants`);
  assert.deepEqual(new Uint8Array(actual.scales.buffer), want.subarray(rows * cols), `${what} scales`);
}

describe('import: GGUF → model directory v2', () => {
  for (const arch of ['llama', 'qwen2'] as const) {
    it(`${arch}: every tensor in Hugging Face layout, q8_32 bit-exact, FFN up/down in ffn.bin v3`, async () => {
      const dir = tempDir();
      const m = tinyModel(arch);
      const out = path.join(dir, 'model');
      const summary = await importCheckpoint({ input: writeTiny(m, dir), outDir: out });
      const w = readWeightsBin(path.join(out, 'weights.bin'));
      const v = (n: string) => m.values.get(n)!;
      const qk = (n: string) => (arch === 'llama' ? hfRows(v(n), 32, 16) : v(n));
      assertQ8(w.get('embed'), v('token_embd.weight'), 259, 32, 'embed');
      assert.equal(w.has('head'), false);
      assert.deepEqual(w.get('final_norm')!.values, v('output_norm.weight'));
      for (let l = 0; l < 2; l++) {
        const p = `blk.${l}.`;
        assertQ8(w.get(`layers.${l}.qkv`), concat(qk(`${p}attn_q.weight`), qk(`${p}attn_k.weight`), v(`${p}attn_v.weight`)), 64, 32, 'qkv');
        assertQ8(w.get(`layers.${l}.out`), v(`${p}attn_output.weight`), 32, 32, 'out');
        assertQ8(w.get(`layers.${l}.ffn_gate`), v(`${p}ffn_gate.weight`), 64, 32, 'ffn_gate');
        assert.deepEqual(w.get(`layers.${l}.attn_norm`)!.values, v(`${p}attn_norm.weight`));
        if (arch === 'qwen2') assert.deepEqual(w.get(`layers.${l}.qkv_bias`)!.values, concat(v(`${p}attn_q.bias`), v(`${p}attn_k.bias`), v(`${p}attn_v.bias`)));
        else assert.equal(w.has(`layers.${l}.qkv_bias`), false);
      }
      const ffn = readFfnV3(path.join(out, 'ffn.bin'));
      assert.deepEqual([ffn.version, ffn.dtype, ffn.flags, ffn.layers, ffn.dModel, ffn.ffnSize], [3, 3, 0, 2, 32, 64]);
      const up = quantizeQ8(v('blk.1.ffn_up.weight'), 64, 32);
      const upValues = new Float32Array(64 * 32).map((_, i) => new Int8Array(up.buffer, 0, 2048)[i] * new Float32Array(up.slice(2048).buffer)[i >> 5]);
      assert.deepEqual(ffn.up[1], upValues);
      const downT = transpose(v('blk.0.ffn_down.weight'), 32, 64); // [ffn][d]: the records' down columns
      const dq = quantizeQ8(downT, 64, 32);
      const downValues = new Float32Array(64 * 32).map((_, i) => new Int8Array(dq.buffer, 0, 2048)[i] * new Float32Array(dq.slice(2048).buffer)[i >> 5]);
      assert.deepEqual(ffn.down[0], transpose(downValues, 64, 32));

      const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
      assert.equal(manifest.formatVersion, 2);
      assert.deepEqual(manifest.architecture, {
        family: 'llama', layers: 2, dModel: 32, heads: 2, kvHeads: 1, headDim: 16, ffnSize: 64, ffnActivation: 'silu', ffnGated: true,
        ropeTheta: 10000, normEps: 1e-6, vocabSize: 259, tiedEmbeddings: true, attentionBias: arch === 'qwen2',
      });
      assert.equal(manifest.fim, undefined);
      assert.deepEqual(manifest.stopTokens, ['<|im_end|>', '<|endoftext|>']);
      assert.equal(manifest.chat.format, 'chatml');
      assert.deepEqual(manifest.sparsity.gateThresholds, [0, 0]);
      assert.equal(manifest.source.kind, 'gguf');
      assert.equal(manifest.quantization, 'q8_32');
      assert.deepEqual(Object.keys(manifest.files).sort(), ['ffn.bin', 'tokenizer.json', 'weights.bin']);
      assert.equal(summary.outputBytes > 0, true);
      const tok = await TextTokenizer.load(path.join(out, 'tokenizer.json'));
      assert.deepEqual(tok.encode('a<|im_end|>b'), [97, 258, 98]);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['model', 'tiny.gguf'], 'no temporary directory left');
    });
  }
});

describe('import: GGUF with its own output head', () => {
  it('output.weight becomes `head` (untied), row for row', async () => {
    const dir = tempDir();
    const m = tinyModel('llama', 7);
    const head = new Float32Array(259 * 32).map((_, i) => Math.sin(i) / 10);
    m.tensors.push({ name: 'output.weight', dims: [32, 259], data: new Uint8Array(head.buffer) });
    const out = path.join(dir, 'model');
    const summary = await importCheckpoint({ input: writeTiny(m, dir), outDir: out });
    assert.equal(summary.architecture.tiedEmbeddings, false);
    const w = readWeightsBin(path.join(out, 'weights.bin'));
    assertQ8(w.get('head'), head, 259, 32, 'head');
    assertQ8(w.get('embed'), m.values.get('token_embd.weight')!, 259, 32, 'embed');
  });
});

/** `m` with every layer matrix as random Q4_1 blocks (f16 d and m, random codes); m.values gets
 *  their exact values, value = fround(fround(q·d) + m) as llama.cpp dequantizes them. */
function asQ4_1(m: TinyModel): TinyModel {
  let s = 7;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8;
  const half = (bits: number) => { const e = (bits >> 10) & 31, f = bits & 1023; return (bits & 0x8000 ? -1 : 1) * (1 + f / 1024) * 2 ** (e - 15); };
  for (const t of m.tensors) {
    if (!/^blk\.\d+\.(attn_[qkv]|attn_output|ffn_gate|ffn_up|ffn_down)\.weight$/.test(t.name)) continue;
    const n = t.dims[0] * t.dims[1];
    const data = Buffer.alloc((n / 32) * 20), values = new Float32Array(n);
    for (let b = 0; b < n / 32; b++) {
      const dBits = 0x2000 + (rnd() & 0x3ff), mBits = 0xa800 + (rnd() & 0x7ff); // d ≈ 0.008…0.016, m ≈ −0.03…−0.125
      data.writeUInt16LE(dBits, 20 * b);
      data.writeUInt16LE(mBits, 20 * b + 2);
      for (let k = 0; k < 16; k++) {
        const byte = rnd() & 255;
        data[20 * b + 4 + k] = byte;
        values[32 * b + k] = Math.fround(Math.fround((byte & 15) * half(dBits)) + half(mBits));
        values[32 * b + k + 16] = Math.fround(Math.fround((byte >> 4) * half(dBits)) + half(mBits));
      }
    }
    t.type = 3;
    t.data = data;
    m.values.set(t.name, values);
  }
  return m;
}

describe('import: --bits and 4-bit sources (models/FORMAT.md §Q4)', () => {
  const p = 'blk.1.';
  it('Q4_1 matrices stay 4-bit by default, value for value; F32 ones become q8_32; --bits 8 re-quantizes all', async () => {
    const dir = tempDir();
    const m = asQ4_1(tinyModel('llama'));
    const input = writeTiny(m, dir);
    const v = (n: string) => m.values.get(n)!;
    const out = path.join(dir, 'auto');
    await importCheckpoint({ input, outDir: out });
    const w = readWeightsBin(path.join(out, 'weights.bin'));
    assert.equal(w.get('layers.1.qkv')!.dtype, 'q4_32');
    assert.deepEqual(w.get('layers.1.qkv')!.values, concat(hfRows(v(`${p}attn_q.weight`), 32, 16), hfRows(v(`${p}attn_k.weight`), 32, 16), v(`${p}attn_v.weight`)));
    assert.deepEqual(w.get('layers.1.out')!.values, v(`${p}attn_output.weight`));
    assert.deepEqual(w.get('layers.1.ffn_gate')!.values, v(`${p}ffn_gate.weight`));
    assertQ8(w.get('embed'), v('token_embd.weight'), 259, 32, 'embed (F32 source)');
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    assert.equal(manifest.quantization, 'q4_32');
    assert.match(manifest.notes, /6 of weights\.bin's 7 matrices in q4_32/);
    assert.deepEqual(readFfnV3(path.join(out, 'ffn.bin')).up[1].length, 64 * 32, 'ffn.bin stays q8_32 (version 3)');

    const eight = path.join(dir, 'eight');
    await importCheckpoint({ input, outDir: eight, bits: 8 });
    const w8 = readWeightsBin(path.join(eight, 'weights.bin'));
    assertQ8(w8.get('layers.1.out'), v(`${p}attn_output.weight`), 32, 32, 'out');
    assert.equal(JSON.parse(fs.readFileSync(path.join(eight, 'manifest.json'), 'utf8')).quantization, 'q8_32');
  });

  it('--bits 4 quantizes F32 matrices to q4_32 (bit-exact with quantizeQ4)', async () => {
    const dir = tempDir();
    const m = tinyModel('qwen2');
    const out = path.join(dir, 'four');
    await importCheckpoint({ input: writeTiny(m, dir), outDir: out, bits: 4 });
    const bytes = fs.readFileSync(path.join(out, 'weights.bin'));
    const table = JSON.parse(bytes.toString('utf8', 12, 12 + bytes.readUInt32LE(8))) as { tensors: { name: string; dtype: string; offset: number; bytes: number }[] };
    const entry = (name: string) => table.tensors.find((t) => t.name === name)!;
    assert.equal(bytes.readUInt32LE(4), 2);
    for (const [name, source, rows] of [['embed', 'token_embd.weight', 259], ['layers.0.out', 'blk.0.attn_output.weight', 32], ['layers.1.ffn_gate', 'blk.1.ffn_gate.weight', 64]] as const) {
      const e = entry(name);
      assert.equal(e.dtype, 'q4_32', name);
      assert.deepEqual(new Uint8Array(bytes.subarray(e.offset, e.offset + e.bytes)), quantizeQ4(m.values.get(source)!, rows, 32), name);
    }
  });
});
