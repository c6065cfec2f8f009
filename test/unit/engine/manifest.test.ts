// manifest.json (models/FORMAT.md §1): the optional predictors block is parsed and checked field by
// field; a bad one fails with ModelManifestInvalidError naming the field.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseManifest } from '../../../src/engine/manifest';

const fixtureManifest = fs.readFileSync(path.join(__dirname, '../../fixtures/tiny-model/manifest.json'), 'utf8');
type LayerJson = Record<string, unknown> & { macsPerToken: number };
interface PredictorsJson { file?: unknown; perLayer: LayerJson[]; measuredOn?: unknown }
interface ManifestJson { files: Record<string, unknown>; predictors?: unknown }

/** The fixture's manifest (2 layers, dModel 64, ffnSize 256) with `predictors` replaced by a known block. */
function withPredictors(edit: (p: PredictorsJson, m: ManifestJson) => void): string {
  const m = JSON.parse(fixtureManifest) as ManifestJson;
  m.files['predictors.bin'] ??= { bytes: 64, sha256: '0'.repeat(64) };
  const layer = (rank: number) => ({ rank, threshold: -0.25, recall: 0.99, precision: 0.5, predictedActiveFraction: 0.4, macsPerToken: 64 * rank + rank * 256 });
  const p: PredictorsJson = { file: 'predictors.bin', perLayer: [layer(8), layer(16)], measuredOn: 'held-out code' };
  m.predictors = p;
  edit(p, m);
  return JSON.stringify(m);
}

describe('manifest.json predictors block', () => {
  it('is absent when the manifest has none', () => {
    const m = JSON.parse(fixtureManifest) as ManifestJson;
    delete m.predictors;
    assert.equal(parseManifest(JSON.stringify(m)).predictors, undefined);
  });

  it('is parsed from the fixture model, whose predictors are exact', () => {
    const p = parseManifest(fixtureManifest).predictors;
    assert.equal(p?.file, 'predictors.bin');
    assert.deepEqual(p?.perLayer.map((l) => [l.rank, l.threshold, l.recall, l.precision]), [[64, 0, 1, 1], [64, 0, 1, 1]]);
  });

  it('is parsed field by field', () => {
    assert.deepEqual(parseManifest(withPredictors(() => {})).predictors, {
      file: 'predictors.bin',
      perLayer: [
        { rank: 8, threshold: -0.25, recall: 0.99, precision: 0.5, predictedActiveFraction: 0.4, macsPerToken: 64 * 8 + 8 * 256 },
        { rank: 16, threshold: -0.25, recall: 0.99, precision: 0.5, predictedActiveFraction: 0.4, macsPerToken: 64 * 16 + 16 * 256 },
      ],
      measuredOn: 'held-out code',
    });
  });

  it('may leave out measuredOn', () => {
    assert.equal(parseManifest(withPredictors((p) => { delete p.measuredOn; })).predictors?.measuredOn, undefined);
  });

  const cases: [string, (p: PredictorsJson, m: ManifestJson) => void, RegExp][] = [
    ['not an object', (_p, m) => { m.predictors = [1]; }, /predictors must be an object/],
    ['no file', (p) => { delete p.file; }, /predictors\.file must be a non-empty string/],
    ['a file that files does not list', (_p, m) => { delete m.files['predictors.bin']; }, /predictors\.file names predictors\.bin, which files does not list/],
    ['one entry per layer missing', (p) => { p.perLayer.pop(); }, /predictors\.perLayer must list 2 entries, one per layer/],
    ['perLayer not a list', (p, m) => { m.predictors = { ...p, perLayer: {} }; }, /predictors\.perLayer must list 2 entries/],
    ['an entry that is not an object', (p) => { (p.perLayer as unknown[])[1] = 3; }, /predictors\.perLayer\[1\] must be an object/],
    ['a rank of 0', (p) => { p.perLayer[0].rank = 0; }, /predictors\.perLayer\[0\]\.rank must be a positive integer/],
    ['a fractional rank', (p) => { p.perLayer[0].rank = 1.5; }, /predictors\.perLayer\[0\]\.rank must be a positive integer/],
    ['a threshold that is not a number', (p) => { p.perLayer[1].threshold = 'low'; }, /predictors\.perLayer\[1\]\.threshold must be a number/],
    ['a recall above 1', (p) => { p.perLayer[0].recall = 1.01; }, /predictors\.perLayer\[0\]\.recall must be between 0 and 1/],
    ['a negative precision', (p) => { p.perLayer[1].precision = -0.1; }, /predictors\.perLayer\[1\]\.precision must be between 0 and 1/],
    ['no predictedActiveFraction', (p) => { delete p.perLayer[0].predictedActiveFraction; }, /predictors\.perLayer\[0\]\.predictedActiveFraction must be a number/],
    ['macsPerToken that is not d·r + r·ffn', (p) => { p.perLayer[1].macsPerToken += 1; }, /predictors\.perLayer\[1\]\.macsPerToken must be dModel·rank \+ rank·ffnSize = 5120/],
    ['a measuredOn that is not a string', (p) => { p.measuredOn = 3; }, /predictors\.measuredOn must be a non-empty string/],
  ];
  for (const [what, edit, message] of cases) {
    it(`rejects ${what}, naming the field`, () => {
      assert.throws(() => parseManifest(withPredictors(edit)), (e: Error) => {
        assert.equal(e.name, 'ModelManifestInvalidError');
        assert.match(e.message, message);
        return true;
      });
    });
  }
});

describe('manifest.json bounds', () => {
  const edit = (f: (m: Record<string, any>) => void) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const m = JSON.parse(fixtureManifest);
    f(m);
    return JSON.stringify(m);
  };
  it('refuses a context whose KV cache would not fit WebAssembly memory, naming the limit', () => {
    // 32 layers × 2 × 8 kvHeads × 128 headDim × 4 bytes = 256 KiB per token: 131,072 tokens = 32 GiB.
    assert.throws(() => parseManifest(edit((m) => { Object.assign(m.architecture, { layers: 32, heads: 32, kvHeads: 8, headDim: 128 }); m.graphs.attention = Array.from({ length: 32 }, (_, i) => m.graphs.attention[i % 2]); m.contextTokens = 131_072; })),
      /contextTokens needs a 32\.0 GiB KV cache .* above the 2 GiB that WebAssembly memory leaves for it/);
  });
  it('accepts the fixture, and refuses normEps of 0, 1 or more, and a non-number', () => {
    assert.equal(parseManifest(fixtureManifest).architecture.normEps, 1e-5);
    for (const eps of [0, 1, 5, '1e-5', null]) assert.throws(() => parseManifest(edit((m) => { m.architecture.normEps = eps; })), /architecture\.normEps must be/);
  });
});
