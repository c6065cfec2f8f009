// How a memory budget is spent: everything resident when it fits; otherwise the neurons it can
// afford split between layers by their predicted share, within the budget; below the minimum a named
// error that gives the minimum, at which planning then succeeds; the layer kernels counted.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FlashBudgetTooSmallError } from '../../../src/engine/errors';
import { denseResidentBytes, planFlash } from '../../../src/engine/ffn/flashPlan';
import { parseManifest, requireV1 } from '../../../src/engine/manifest';
import { Model } from '../../../src/engine/model';
import { repoRoot } from '../../helpers/fixture';

const manifest = requireV1(parseManifest(fs.readFileSync(path.join(repoRoot, 'models/flashcode-code-v1/manifest.json'), 'utf8')), 'test');
const fractions = manifest.predictors!.perLayer.map((l) => l.predictedActiveFraction);
const MIB = 2 ** 20;
const PREDICTOR_BYTES = 1_700_000;
const RECORD_BYTES = 1536;

describe('flash memory plan (code-v1 manifest)', () => {
  it('keeps every neuron resident when the budget holds them', () => {
    const plan = planFlash(manifest, 256 * MIB, PREDICTOR_BYTES, RECORD_BYTES, fractions);
    assert.equal(plan.fullyResident, true);
    assert.deepEqual(plan.neuronsPerLayer, [1024, 1024, 1024, 1024]);
    assert.equal(plan.bytes.staging, 0);
    const b = plan.bytes;
    assert.equal(b.total, b.graphs + b.kernels + b.predictors + b.kvCache + b.neuronCache + b.staging);
  });

  it('counts the layer kernels\' bytes and not the graphs they spare, in the plan and the dense footprint', () => {
    const kernels = Model.kernelFootprint(manifest);
    const without = planFlash(manifest, 256 * MIB, PREDICTOR_BYTES, RECORD_BYTES, fractions);
    const plan = planFlash(manifest, 256 * MIB, PREDICTOR_BYTES, RECORD_BYTES, fractions, { kernels });
    const { embed, attention, head } = manifest.graphs;
    const spared = [embed, ...attention, head].reduce((n, f) => n + manifest.files[f].bytes, 0);
    assert.equal(plan.bytes.kernels, kernels.bytes);
    assert.equal(plan.bytes.graphs, without.bytes.graphs - spared);
    assert.equal(plan.bytes.total, without.bytes.total - spared + kernels.bytes);
    assert.equal(denseResidentBytes(manifest, kernels), denseResidentBytes(manifest) - spared + kernels.bytes);
    // code-v1: the attention weights once more (4 layers × 196,608 floats) and one embedding matrix (4096 × 256 floats).
    assert.ok(kernels.bytes >= 4 * (4 * 196_608 + 4096 * 256), `${kernels.bytes}`);
  });

  it('splits a smaller budget between layers by their predicted share and stays within it', () => {
    const budget = 22 * MIB;
    const plan = planFlash(manifest, budget, PREDICTOR_BYTES, RECORD_BYTES, fractions);
    assert.equal(plan.fullyResident, false);
    assert.ok(plan.bytes.total <= budget, `${plan.bytes.total} > ${budget}`);
    const [l0, l1, l2, l3] = plan.neuronsPerLayer;
    assert.ok(l0 > l3 && l3 > l2 && l2 > l1, `ordered like the shares ${fractions}: ${plan.neuronsPerLayer}`);
    for (let l = 0; l < 4; l++) assert.ok(plan.neuronsPerLayer[l] >= Math.ceil(1.25 * fractions[l] * 1024));
    assert.ok(plan.bytes.staging >= Math.max(...plan.neuronsPerLayer) * RECORD_BYTES, 'staging holds a layer’s largest load');
  });

  it('refuses a budget below the minimum, naming the minimum, which then plans', () => {
    const forty = 0.4 * denseResidentBytes(manifest);
    let minimumMB = 0;
    assert.throws(() => planFlash(manifest, forty, PREDICTOR_BYTES, RECORD_BYTES, fractions), (e: Error) => {
      assert.ok(e instanceof FlashBudgetTooSmallError);
      minimumMB = e.minimumMB;
      assert.match(e.message, new RegExp(`at least ${minimumMB} MB`));
      return true;
    });
    assert.ok(minimumMB * MIB > forty);
    const plan = planFlash(manifest, minimumMB * MIB, PREDICTOR_BYTES, RECORD_BYTES, fractions);
    assert.ok(plan.bytes.total <= minimumMB * MIB);
  });
});
