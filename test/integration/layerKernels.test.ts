// The layer kernels (embedding, head, decode attention in WebAssembly) of version-1 models: several
// tokens per call as one at a time, caches switched under them, on the fixture (untied embeddings)
// and the bundled model (tied); a context overflow refused cleanly, and graphs whose weights cannot
// be read rejected with a named error. Their logits against the NumPy reference: engine.test.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DecodeAttention } from '../../src/engine/attention/decodeAttention';
import { ContextOverflowError, ModelFileCorruptError } from '../../src/engine/errors';
import { requireV1 } from '../../src/engine/manifest';
import { Model } from '../../src/engine/model';
import { openModelDir } from '../../src/engine/modelDir';
import { argmax } from '../../src/engine/sampling';
import { TextTokenizer } from '../../src/engine/tokenizer';
import { maxAbsDiff } from '../helpers/compareModels';
import { fixtureModelDir, repoRoot } from '../helpers/fixture';

const bundledModelDir = path.join(repoRoot, 'models/flashcode-code-v1');
const code = fs.readFileSync(path.join(repoRoot, 'src/engine/kvCache.ts'), 'utf8');

for (const [name, dirPath, promptTokens] of [['the fixture model', fixtureModelDir, 40], ['the bundled model', bundledModelDir, 200]] as const) {
  describe(`layer kernels in WebAssembly on ${name}`, function () {
    this.timeout(120_000);
    let kernel: Model;
    let prompt: number[];

    before(async () => {
      const dir = await openModelDir(dirPath);
      kernel = await Model.load(dir, 1);
      prompt = (await TextTokenizer.load(dir.file('tokenizer.json'))).encode(code).slice(0, promptTokens);
    });
    after(async () => {
      await kernel?.dispose();
    });

    it('runs several tokens in one call as it runs them one at a time', async () => {
      const tail = prompt.slice(-3);
      const head = prompt.slice(0, -3);
      const together = kernel.newCache(), alone = kernel.newCache();
      await kernel.forward(head, together);
      const all = await kernel.forwardAll(tail, together); // 3 tokens: the kernel's path
      await kernel.forward(head, alone);
      const vocab = kernel.arch.vocabSize;
      for (let i = 0; i < tail.length; i++) {
        const one = await kernel.forward([tail[i]], alone);
        assert.ok(maxAbsDiff(all.subarray(i * vocab, (i + 1) * vocab), one) < 1e-4, `position ${i}`);
      }
    });

    it('keeps two caches apart when calls switch between them', async () => {
      const a = kernel.newCache(), b = kernel.newCache();
      const other = prompt.slice(5);
      let la = await kernel.forward(prompt, a);
      let lb = await kernel.forward(other, b);
      for (let i = 0; i < 6; i++) { // alternate: each call moves the other cache out of the kernel's memory
        la = await kernel.forward([argmax(la)], a);
        lb = await kernel.forward([argmax(lb)], b);
      }
      // Each cache alone, one after the other.
      const ra = kernel.newCache();
      let ea = await kernel.forward(prompt, ra);
      for (let i = 0; i < 6; i++) ea = await kernel.forward([argmax(ea)], ra);
      const rb = kernel.newCache();
      let eb = await kernel.forward(other, rb);
      for (let i = 0; i < 6; i++) eb = await kernel.forward([argmax(eb)], rb);
      assert.ok(maxAbsDiff(la, ea) < 1e-4 && maxAbsDiff(lb, eb) < 1e-4);
      assert.deepEqual(a.ids, ra.ids);
      assert.deepEqual(b.ids, rb.ids);
    });
  });
}

describe('layer kernels: bad input', function () {
  this.timeout(60_000);

  it('are spent from the sparse path\'s memory budget, in place of the graphs they replace', async () => {
    const dir = await openModelDir(fixtureModelDir);
    const model = await Model.load(dir, 1, undefined, { mode: 'sparse', memoryBudgetMB: 256 });
    try {
      const { bytes } = model.flash!.plan;
      assert.equal(bytes.kernels, model.decodeAttention!.weightBytes + model.embedHead!.residentBytes);
      assert.equal(bytes.kernels, Model.kernelFootprint(dir.manifest).bytes);
      const { files, graphs } = requireV1(dir.manifest, 'test');
      assert.equal(bytes.graphs, files[graphs.ffn].bytes); // the FFN graph alone: the others are not loaded
    } finally {
      await model.dispose();
    }
  });

  it('refuses a call past the context with ContextOverflowError, clears the cache, and the next call works', async () => {
    const dir = await openModelDir(fixtureModelDir);
    const model = await Model.load(dir, 1);
    try {
      const kv = model.newCache();
      await model.forward([1, 2, 3], kv);
      const tooMany = Array.from({ length: dir.manifest.contextTokens - 2 }, (_, i) => 10 + (i % 300));
      await assert.rejects(model.forward(tooMany, kv), (e: unknown) => e instanceof ContextOverflowError && /context of 2048/.test((e as Error).message));
      assert.equal(kv.length, 0);
      const logits = await model.forward([1, 2, 3], kv);
      assert.equal(logits.length, dir.manifest.architecture.vocabSize);
      assert.equal(kv.length, 3);
    } finally {
      await model.dispose();
    }
  });

  it('refuses a token id outside the vocabulary, as the embed graph does, and the next call works', async () => {
    const dir = await openModelDir(fixtureModelDir);
    const model = await Model.load(dir, 1);
    try {
      const kv = model.newCache();
      await assert.rejects(model.forward([1, dir.manifest.architecture.vocabSize], kv), /token id 512 is outside the vocabulary of 512/);
      assert.equal(kv.length, 0);
      assert.equal((await model.forward([1, 2], kv)).length, dir.manifest.architecture.vocabSize);
    } finally {
      await model.dispose();
    }
  });

  it('rejects attention graphs without the named weights, or with other dims, as corrupt', async () => {
    const dir = await openModelDir(fixtureModelDir);
    const arch = dir.manifest.architecture;
    const ffnGraph = fs.readFileSync(dir.file('ffn.onnx'));
    assert.throws(() => DecodeAttention.load([ffnGraph, ffnGraph], ['attn.0.onnx', 'attn.1.onnx'], arch, 64),
      (e: unknown) => e instanceof ModelFileCorruptError && /attn\.0\.onnx .*no initializer attn_norm\.weight/.test((e as Error).message));
    const { graphs } = requireV1(dir.manifest, 'test');
    const attn = graphs.attention.map((f) => fs.readFileSync(dir.file(f)));
    assert.throws(() => DecodeAttention.load(attn, graphs.attention, { ...arch, dModel: arch.dModel * 2 }, 64),
      (e: unknown) => e instanceof ModelFileCorruptError && /attn_norm\.weight has dims \[64\], the manifest.s architecture needs \[128\]/.test((e as Error).message));
    assert.ok(DecodeAttention.load(attn, graphs.attention, arch, 64), 'the real graphs load');
  });
});
