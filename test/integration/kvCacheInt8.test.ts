// The 8-bit KV cache of format-v2 models against f32 keys and values: a quarter of the bytes, and
// the same greedy tokens. References: the NumPy reference (f32 KV, tiny-v2-reference.json) on the
// committed fixtures, and the engine itself with an f32 KV cache (commit 797478c,
// smollm2-f32-kv.json) on SmolLM2-135M when .cache/smollm2-v2 is there.
import assert from 'node:assert/strict';
import path from 'node:path';
import type { ManifestV2 } from '../../src/engine/manifestV2';
import { openModelDir } from '../../src/engine/modelDir';
import { argmax } from '../../src/engine/sampling';
import { loadModelV2 } from '../../src/engine/v2/loadV2';
import { readGolden, repoRoot } from '../helpers/fixture';
import { requireSmollm2V2 } from '../helpers/smollm2';

interface Fixture { promptIds: number[]; prefillLastLogits: number[]; greedyIds: number[]; int8Kv: { maxAbsDiffFromF32: number } }
const fixtures = readGolden<{ fixtures: Record<string, Fixture> }>('tiny-v2-reference.json').fixtures;
const smol = readGolden<{ promptIds: number[]; prefillTop: { id: number; logit: number }[]; greedyIds: number[] }>('smollm2-f32-kv.json');

async function load(dir: string) {
  return loadModelV2(await openModelDir(dir) as Awaited<ReturnType<typeof openModelDir>> & { manifest: ManifestV2 });
}

describe('the 8-bit KV cache of v2 models', function () {
  this.timeout(300_000);

  it('holds a position in 2·layers·kvHeads·(headDim + 4) bytes, a quarter of f32 plus a scale per row', async () => {
    const model = await load(path.join(repoRoot, 'test/fixtures/tiny-llama-v2'));
    const { layers, kvHeads, headDim } = model.arch;
    const kv = model.newCache();
    await model.forward([5, 6, 7], kv);
    assert.equal(kv.bytes, 3 * 2 * layers * kvHeads * (headDim + 4));
    assert.ok(kv.bytes < (3 * 2 * layers * kvHeads * headDim * 4) / 2);
    await model.dispose();
  });

  // tiny-llama-v2 is left out: its top two logits are 0.02 apart at greedy step 24, below what int8
  // keys and values move them by (0.19 in the NumPy reference itself, whose int8 run keeps 24 of 32
  // greedy ids).
  for (const name of ['tiny-qwen2-v2', 'tiny-relu-v2']) {
    it(`${name}: prefill logits within 0.35 of f32 keys and values, the same 32 greedy ids`, async () => {
      const f = fixtures[name];
      const model = await load(path.join(repoRoot, 'test/fixtures', name));
      const kv = model.newCache();
      let logits = await model.forward(f.promptIds, kv);
      let worst = 0;
      for (let i = 0; i < logits.length; i++) worst = Math.max(worst, Math.abs(logits[i] - f.prefillLastLogits[i]));
      // the reference's own int8 run moves them by 0.14–0.20 (int8Kv.maxAbsDiffFromF32)
      assert.ok(worst < 0.35, `largest logit difference ${worst} (NumPy int8 KV: ${f.int8Kv.maxAbsDiffFromF32})`);
      const ids: number[] = [];
      for (let t = 0; t < f.greedyIds.length; t++) {
        ids.push(argmax(logits));
        logits = await model.forward([ids[t]], kv);
      }
      assert.deepEqual(ids, f.greedyIds);
      await model.dispose();
    });
  }

  it('SmolLM2-135M: the same 64 greedy ids as the f32 KV cache, prefill logits within 0.4', async function () {
    const model = await load(await requireSmollm2V2(this));
    const kv = model.newCache();
    let logits = await model.forward(smol.promptIds, kv);
    // measured 0.35 at most over 500 prompt tokens and 64 steps (1.1 % of the largest logit)
    for (const { id, logit } of smol.prefillTop) assert.ok(Math.abs(logits[id] - logit) < 0.4, `token ${id}: ${logits[id]} vs ${logit}`);
    const ids: number[] = [];
    for (let t = 0; t < smol.greedyIds.length; t++) {
      ids.push(argmax(logits));
      logits = await model.forward([ids[t]], kv);
    }
    assert.deepEqual(ids, smol.greedyIds);
    await model.dispose();
  });
});
