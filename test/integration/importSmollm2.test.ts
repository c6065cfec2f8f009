// The real SmolLM2-135M-Instruct Q4_1 GGUF: its dequantized tensors equal PyPI gguf's (llama.cpp's
// Q/K row order undone), the imported directory holds every tensor with the right shape and
// manifest, and its tokenizer.json gives llama.cpp's token ids (node-llama-cpp on the same file).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { openGgufCheckpoint } from '../../src/engine/import/gguf/checkpoint';
import { readGgufHeader } from '../../src/engine/import/gguf/header';
import { ggufTokenizer } from '../../src/engine/import/gguf/tokenizer';
import { importCheckpoint, type ImportSummary } from '../../src/engine/import/importModel';
import { TextTokenizer } from '../../src/engine/tokenizer';
import { tinyModel } from '../helpers/ggufWriter';
import { tempDir, writeTiny } from '../helpers/importFixtures';
import { requireImportPython, requireSmollm2 } from '../helpers/smollm2';
import { readFfnV3, readWeightsBin } from '../helpers/v2Model';
import { repoRoot } from '../helpers/fixture';
import { importLlamaCpp } from '../helpers/llamaCpp';

export const TOKENIZER_SAMPLES = [
  'def fibonacci(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n',
  'export async function fetchJson<T>(url: string): Promise<T> {\n\tconst res = await fetch(url, { headers: { Accept: "application/json" } });\n\tif (!res.ok) throw new Error(`HTTP ${res.status}`);\n\treturn (await res.json()) as T;\n}\n',
  '// café, naïve, Ünïcödé, 日本語のコメント, emoji 🚀🔥, math ∑ x² ≤ ∞, 12345678901234567890\nconst π = 3.14159;\n',
  'x = 1\n\n\n\n    \t  \t\n        y  =   2    # trailing   \r\n\r\n  \u00a0z\n',
  '<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nExplain `a<|endoftext|>b`<|im_end|>\n<|im_start|>assistant\n',
  "It's they're we'll I'd you've 0x1F 1e-10 3.14 __init__ self._x_y ==> !== <= >>= ... ???",
  '#include <stdio.h>\nint main(void){printf("%d\\n",42);return 0;}\n',
];

/** PyPI gguf's dequantization of each [tensor, first row, rows, cols, heads] range, in one process. */
function reference(python: string, gguf: string, ranges: [string, number, number, number, number][]): Float32Array[] {
  const args = ranges.map(([name, first, rows, , heads]) => `${name}:${first}:${rows}${heads ? `:${heads}` : ''}`);
  const out = execFileSync(python, [path.join(repoRoot, 'scripts/gguf-reference.py'), gguf, ...args], { maxBuffer: 1 << 28 });
  let at = out.byteOffset;
  const result = ranges.map(([, , rows, cols]) => {
    const values = new Float32Array(out.buffer.slice(at, at + rows * cols * 4));
    at += rows * cols * 4;
    return values;
  });
  assert.equal(at - out.byteOffset, out.length, 'reference bytes');
  return result;
}

describe('import: SmolLM2-135M-Instruct (real GGUF)', function () {
  this.timeout(300_000);
  let gguf: string;
  let out: string;
  let summary: ImportSummary;

  before(async function () {
    gguf = requireSmollm2(this);
    out = path.join(tempDir(), 'smollm2');
    summary = await importCheckpoint({ input: gguf, outDir: out });
  });

  it('dequantizes Q8_0, Q4_1 and F32 tensors exactly as PyPI gguf does, Q/K rows un-permuted', function () {
    const python = requireImportPython(this);
    const c = openGgufCheckpoint(gguf);
    try {
      const cases: [string, string, number, number, number, number][] = [
        // v2 name, GGUF name, first row, rows, cols, heads to un-permute
        ['embed', 'token_embd.weight', 49000, 152, 576, 0],
        ['layers.0.q', 'blk.0.attn_q.weight', 0, 576, 576, 9],
        ['layers.7.k', 'blk.7.attn_k.weight', 0, 192, 576, 3],
        ['layers.7.v', 'blk.7.attn_v.weight', 0, 192, 576, 0],
        ['layers.29.down', 'blk.29.ffn_down.weight', 0, 576, 1536, 0],
        ['final_norm', 'output_norm.weight', 0, 1, 576, 0],
      ];
      const wants = reference(python, gguf, cases.map(([, name, first, rows, cols, heads]) => [name, first, rows, cols, heads]));
      for (const [i, [v2, name, first, rows, cols]] of cases.entries()) {
        const want = wants[i];
        const got = new Float32Array(rows * cols);
        c.tensor(v2).readRows(first, rows, got);
        assert.deepEqual(got, want, `${v2} (${name})`);
      }
    } finally {
      c.close();
    }
  });

  it('writes every tensor with the shape the manifest implies, and the manifest from the checkpoint', () => {
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    assert.deepEqual(m.architecture, {
      family: 'llama', layers: 30, dModel: 576, heads: 9, kvHeads: 3, headDim: 64, ffnSize: 1536, ffnActivation: 'silu', ffnGated: true,
      ropeTheta: 100000, normEps: 1e-5, vocabSize: 49152, tiedEmbeddings: true, attentionBias: false,
    });
    assert.equal(m.formatVersion, 2);
    assert.equal(m.contextTokens, 8192);
    assert.equal(m.fim, undefined, 'SmolLM2-Instruct has no FIM tokens');
    assert.deepEqual(m.stopTokens, ['<|im_end|>', '<|endoftext|>', '<file_sep>']);
    assert.equal(m.chat.format, 'chatml');
    assert.match(m.chat.template, /<\|im_start\|>/);
    assert.deepEqual(m.source.files, [{ name: 'SmolLM2-135M-Instruct.Q4_1.gguf', bytes: 98362432, sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53' }]);
    assert.equal(m.source.quantization, 'Q8_0+F32+Q4_1');
    assert.equal(m.sparsity.gateThresholds.length, 30);
    const w = readWeightsBin(path.join(out, 'weights.bin'));
    const shapes = Object.fromEntries([...w].map(([name, t]) => [name, `${t.dtype}[${t.shape.join(',')}]`]));
    const expected: Record<string, string> = { embed: 'q8_32[49152,576]', final_norm: 'f32[576]' };
    for (let l = 0; l < 30; l++) {
      Object.assign(expected, {
        // the Q4_1 matrices stay 4-bit (the default); the Q8_0 embedding becomes q8_32
        [`layers.${l}.attn_norm`]: 'f32[576]', [`layers.${l}.qkv`]: 'q4_32[960,576]', [`layers.${l}.out`]: 'q4_32[576,576]',
        [`layers.${l}.ffn_norm`]: 'f32[576]', [`layers.${l}.ffn_gate`]: 'q4_32[1536,576]',
      });
    }
    assert.deepEqual(shapes, expected);
    const ffn = readFfnV3(path.join(out, 'ffn.bin'));
    assert.deepEqual([ffn.version, ffn.dtype, ffn.flags, ffn.layers, ffn.dModel, ffn.ffnSize], [3, 3, 0, 30, 576, 1536]);
    assert.equal(m.quantization, 'q4_32');
    assert.ok(summary.outputBytes < 140e6, `${summary.outputBytes} bytes`);
  });

  it('q4_32 holds the Q4_1 matrices value for value (un-permuted Q and K rows included)', () => {
    const w = readWeightsBin(path.join(out, 'weights.bin'));
    const c = openGgufCheckpoint(gguf);
    try {
      // [checkpoint tensor, weights.bin tensor, rows, cols, its first row there]
      for (const [from, to, rows, cols, at] of [['layers.3.out', 'layers.3.out', 576, 576, 0], ['layers.17.gate', 'layers.17.ffn_gate', 1536, 576, 0], ['layers.29.k', 'layers.29.qkv', 192, 576, 576]] as const) {
        const source = new Float32Array(rows * cols);
        c.tensor(from).readRows(0, rows, source);
        assert.deepEqual(w.get(to)!.values.subarray(at * cols, (at + rows) * cols), source, from);
      }
    } finally {
      c.close();
    }
  });

  it('q8_32 stays within half a step of the GGUF weights (embedding)', () => {
    const w = readWeightsBin(path.join(out, 'weights.bin')).get('embed')!;
    const c = openGgufCheckpoint(gguf);
    const source = new Float32Array(1000 * 576);
    c.tensor('embed').readRows(20000, 1000, source);
    c.close();
    for (let i = 0; i < source.length; i++) {
      const at = 20000 * 576 + i;
      assert.ok(Math.abs(w.values[at] - source[i]) <= w.scales![at >> 5] / 2 + 1e-7, `value ${i}`);
    }
  });

  it("tokenizes code, unicode, whitespace runs and special tokens exactly as llama.cpp", async function () {
    const { getLlama } = await importLlamaCpp(this);
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' as never });
    const model = await llama.loadModel({ modelPath: gguf, vocabOnly: true });
    try {
      const tok = await TextTokenizer.load(path.join(out, 'tokenizer.json'));
      for (const text of TOKENIZER_SAMPLES) {
        assert.deepEqual(tok.encode(text), [...model.tokenize(text, true)], JSON.stringify(text.slice(0, 40)));
      }
      assert.equal(tok.specialId('<|im_end|>'), 2);
      // the llama.cpp golden for the forward-pass agreement test starts from these very ids
      const golden = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/golden/smollm2-llamacpp.json'), 'utf8'));
      assert.equal(golden.model.sha256, 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53');
      for (const p of golden.prompts) {
        assert.deepEqual(tok.encode(p.text), p.promptIds);
        assert.equal(tok.decode(p.greedyIds), p.greedyText);
        assert.equal(p.greedyIds.length, 64);
      }
      assert.equal(tok.decode(tok.encode(TOKENIZER_SAMPLES[2])), TOKENIZER_SAMPLES[2]);
    } finally {
      await model.dispose();
      await llama.dispose();
    }
  });
});

describe('import: every supported tokenizer.ggml.pre gives llama.cpp ids', function () {
  this.timeout(300_000);

  it('gpt-2, default, smollm, starcoder, refact, qwen2, llama-bpe, deepseek-coder on SmolLM2\'s vocabulary', async function () {
    const gguf = requireSmollm2(this);
    const source = readGgufHeader(gguf);
    const dir = tempDir();
    const { getLlama } = await importLlamaCpp(this);
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' as never });
    try {
      for (const pre of ['gpt-2', 'default', 'smollm', 'starcoder', 'refact', 'qwen2', 'llama-bpe', 'deepseek-coder']) {
        // SmolLM2's tokens and merges under another pre-tokenizer: llama.cpp applies its own regexes
        // for that name, the importer its translation of them.
        const m = tinyModel('llama');
        const meta = source.metadata;
        Object.assign(m.meta, {
          'tokenizer.ggml.pre': { type: 'string', value: pre },
          'tokenizer.ggml.tokens': { type: 'strings', value: meta.get('tokenizer.ggml.tokens') as string[] },
          'tokenizer.ggml.merges': { type: 'strings', value: meta.get('tokenizer.ggml.merges') as string[] },
          'tokenizer.ggml.token_type': { type: 'i32s', value: meta.get('tokenizer.ggml.token_type') as number[] },
          'tokenizer.ggml.eos_token_id': { type: 'u32', value: 2 },
          'tokenizer.ggml.add_bos_token': { type: 'bool', value: false },
        });
        const file = writeTiny(m, dir, `${pre}.gguf`);
        const tokenizerFile = path.join(dir, `${pre}.json`);
        fs.writeFileSync(tokenizerFile, JSON.stringify(ggufTokenizer(readGgufHeader(file)).json));
        const tok = await TextTokenizer.load(tokenizerFile);
        const model = await llama.loadModel({ modelPath: file, vocabOnly: true });
        try {
          for (const text of TOKENIZER_SAMPLES) {
            assert.deepEqual(tok.encode(text), [...model.tokenize(text, true)], `${pre}: ${JSON.stringify(text.slice(0, 40))}`);
          }
        } finally {
          await model.dispose();
        }
      }
    } finally {
      await llama.dispose();
    }
  });
});
