// Cross-language round trip: test/golden/predictors-*.bin are written by models/pipeline (Python);
// this reader must read back exactly the values listed in predictors-golden.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { parseManifest } from '../../../src/engine/manifest';
import { readFfnHeader, readFfnLayer } from '../../../src/engine/weights/ffnFile';
import { parsePredictors, readPredictors } from '../../../src/engine/weights/predictorsFile';

const goldenDir = path.join(__dirname, '../../golden');
interface GoldenFile {
  file: string;
  header: { layers: number; dModel: number; ffnSize: number; dtype: number; layerTable: { rank: number; threshold: number }[] };
  layers: { a: number[][]; b: number[][]; bias: number[] }[]; // a [dModel][rank], b [rank][ffnSize]
}
const golden: { files: GoldenFile[] } = JSON.parse(fs.readFileSync(path.join(goldenDir, 'predictors-golden.json'), 'utf8'));
const expect = { layers: 2, dModel: 4, ffnSize: 6 };
const fixtureDir = path.join(__dirname, '../../fixtures/tiny-model');

describe('predictors.bin format v1 (golden files written by the Python writer)', () => {
  for (const g of golden.files) {
    it(`reads ${g.file}: every rank, threshold and value`, async () => {
      const { layers, dModel, ffnSize } = g.header;
      const read = await readPredictors(path.join(goldenDir, g.file), { layers, dModel, ffnSize });
      assert.equal(read.length, layers);
      for (let l = 0; l < layers; l++) {
        const p = read[l];
        const want = g.layers[l];
        assert.equal(p.rank, g.header.layerTable[l].rank);
        assert.equal(p.threshold, g.header.layerTable[l].threshold);
        assert.deepEqual(Array.from(p.a), want.a.flat(), `layer ${l} A`);
        assert.deepEqual(Array.from(p.b), want.b.flat(), `layer ${l} B`);
        assert.deepEqual(Array.from(p.bias), want.bias, `layer ${l} bias`);
        assert.equal(p.a.length, dModel * p.rank);
        assert.equal(p.b.length, p.rank * ffnSize);
      }
      assert.deepEqual(read.map((p) => p.rank), [2, 3]);
    });
  }

  it('reads a buffer that does not start at an aligned byte offset', () => {
    const bytes = fs.readFileSync(path.join(goldenDir, 'predictors-f32.bin'));
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    assert.deepEqual(Array.from(parsePredictors(shifted, expect)[1].bias), golden.files[0].layers[1].bias);
  });

  type Mutate = (b: Buffer) => Buffer;
  const cases: [string, Mutate, RegExp, typeof expect?][] = [
    ['a wrong magic', (b) => { b.write('FCFF', 0, 'latin1'); return b; }, /bad magic "FCFF"/],
    ['another version', (b) => { b.writeUInt32LE(2, 4); return b; }, /format version 2/],
    ['a file shorter than fileBytes', (b) => b.subarray(0, b.length - 1), /truncated: 447 of 448 bytes/],
    ['a file shorter than the header', (b) => b.subarray(0, 40), /truncated/],
    ['an unknown dtype', (b) => { b.writeUInt32LE(2, 24); return b; }, /dtype 2/],
    ['unknown flags', (b) => { b.writeUInt32LE(1, 28); return b; }, /flags 0x1/],
    ['a header size that does not match the layers', (b) => { b.writeUInt32LE(3, 12); return b; }, /header size 128 does not match 3 layers/],
    ['a layer offset past the end', (b) => { b.writeBigUInt64LE(1n << 40n, 64 + 32); return b; }, /truncated: layer 1/],
    ['a misaligned section', (b) => { b.writeBigUInt64LE(130n, 64); return b; }, /layer 0 table entry .* inconsistent/],
    ['a section size that does not match the rank', (b) => { b.writeUInt32LE(3, 64 + 16); return b; }, /layer 0 table entry .*rank 3\) is inconsistent/],
    ['a rank of 0', (b) => { b.writeUInt32LE(0, 64 + 32 + 16); return b; }, /layer 1 has rank 0/],
    ['a non-finite threshold', (b) => { b.writeFloatLE(NaN, 64 + 20); return b; }, /layer 0 threshold is NaN/],
    ['a layer count the manifest does not have', (b) => b, /layers 2 does not match the manifest's 3/, { ...expect, layers: 3 }],
    ['a dModel the manifest does not have', (b) => b, /dModel 4 does not match the manifest's 64/, { ...expect, dModel: 64 }],
    ['an ffnSize the manifest does not have', (b) => b, /ffnSize 6 does not match the manifest's 256/, { ...expect, ffnSize: 256 }],
  ];
  for (const [what, mutate, message, expectation] of cases) {
    it(`rejects ${what} with a named error`, () => {
      const bytes = mutate(Buffer.from(fs.readFileSync(path.join(goldenDir, 'predictors-f32.bin'))));
      assert.throws(() => parsePredictors(bytes, expectation ?? expect), (e: Error) => {
        assert.match(e.message, message);
        assert.match(e.name, /^Model(FileCorrupt|FormatUnsupported)Error$/);
        assert.match(e.message, /^predictors\.bin /);
        return true;
      });
    });
  }

  it('reads the fixture model\'s exact predictors: A = I, B = W_gate transposed, bias 0, threshold 0', async () => {
    const manifest = parseManifest(fs.readFileSync(path.join(fixtureDir, 'manifest.json'), 'utf8'));
    const { layers, dModel, ffnSize } = manifest.architecture;
    assert.ok(manifest.predictors);
    const read = await readPredictors(path.join(fixtureDir, manifest.predictors.file), { layers, dModel, ffnSize });
    const ffn = await fsp.open(path.join(fixtureDir, manifest.ffn.file), 'r');
    try {
      const header = await readFfnHeader(ffn);
      for (let l = 0; l < layers; l++) {
        const p = read[l];
        const gate = (await readFfnLayer(ffn, header, l)).gate!; // [ffnSize][dModel]
        assert.deepEqual({ rank: p.rank, threshold: p.threshold }, { rank: manifest.predictors.perLayer[l].rank, threshold: 0 });
        assert.ok(p.a.every((v, i) => v === (Math.floor(i / dModel) === i % dModel ? 1 : 0)), `layer ${l} A = I`);
        assert.ok(p.b.every((v, i) => v === gate[(i % ffnSize) * dModel + Math.floor(i / ffnSize)]), `layer ${l} B = W_gateᵀ`);
        assert.ok(p.bias.every((v) => v === 0), `layer ${l} bias = 0`);
      }
    } finally {
      await ffn.close();
    }
  });

  it('names the file it was given', () => {
    assert.throws(() => parsePredictors(new Uint8Array(8), expect, 'model/predictors.bin'), /^ModelFileCorruptError: model\/predictors\.bin is corrupt/);
  });
});
