// The flash path of a v2 (SwiGLU) model: up and down read from ffn.bin into a neuron cache smaller
// than the layer, the gate choosing the neurons. It must give exactly what the same sparse decode
// gives with every weight resident, read only what it misses, and refuse a budget too small.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FlashBudgetTooSmallError } from '../../src/engine/errors';
import { importCheckpoint } from '../../src/engine/import/importModel';
import type { ManifestV2 } from '../../src/engine/manifestV2';
import { openModelDir } from '../../src/engine/modelDir';
import { calibrateGateThresholds } from '../../src/engine/v2/calibrate';
import { READ_GAP, recordBytesV2 } from '../../src/engine/v2/ffnStore';
import { loadModelV2 } from '../../src/engine/v2/loadV2';
import { budgetMB } from '../../src/engine/memoryBudget';
import { repoRoot } from '../helpers/fixture';

const fixture = path.join(repoRoot, 'test/fixtures/tiny-llama-v2');
const prompt = Array.from({ length: 20 }, (_, i) => 40 + ((i * 37) % 400));

describe('flash FFN of a v2 SwiGLU model', function () {
  this.timeout(60_000);
  let dir: string;

  before(async () => {
    // The fixture with gate thresholds calibrated at 40 % (its own manifest has none: dense).
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flashcode-v2-'));
    await fs.cp(fixture, dir, { recursive: true });
    const model = await loadModelV2(await openModelDir(dir) as never);
    const calibration = await calibrateGateThresholds(model, [prompt, prompt.map((id) => id + 3)], 0.4);
    await model.dispose();
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as ManifestV2;
    manifest.sparsity = { gateThresholds: calibration.gateThresholds, targetSkip: 0.4, measuredSkip: calibration.measuredSkip, measuredOn: 'test' };
    await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  for (const cached of [100, 40]) {
    it(`with ${cached} of 128 neurons cached per layer, decodes exactly as resident and reads its misses, in spans`, async () => {
      const resident = await loadModelV2(await openModelDir(dir) as never, { mode: 'sparse', memoryBudgetMB: 1024 });
      const flash = await loadModelV2(await openModelDir(dir) as never, { mode: 'sparse', memoryBudgetMB: 1024, residentNeuronsPerLayer: cached });
      assert.equal(resident.ffnStats.bytesRead, 0);
      const kvR = resident.newCache(), kvF = flash.newCache();
      assert.deepEqual(await flash.forward(prompt, kvF), await resident.forward(prompt, kvR));
      const prefillBytes = flash.ffnStats.bytesRead, prefillReads = flash.ffnStats.reads;
      assert.equal(prefillBytes, 2 * 128 * recordBytesV2(64), 'prefill streams each layer once (one chunk)');
      for (let t = 0; t < 12; t++) {
        const id = 50 + t * 11;
        assert.deepEqual(await flash.forward([id], kvF), await resident.forward([id], kvR), `token ${t}`);
      }
      const s = flash.ffnStats;
      assert.ok(resident.ffnCounts.skipped > 0 && resident.ffnCounts.computed > 0, 'some neurons skipped, some run');
      assert.equal(s.hits + s.misses, flash.ffnCounts.computed);
      // every missed record, in one read per span of misses at most READ_GAP apart (the records
      // between them read too): at most READ_GAP − 1 more a miss that joined a span
      const R = recordBytesV2(64), read = s.bytesRead - prefillBytes, reads = s.reads - prefillReads;
      assert.ok(reads > 0 && reads <= s.misses, `${reads} reads for ${s.misses} misses`);
      assert.ok(read >= s.misses * R && read <= (s.misses + (READ_GAP - 1) * (s.misses - reads)) * R, `${read / R} records read for ${s.misses} misses in ${reads} reads`);
      if (cached === 100) assert.ok(s.hits > s.misses, `a warm cache mostly hits (${s.hits} hits, ${s.misses} misses)`);
      await resident.dispose();
      await flash.dispose();
    });
  }

  it('refuses a budget below its resident part plus the fewest cached neurons, naming the minimum', async () => {
    await assert.rejects(loadModelV2(await openModelDir(dir) as never, { mode: 'sparse', memoryBudgetMB: 0.1 }), (e: unknown) => e instanceof FlashBudgetTooSmallError && e.minimumMB > 0.1);
  });
});

describe('a v2 ffn.bin with a NaN scale', function () {
  this.timeout(60_000);

  it('is refused at load when resident, and fails the request (not silently) when read by the flash cache', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flashcode-v2-nan-'));
    try {
      await fs.cp(fixture, dir, { recursive: true });
      const ffn = await fs.readFile(path.join(dir, 'ffn.bin'));
      const view = new DataView(ffn.buffer, ffn.byteOffset);
      const sectionOfLayer1 = Number(view.getBigUint64(64 + 16, true));
      view.setFloat32(sectionOfLayer1 + 7 * recordBytesV2(64) + 2 * 64 + 4, NaN, true); // neuron 7's second up scale
      await fs.writeFile(path.join(dir, 'ffn.bin'), ffn);
      const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as ManifestV2;
      manifest.files['ffn.bin'].sha256 = (await import('node:crypto')).createHash('sha256').update(ffn).digest('hex');
      manifest.sparsity = { gateThresholds: [0.01, 0.01], targetSkip: 0.1, measuredSkip: [0.1, 0.1], measuredOn: 'test' };
      await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
      await assert.rejects(loadModelV2(await openModelDir(dir) as never), /ffn\.bin is corrupt \(layer 1 neuron 7 has a scale of NaN\)/);
      const flash = await loadModelV2(await openModelDir(dir) as never, { mode: 'sparse', memoryBudgetMB: 1024, residentNeuronsPerLayer: 64 });
      await assert.rejects(flash.forward(prompt, flash.newCache()), /layer 1 neuron 7 has a scale of NaN/);
      await flash.dispose();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a v2 ffn.bin record gone bad under the neuron cache', function () {
  this.timeout(60_000);

  it('fails the decoded token that reads it, naming it, and leaves the cache as it was', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flashcode-v2-bad-record-'));
    const behind = { mode: 'sparse' as const, memoryBudgetMB: 1024, residentNeuronsPerLayer: 64 };
    try {
      await fs.cp(fixture, dir, { recursive: true });
      const flash = await loadModelV2(await openModelDir(dir) as never, behind);
      await flash.forward([5], flash.newCache()); // every neuron, in two turns: the cache ends with 64…127
      const file = await fs.open(path.join(dir, 'ffn.bin'), 'r+');
      const header = Buffer.alloc(96);
      await file.read(header, 0, 96, 0);
      const at = Number(header.readBigUInt64LE(64 + 16)) + 7 * recordBytesV2(64) + 2 * 64; // layer 1, neuron 7's first up scale
      const good = Buffer.alloc(4), nan = Buffer.alloc(4);
      await file.read(good, 0, 4, at);
      nan.writeFloatLE(NaN);
      await file.write(nan, 0, 4, at);
      await assert.rejects(flash.forward([9], flash.newCache()), /ffn\.bin is corrupt \(layer 1 neuron 7 has a scale of NaN\)/);
      await file.write(good, 0, 4, at);
      await file.close();
      const fresh = await loadModelV2(await openModelDir(dir) as never, behind);
      for (const ids of [[9], [5, 9], [9]]) assert.deepEqual(await flash.forward(ids, flash.newCache()), await fresh.forward(ids, fresh.newCache()), `${ids}`);
      await Promise.all([flash.dispose(), fresh.dispose()]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the automatic memory budget (flashcode.engine.memoryBudgetMB 0)', () => {
  it('is half of this machine\'s memory, and keeps a model that fits it wholly resident', async () => {
    assert.equal(budgetMB(0), Math.floor(os.totalmem() / 2 / 2 ** 20));
    assert.equal(budgetMB(300), 300);
    const model = await loadModelV2(await openModelDir(fixture) as never, { mode: 'sparse', memoryBudgetMB: 0 });
    assert.equal(model.ffnStats.bytesRead, 0);
    await model.forward(prompt.slice(0, 4), model.newCache());
    await model.forward([7], model.newCache());
    assert.equal(model.ffnStats.bytesRead, 0, 'nothing read from ffn.bin: every neuron resident');
    await model.dispose();
  });
});

describe('flash FFN of a 4-bit (q4_32) model', function () {
  this.timeout(60_000);

  it('the tiny Llama imported with --bits 4, gate skipping ~40 %: 24 of 64 neurons cached decodes exactly as resident', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flashcode-q4-flash-'));
    try {
      const out = path.join(dir, 'model');
      await importCheckpoint({ input: path.join(repoRoot, 'test/fixtures/import/tiny-llama'), outDir: out, bits: 4, gateSkip: 0.4 });
      const manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8')) as ManifestV2;
      assert.equal(manifest.quantization, 'q4_32');
      const ids = prompt.map((id) => id % 250);
      const resident = await loadModelV2(await openModelDir(out) as never, { mode: 'sparse', memoryBudgetMB: 1024 });
      const flash = await loadModelV2(await openModelDir(out) as never, { mode: 'sparse', memoryBudgetMB: 1024, residentNeuronsPerLayer: 24 });
      const kvR = resident.newCache(), kvF = flash.newCache();
      assert.deepEqual(await flash.forward(ids, kvF), await resident.forward(ids, kvR));
      for (let t = 0; t < 8; t++) assert.deepEqual(await flash.forward([10 + 7 * t], kvF), await resident.forward([10 + 7 * t], kvR), `token ${t}`);
      assert.ok(resident.ffnCounts.skipped > 0 && flash.ffnStats.misses > 0, 'neurons skipped, records read');
      await resident.dispose();
      await flash.dispose();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
