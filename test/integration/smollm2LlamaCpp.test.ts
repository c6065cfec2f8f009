// Flashcode's dense v2 path on SmolLM2-135M-Instruct imported from its Q4_1 GGUF against llama.cpp
// (node-llama-cpp, CPU) on the same file: teacher-forced on llama.cpp's greedy tokens
// (test/golden/smollm2-llamacpp.json, 8 code prompts × 64 steps), each next-token argmax compared,
// for the default import (the Q4_1 matrices kept 4-bit exactly, models/FORMAT.md §Q4; the Q8_0
// embedding and ffn.bin 8-bit) and for --bits 8 (every matrix re-quantized to q8_32).
// The live, longer measurement is `npm run bench:peers` (bench/peers/agreement.ts).
//
// Neither reaches 0.99, and storage is not why: a NumPy f32 forward of the GGUF's exact weights
// agrees at 0.973 too (scripts/smollm2-agreement-ceiling.py): what flips are near-ties decided by
// llama.cpp's own arithmetic (8-bit activations, f16 KV cache, summation order).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { importCheckpoint } from '../../src/engine/import/importModel';
import { openModelDir } from '../../src/engine/modelDir';
import type { ManifestV2 } from '../../src/engine/manifestV2';
import { loadModelV2 } from '../../src/engine/v2/loadV2';
import { repoRoot } from '../helpers/fixture';
import { tempDir } from '../helpers/importFixtures';
import { requireSmollm2 } from '../helpers/smollm2';

interface GoldenPrompt { text: string; promptIds: number[]; greedyIds: number[]; topLogits: [number, number][][] }

// Measured (agreement, largest |logit diff| on llama.cpp's top 5, widest llama.cpp margin at a
// flip): default 498/512 = 0.973, 1.82, 0.80; --bits 8 499/512 = 0.975, 1.59, 0.37 (with 8-bit
// activations it was 0.961, 2.22 and 0.81). With the 8-bit KV cache (llama.cpp keeps f16 keys and
// values): default 503/512 = 0.982, 1.81, 0.80; --bits 8 498/512 = 0.973, 1.81, 0.80. The bounds sit just past them.
const CASES = [
  { what: 'default (Q4_1 matrices 4-bit, exact)', bits: undefined, quantization: 'q4_32', agreement: 0.97, maxDiff: 2, widestFlip: 0.9 },
  { what: '--bits 8', bits: 8, quantization: 'q8_32', agreement: 0.97, maxDiff: 2, widestFlip: 0.9 },
] as const;

describe('SmolLM2-135M: Flashcode dense agrees with llama.cpp on the same GGUF', function () {
  this.timeout(300_000);

  for (const c of CASES) it(`${c.what}: same argmax at ≥ ${c.agreement * 100} % of 512 teacher-forced steps, differing only at near-ties; logits close`, async function () {
    const gguf = requireSmollm2(this);
    const golden = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/golden/smollm2-llamacpp.json'), 'utf8'));
    const out = path.join(tempDir(), 'smollm2');
    await importCheckpoint({ input: gguf, outDir: out, bits: c.bits });
    const dir = await openModelDir(out);
    assert.equal((dir.manifest as ManifestV2).quantization, c.quantization);
    const model = await loadModelV2(dir as typeof dir & { manifest: ManifestV2 });
    model.gateThresholds = []; // dense
    const V = model.arch.vocabSize;
    let steps = 0, agree = 0, maxDiff = 0, widestFlip = 0;
    for (const p of golden.prompts as GoldenPrompt[]) {
      const logits = await model.forwardAll([...p.promptIds, ...p.greedyIds.slice(0, -1)], model.newCache());
      for (let s = 0; s < p.greedyIds.length; s++) {
        const row = logits.subarray((p.promptIds.length - 1 + s) * V, (p.promptIds.length + s) * V);
        let best = 0;
        for (let i = 1; i < V; i++) if (row[i] > row[best]) best = i;
        steps++;
        const top = p.topLogits[s];
        for (const [id, logit] of top) maxDiff = Math.max(maxDiff, Math.abs(row[id] - logit));
        if (best === p.greedyIds[s]) { agree++; continue; }
        // llama.cpp's own margin between its pick and ours (at least its top-5 spread when ours is
        // not among them): a flip must be a near-tie there
        const ours = top.find(([id]) => id === best) ?? top[top.length - 1];
        widestFlip = Math.max(widestFlip, top[0][1] - ours[1]);
      }
    }
    await model.dispose();
    console.log(`      top-1 agreement ${agree}/${steps} = ${(agree / steps).toFixed(4)}; largest |logit diff| on llama.cpp's top 5: ${maxDiff.toFixed(3)}; widest llama.cpp margin at a flip: ≥ ${widestFlip.toFixed(3)}`);
    assert.equal(steps, 512);
    assert.ok(agree / steps >= c.agreement, `agreement ${agree}/${steps}`);
    assert.ok(widestFlip < c.widestFlip, `a flip where llama.cpp's margin was ${widestFlip}`);
    assert.ok(maxDiff < c.maxDiff, `largest logit difference ${maxDiff}`);
  });
});
