// The v2 engine on the v2 fixtures (SwiGLU with an untied head; Qwen2-style attention biases with a
// tied head; ReLU-gated with the gate in ffn.bin's records) against the NumPy reference
// (models/pipeline/reference_v2.py, f32 activations on the q8_32 weights, keys and values stored as
// the engine's 8-bit KV cache: the golden's int8Kv): the kernels' 16-bit activations keep the logits
// close, and teacher-forced greedy choices equal wherever the reference's top two are apart.
import assert from 'node:assert/strict';
import path from 'node:path';
import type { ManifestV2 } from '../../src/engine/manifestV2';
import { openModelDir } from '../../src/engine/modelDir';
import { argmax } from '../../src/engine/sampling';
import { loadModelV2 } from '../../src/engine/v2/loadV2';
import { readGolden, repoRoot } from '../helpers/fixture';

interface Run { prefillLastLogits: number[]; greedyIds: number[]; top2Gaps: number[] }
interface Golden { fixtures: Record<string, Run & { promptIds: number[]; q8Activations: { maxAbsDiffFromF32: number }; int8Kv: Run & { maxAbsDiffFromF32: number } }> }

const golden = readGolden<Golden>('tiny-v2-reference.json');

for (const [name, fixture] of Object.entries(golden.fixtures)) {
  describe(`v2 engine on ${name} against the NumPy reference`, function () {
    this.timeout(60_000);

    it('gives the reference logits and its greedy choices (teacher-forced)', async () => {
      const dir = await openModelDir(path.join(repoRoot, 'test/fixtures', name));
      const model = await loadModelV2(dir as typeof dir & { manifest: ManifestV2 });
      const ref = fixture.int8Kv;
      const kv = model.newCache();
      let logits = await model.forward(fixture.promptIds, kv);
      let worst = 0;
      for (let i = 0; i < logits.length; i++) worst = Math.max(worst, Math.abs(logits[i] - ref.prefillLastLogits[i]));
      // Measured 0.032–0.046 (f32 keys and values: 2e-3): where the engine's 16-bit activations and
      // the reference's f32 ones put a key or value either side of an int8 rounding half, that quant
      // differs by one step. 8-bit activations would move them by 0.23–0.52 on these fixtures (the
      // golden's q8Activations), and the int8 KV cache against f32 keys and values by 0.14–0.20.
      assert.ok(worst < 0.08, `largest logit difference ${worst} (8-bit activations: ${fixture.q8Activations.maxAbsDiffFromF32}, f32 KV: ${ref.maxAbsDiffFromF32})`);
      let checked = 0;
      for (const [step, id] of ref.greedyIds.entries()) {
        if (ref.top2Gaps[step] > 0.05) { assert.equal(argmax(logits), id, `greedy step ${step}`); checked++; }
        logits = await model.forward([id], kv);
      }
      assert.ok(checked >= ref.greedyIds.length / 2, `only ${checked} steps had a clear top-1`);
      await model.dispose();
    });
  });
}
