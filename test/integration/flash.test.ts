// The flash (sparse) FFN path on the fixture model, against the dense path of the same model: the
// control (every neuron active equals dense), sparse decoding through a partial neuron cache, the
// memory budget's refusal, damaged predictors falling back to dense, and a read error mid-generation.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { GenerateRequest } from '../../src/engine';
import type { FlashOptions } from '../../src/engine/ffn/loadFlash';
import { FlashRecall } from '../../bench/flashRecall';
import { loadInProcessEngine } from '../../src/engine/local';
import { Model } from '../../src/engine/model';
import { openModelDir } from '../../src/engine/modelDir';
import { compareModels } from '../helpers/compareModels';
import { copyFixtureModel, fixtureModelDir } from '../helpers/fixture';

const TOLERANCE = 1e-4;
const PROMPT = Array.from({ length: 24 }, (_, i) => 20 + ((i * 37) % 300));

/** Greedy decode of `steps` tokens on both, fed dense's token: the largest logit difference and the argmax agreements. */
const compare = (dense: Model, other: Model, steps: number) => compareModels(dense, other, PROMPT, steps);

interface ManifestJson { files: Record<string, { sha256: string }>; predictors?: unknown }

async function rewriteManifest(dir: string, edit: (m: ManifestJson) => void): Promise<void> {
  const f = path.join(dir, 'manifest.json');
  const m = JSON.parse(await fsp.readFile(f, 'utf8'));
  edit(m);
  await fsp.writeFile(f, JSON.stringify(m));
}

describe('flash FFN path on the fixture model', () => {
  let dense: Model;
  /** The fixture's FFN is small and half its neurons fire, so no budget makes a partial cache pay
   *  off; these tests set the cache size directly: 180 of each layer's 256 neurons. */
  const partial = { mode: 'sparse', memoryBudgetMB: 256, residentNeuronsPerLayer: 180 } as const;

  before(async () => {
    dense = await Model.load(await openModelDir(fixtureModelDir), 1);
  });
  after(() => dense.dispose());

  const load = async (flash: FlashOptions, dir = fixtureModelDir) => Model.load(await openModelDir(dir), 1, undefined, flash);

  it('control: with every neuron forced active, the sparse machinery equals the dense path', async () => {
    const all = await load({ mode: 'sparse', memoryBudgetMB: 256, forceAllActive: true });
    try {
      assert.ok(all.flash?.plan.fullyResident);
      const { maxDiff, agree } = await compare(dense, all, 24);
      assert.ok(maxDiff < TOLERANCE, `max logit difference ${maxDiff}`);
      assert.equal(agree, 24);
      assert.equal(all.flash.stats.sparseTokens, 24);
    } finally {
      await all.dispose();
    }
  });

  it('the exact predictors of the fixture give dense logits, with the FFN fully resident', async () => {
    const sparse = await load({ mode: 'sparse', memoryBudgetMB: 256 });
    const recall = new FlashRecall(sparse.flash!, sparse.arch.dModel, sparse.arch.ffnSize);
    sparse.flash!.step.observer = recall.observe;
    try {
      const { maxDiff } = await compare(dense, sparse, 16);
      assert.ok(maxDiff < TOLERANCE, `max logit difference ${maxDiff}`);
      const layer0 = sparse.flash!.stats.layers[0];
      assert.ok(layer0.predicted < 16 * 256, 'the predictor left neurons out');
      assert.ok(recall.layers[0].trueActive > 0);
      assert.equal(recall.recall(0), 1, 'online recall is 1 for exact predictors');
      // The check can fail: a prediction of no neuron at all finds none of the active ones.
      const missed = new FlashRecall(sparse.flash!, sparse.arch.dModel, sparse.arch.ffnSize);
      sparse.flash!.step.observer = (layer, x, tokens) => missed.observe(layer, x, tokens, new Uint8Array(256));
      await compare(dense, sparse, 2);
      assert.ok(missed.layers[0].trueActive > 0 && missed.recall(0) === 0);
      assert.equal(sparse.flash!.stats.bytesRead, 0, 'a resident FFN reads nothing while decoding');
    } finally {
      await sparse.dispose();
    }
  });

  it('through a partial neuron cache: reads only missing neurons, evicts outside the window, equals dense', async () => {
    const sparse = await load({ ...partial, windowTokens: 3 });
    try {
      const flash = sparse.flash!;
      assert.equal(flash.plan.fullyResident, false);
      const { maxDiff, agree } = await compare(dense, sparse, 20);
      assert.ok(maxDiff < TOLERANCE, `max logit difference ${maxDiff}`);
      assert.equal(agree, 20);
      const s = flash.stats;
      const misses = s.layers.reduce((n, l) => n + l.misses, 0);
      const hits = s.layers.reduce((n, l) => n + l.hits, 0);
      assert.ok(misses > 0 && hits > 0, `hits ${hits}, misses ${misses}`);
      assert.ok(s.layers.every((l) => l.evicted > 0), 'the window evicts');
      assert.ok(s.layers.every((l) => l.uncached === 0));
      // Decoding reads exactly the misses; each prefill streams every neuron of every layer once.
      assert.equal(s.neuronsRead, misses + s.denseCalls * 2 * 256);
      assert.ok(s.bytesRead > 0 && s.reads < s.neuronsRead, 'adjacent records are read together');
      assert.ok(flash.plan.bytes.staging > 0);
    } finally {
      await sparse.dispose();
    }
  });

  it('a cache smaller than one token\'s neurons computes the rest uncached, and still equals dense', async () => {
    const sparse = await load({ ...partial, residentNeuronsPerLayer: 40 });
    try {
      const { maxDiff, agree } = await compare(dense, sparse, 8);
      assert.ok(maxDiff < TOLERANCE, `max logit difference ${maxDiff}`);
      assert.equal(agree, 8);
      assert.ok(sparse.flash!.stats.layers.every((l) => l.uncached > 0), 'neurons beyond the cache went through the chunk rows');
    } finally {
      await sparse.dispose();
    }
  });

  it('refuses a budget below the graphs with the minimum that would work, and loads at that minimum', async () => {
    await assert.rejects(load({ mode: 'sparse', memoryBudgetMB: 0.5 }), (e: Error) => {
      assert.equal(e.name, 'FlashBudgetTooSmallError');
      const minimum = Number(/at least (\d+) MB/.exec(e.message)?.[1]);
      assert.ok(minimum > 0.5, e.message);
      return true;
    });
    const e = await load({ mode: 'sparse', memoryBudgetMB: 0.5 }).catch((err: Error) => err);
    const minimum = Number(/at least (\d+) MB/.exec((e as Error).message)?.[1]);
    const atMinimum = await load({ mode: 'sparse', memoryBudgetMB: minimum });
    assert.ok(atMinimum.flash);
    await atMinimum.dispose();
  });

  const damaged: [string, (dir: string) => Promise<void>, RegExp][] = [
    ['a predictors.bin with a bad checksum', async (dir) => {
      const f = path.join(dir, 'predictors.bin');
      const b = await fsp.readFile(f);
      b[100] ^= 0x40;
      await fsp.writeFile(f, b);
    }, /predictors\.bin is corrupt \(checksum mismatch\); the FFN runs densely/],
    ['a predictors.bin of another version (checksum updated to match)', async (dir) => {
      const f = path.join(dir, 'predictors.bin');
      const b = await fsp.readFile(f);
      b.writeUInt32LE(7, 4);
      await fsp.writeFile(f, b);
      await rewriteManifest(dir, (m) => { m.files['predictors.bin'].sha256 = createHash('sha256').update(b).digest('hex'); });
    }, /predictors\.bin has format version 7.*; the FFN runs densely/],
    ['a missing predictors.bin', (dir) => fsp.rm(path.join(dir, 'predictors.bin')), /predictors\.bin is missing.*; the FFN runs densely/],
    ['a model without predictors', (dir) => rewriteManifest(dir, (m) => { delete m.predictors; delete m.files['predictors.bin']; }), /no predictors\.bin/],
  ];
  for (const [what, damage, notice] of damaged) {
    it(`${what}: runs densely, says why once, and gives the dense output`, async () => {
      const dir = await copyFixtureModel();
      try {
        await damage(dir);
        const engine = await loadInProcessEngine({ modelDir: dir, flash: { mode: 'sparse', memoryBudgetMB: 256 } });
        try {
          assert.equal(engine.info.ffn.mode, 'dense');
          assert.match(engine.info.ffn.notice ?? '', notice);
        } finally {
          await engine.dispose();
        }
        const model = await load({ mode: 'sparse', memoryBudgetMB: 256 }, dir);
        try {
          assert.equal(model.flash, undefined);
          const { maxDiff } = await compare(dense, model, 4);
          assert.ok(maxDiff < TOLERANCE);
        } finally {
          await model.dispose();
        }
      } finally {
        await fsp.rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('a read error mid-generation fails that request cleanly; the next request works', async () => {
    const dir = await copyFixtureModel();
    const ffnPath = path.join(dir, 'ffn.bin');
    const engine = await loadInProcessEngine({ modelDir: dir, flash: partial });
    const reference = await loadInProcessEngine({ modelDir: fixtureModelDir });
    try {
      const request: GenerateRequest = { prompt: { kind: 'text', text: 'function add(a, b) {\n  return a + b;\n}\n\nfunction sub(a, b) {\n  return' }, maxNewTokens: 12, temperature: 0, topP: 1, seed: 0, timeBudgetMs: 60_000 };
      const expected = await reference.generate(request);
      // The file shrinks under the loaded engine, as a failing disk or a half-finished update would
      // leave it: the reads that need neuron records come back short.
      const original = await fsp.readFile(ffnPath);
      await fsp.truncate(ffnPath, 4096);
      await assert.rejects(engine.generate(request), /ffn\.bin is corrupt \(truncated/);
      await fsp.writeFile(ffnPath, original);
      const after = await engine.generate(request);
      assert.equal(after.text, expected.text);
    } finally {
      await engine.dispose();
      await reference.dispose();
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
