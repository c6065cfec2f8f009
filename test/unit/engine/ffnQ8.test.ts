// ffn.bin version 3 (models/FORMAT.md §F): q8_32 records written by the Python writer, read back as
// stored (raw records, addressed with q8RecordLayout) and decoded by the f32 reader; quantizeQ8 of a
// record's values is the record; the version/dtype/shape rejections.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ModelFileCorruptError, ModelFormatUnsupportedError } from '../../../src/engine/errors';
import { checkFfnMatchesV2, FfnDtype, q8RecordLayout, readFfnHeader, readFfnLayer, readFfnLayerRaw } from '../../../src/engine/weights/ffnFile';
import { quantizeQ8 } from '../../../src/engine/weights/weightsFile';
import { goldenDir, manifestFor, readGoldenBytes, tempFile, withFile } from '../../helpers/formatV2';

interface GoldenFfn {
  file: string;
  header: { version: number; layers: number; dModel: number; ffnSize: number; dtype: number; gated: boolean; recordBytes: number; alignment: number; fileBytes: number; layerTable: { dataOffset: number; dataBytes: number }[] };
  records: number[][][]; quants: number[][][]; scales: number[][][];
}
const golden: { ffn: GoldenFfn[] } = JSON.parse(fs.readFileSync(path.join(goldenDir, 'q8-golden.json'), 'utf8'));

describe('ffn.bin version 3, q8_32 (goldens written by models/pipeline/golden_q8.py)', () => {
  for (const g of golden.ffn) {
    it(`reads ${g.file}: header, raw records byte-identical with quantizeQ8, decoded values`, async () => {
      await withFile(path.join(goldenDir, g.file), async (file) => {
        const h = await readFfnHeader(file, g.file);
        const { layerTable, ...fields } = g.header;
        assert.deepEqual({ version: h.version, layers: h.layers, dModel: h.dModel, ffnSize: h.ffnSize, dtype: h.dtype, gated: h.gated, recordBytes: h.recordBytes, alignment: h.alignment, fileBytes: h.fileBytes }, fields);
        assert.deepEqual(h.sections, layerTable.map((e) => ({ offset: e.dataOffset, bytes: e.dataBytes })));
        const d = h.dModel;
        const layout = q8RecordLayout(d, h.gated);
        assert.equal(layout.recordBytes, h.recordBytes);
        for (let l = 0; l < h.layers; l++) {
          const raw = await readFfnLayerRaw(file, h, l);
          const decoded = await readFfnLayer(file, h, l);
          for (let j = 0; j < h.ffnSize; j++) {
            const record = raw.subarray(j * h.recordBytes, (j + 1) * h.recordBytes);
            assert.deepEqual(record, quantizeQ8(Float32Array.from(g.records[l][j]), layout.parts, d), `layer ${l} record ${j}`);
            const view = new DataView(record.buffer, record.byteOffset);
            const parts = h.gated ? [decoded.gate!, decoded.up, decoded.down] : [decoded.up, decoded.down];
            for (let p = 0; p < layout.parts; p++) {
              for (let k = 0; k < d; k++) {
                const q = (record[layout.quants[p] + k] << 24) >> 24;
                const scale = view.getFloat32(layout.scales[p] + 4 * Math.floor(k / 32), true);
                assert.equal(q, g.quants[l][j][p * d + k]);
                assert.equal(scale, g.scales[l][j][p * (d / 32) + Math.floor(k / 32)]);
                assert.equal(parts[p][j * d + k], Math.fround(q * scale));
              }
            }
          }
        }
      });
    });
  }
});

describe('ffn.bin version 3 rejections', () => {
  const gated = readGoldenBytes('ffn-q8.bin');
  const set = (b: Buffer, at: number, u32: number) => { const c = Buffer.from(b); c.writeUInt32LE(u32, at); return c; };
  async function rejects(bytes: Buffer, error: new (...a: never[]) => Error, message: RegExp): Promise<void> {
    await assert.rejects(withFile(await tempFile(bytes, 'ffn.bin'), (h) => readFfnHeader(h)), (e: unknown) => e instanceof error && message.test((e as Error).message));
  }
  it('a float dtype in a version-3 file', () => rejects(set(gated, 24, FfnDtype.F32), ModelFormatUnsupportedError, /version 3 with dtype 0/));
  it('q8_32 in a version-2 file', () => rejects(set(gated, 4, 2), ModelFormatUnsupportedError, /version 2 with dtype 3/));
  it('version 4', () => rejects(set(gated, 4, 4), ModelFormatUnsupportedError, /format version 4/));
  it('a dModel not a multiple of 32', () => rejects(set(gated, 16, 48), ModelFileCorruptError, /dModel 48 is not a multiple of 32/));
  it('a recordBytes that is not parts·d·9/8', () => rejects(set(gated, 32, 3 * 64), ModelFileCorruptError, /record size 192/));
  it('a truncated file', () => rejects(gated.subarray(0, gated.length - 4096), ModelFileCorruptError, /truncated/));

  it('checkFfnMatchesV2: version 3, the manifest\'s shape, the gate in the records only for ReLU-gated models', async () => {
    const arch = { family: 'llama' as const, layers: 2, dModel: 64, heads: 2, kvHeads: 1, headDim: 32, ffnSize: 3, ffnActivation: 'relu' as const, ffnGated: true, ropeTheta: 1e4, normEps: 1e-5, vocabSize: 8, tiedEmbeddings: true, attentionBias: false };
    await withFile(path.join(goldenDir, 'ffn-q8.bin'), async (file) => {
      const h = await readFfnHeader(file);
      checkFfnMatchesV2(h, manifestFor(arch));
      assert.throws(() => checkFfnMatchesV2(h, manifestFor({ ...arch, ffnActivation: 'silu' })), (e: unknown) => e instanceof ModelFileCorruptError && /does not match/.test((e as Error).message));
      assert.throws(() => checkFfnMatchesV2(h, manifestFor({ ...arch, ffnSize: 4 })), ModelFileCorruptError);
      assert.throws(() => checkFfnMatchesV2({ ...h, version: 1 }, manifestFor(arch)), ModelFormatUnsupportedError);
    });
  });
});
