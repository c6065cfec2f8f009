// Import with --gate-skip: the gate thresholds calibrated on the calibration sample are in the
// manifest, they skip about that share of neurons, and the engine's decode skips them; without it,
// every threshold is 0 (dense).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { importCheckpoint } from '../../src/engine/import/importModel';
import type { ManifestV2, GateSparsity } from '../../src/engine/manifestV2';
import { openModelDir } from '../../src/engine/modelDir';
import { loadModelV2 } from '../../src/engine/v2/loadV2';
import { tinyModel } from '../helpers/ggufWriter';
import { tempDir, writeTiny } from '../helpers/importFixtures';

describe('import --gate-skip', function () {
  this.timeout(120_000);

  it('calibrates thresholds that skip about that share of neurons at decode; without it, none', async () => {
    const dir = tempDir();
    const gguf = writeTiny(tinyModel('llama'), dir);
    await importCheckpoint({ input: gguf, outDir: path.join(dir, 'dense') });
    await importCheckpoint({ input: gguf, outDir: path.join(dir, 'sparse'), gateSkip: 0.4 });
    const read = (name: string) => JSON.parse(fs.readFileSync(path.join(dir, name, 'manifest.json'), 'utf8')) as ManifestV2;
    assert.ok((read('dense').sparsity as GateSparsity).gateThresholds.every((t) => t === 0));
    const sparsity = read('sparse').sparsity as GateSparsity;
    assert.equal(sparsity.targetSkip, 0.4);
    assert.ok(sparsity.gateThresholds.every((t) => t > 0), `thresholds ${sparsity.gateThresholds}`);
    for (const s of sparsity.measuredSkip) assert.ok(Math.abs(s - 0.4) < 0.05, `measured skip ${s}`);
    const model = await loadModelV2(await openModelDir(path.join(dir, 'sparse')) as never);
    const kv = model.newCache();
    await model.forward([10, 20, 30, 40], kv);
    for (let t = 0; t < 16; t++) await model.forward([50 + t], kv);
    const { computed, skipped } = model.ffnCounts;
    const share = skipped / (computed + skipped);
    assert.ok(share > 0.2 && share < 0.6, `decode skipped ${share} of the neurons`);
    await model.dispose();
  });
});
