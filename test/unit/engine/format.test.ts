// Cross-language round trip: test/golden/*.bin are written by models/pipeline (Python); this reader
// must read back exactly the values listed in ffn-golden.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NeuronCache, allocateRows } from '../../../src/engine/ffn/neuronCache';
import { RecordReader } from '../../../src/engine/ffn/recordReader';
import { FfnDtype, readFfnHeader, readFfnLayer } from '../../../src/engine/weights/ffnFile';
import { readFloat32LE } from '../../../src/engine/weights/int8';

const goldenDir = path.join(__dirname, '../../golden');
interface GoldenFile {
  file: string;
  header: { version: number; layers: number; dModel: number; ffnSize: number; dtype: number; gated: boolean; recordBytes: number; alignment: number; fileBytes: number; layerTable: { dataOffset: number; dataBytes: number }[] };
  records: number[][][]; // [layer][neuron][record values], decoded
  scales?: number[][][]; //  int8 only: [layer][neuron][part], as stored
  int8?: number[][][]; //    int8 only: [layer][neuron][parts × dModel], as stored
}
const golden: { files: GoldenFile[] } = JSON.parse(fs.readFileSync(path.join(goldenDir, 'ffn-golden.json'), 'utf8'));

async function withFile<T>(file: string, fn: (h: fsp.FileHandle) => Promise<T>): Promise<T> {
  const h = await fsp.open(file, 'r');
  try { return await fn(h); } finally { await h.close(); }
}

async function corruptCopy(source: string, mutate: (b: Buffer) => Buffer): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'flashcode-ffn-'));
  const file = path.join(dir, 'ffn.bin');
  await fsp.writeFile(file, mutate(Buffer.from(await fsp.readFile(source))));
  return file;
}

describe('ffn.bin format versions 1 and 2 (golden files written by the Python writer)', () => {
  for (const g of golden.files) {
    it(`reads ${g.file}: header and every record`, async () => {
      await withFile(path.join(goldenDir, g.file), async (h) => {
        const header = await readFfnHeader(h);
        const { version, layers, dModel, ffnSize, dtype, gated, recordBytes, alignment, fileBytes } = header;
        assert.deepEqual({ version, layers, dModel, ffnSize, dtype, gated, recordBytes, alignment, fileBytes },
          { version: g.header.version, layers: g.header.layers, dModel: g.header.dModel, ffnSize: g.header.ffnSize, dtype: g.header.dtype, gated: g.header.gated, recordBytes: g.header.recordBytes, alignment: g.header.alignment, fileBytes: g.header.fileBytes });
        assert.deepEqual(header.sections, g.header.layerTable.map((t) => ({ offset: t.dataOffset, bytes: t.dataBytes })));
        for (let l = 0; l < layers; l++) {
          const w = await readFfnLayer(h, header, l);
          for (let j = 0; j < ffnSize; j++) {
            const row = (m: Float32Array) => Array.from(m.subarray(j * dModel, (j + 1) * dModel));
            const expected = [...(w.gate ? row(w.gate) : []), ...row(w.up), ...row(w.down)];
            assert.deepEqual(expected, g.records[l][j], `layer ${l} neuron ${j}`);
          }
          assert.equal(w.gate === undefined, !gated);
        }
      });
    });

    it(`${g.file}: the flash engine's record reader decodes the same values, one range and scattered ids`, async () => {
      await withFile(path.join(goldenDir, g.file), async (h) => {
        const header = await readFfnHeader(h);
        const { dModel: d, ffnSize, gated } = header;
        const reader = new RecordReader(h, header, ffnSize, g.file);
        const counters = { bytesRead: 0, reads: 0, neuronsRead: 0 };
        const rowOf = (rows: { gate?: Float32Array; up: Float32Array; down: Float32Array }, s: number) =>
          [rows.gate, rows.up, rows.down].flatMap((m) => (m ? Array.from(m.subarray(s * d, (s + 1) * d)) : []));
        for (let l = 0; l < header.layers; l++) {
          const rows = allocateRows(ffnSize, d, gated);
          await reader.readRange(l, 0, ffnSize, rows, counters);
          for (let j = 0; j < ffnSize; j++) assert.deepEqual(rowOf(rows, j), g.records[l][j], `range: layer ${l} neuron ${j}`);
          const cache = new NeuronCache(ffnSize, ffnSize, d, gated);
          const ids = Int32Array.from({ length: ffnSize }, (_, j) => j).filter((j) => j !== 1); // two separate reads
          await reader.load(l, ids, ids.length, cache, 0, counters);
          for (const j of ids) assert.deepEqual(rowOf(cache, cache.slotOf[j]), g.records[l][j], `load: layer ${l} neuron ${j}`);
        }
        assert.equal(counters.bytesRead, counters.neuronsRead * header.recordBytes);
      });
    });
  }

  it('ffn-int8.bin: version 2, dtype 2, records of scales then int8 parts as the JSON lists them', async () => {
    const g = golden.files.find((f) => f.file === 'ffn-int8.bin')!;
    assert.ok(g.scales && g.int8);
    const bytes = await fsp.readFile(path.join(goldenDir, g.file));
    const header = await withFile(path.join(goldenDir, g.file), (h) => readFfnHeader(h));
    const { dModel: d, ffnSize, recordBytes } = header;
    const parts = header.gated ? 3 : 2;
    assert.deepEqual([header.version, header.dtype, recordBytes], [2, FfnDtype.I8, parts * 4 + parts * d]);
    for (let l = 0; l < header.layers; l++) {
      for (let j = 0; j < ffnSize; j++) {
        const at = header.sections[l].offset + j * recordBytes;
        const scales = Array.from({ length: parts }, (_, p) => readFloat32LE(bytes, at + 4 * p));
        const q = Array.from(bytes.subarray(at + 4 * parts, at + recordBytes), (b) => (b << 24) >> 24);
        assert.deepEqual(scales, g.scales[l][j], `layer ${l} neuron ${j} scales`);
        assert.deepEqual(q, g.int8[l][j], `layer ${l} neuron ${j} int8`);
        assert.deepEqual(g.records[l][j], q.map((v, k) => v * scales[Math.floor(k / d)]), 'records = int8 × scale');
      }
    }
    assert.ok(g.scales.flat(2).includes(0), 'a zero part, whose scale is 0');
  });

  it('reads a float file that says version 2 like the same file as version 1', async () => {
    const g = golden.files.find((f) => f.file === 'ffn-f32.bin')!;
    const file = await corruptCopy(path.join(goldenDir, g.file), (b) => { b.writeUInt32LE(2, 4); return b; });
    await withFile(file, async (h) => {
      const header = await readFfnHeader(h);
      assert.equal(header.version, 2);
      const w = await readFfnLayer(h, header, 1);
      assert.deepEqual(Array.from(w.up.subarray(0, header.dModel)), g.records[1][0].slice(header.dModel, 2 * header.dModel));
    });
  });

  const f32 = path.join(goldenDir, 'ffn-f32.bin');
  const int8 = path.join(goldenDir, 'ffn-int8.bin');
  const cases: [string, string, (b: Buffer) => Buffer, RegExp][] = [
    ['a wrong magic', f32, (b) => { b.write('NOPE', 0, 'latin1'); return b; }, /ModelFileCorrupt|bad magic/],
    ['another version', f32, (b) => { b.writeUInt32LE(4, 4); return b; }, /format version 4; this Flashcode reads version 1, 2 or 3/],
    ['version 0', int8, (b) => { b.writeUInt32LE(0, 4); return b; }, /format version 0/],
    ['a truncated file', f32, (b) => b.subarray(0, b.length - 100), /truncated/],
    ['the int8 dtype in a version-1 file', f32, (b) => { b.writeUInt32LE(2, 24); return b; }, /dtype 2 \(int8 needs version 2\)/],
    ['an int8 file that says version 1', int8, (b) => { b.writeUInt32LE(1, 4); return b; }, /dtype 2 \(int8 needs version 2\)/],
    ['an unknown dtype', int8, (b) => { b.writeUInt32LE(4, 24); return b; }, /dtype 4/],
    ['an int8 recordBytes without the scales', int8, (b) => { b.writeUInt32LE(3 * 6, 32); return b; }, /record size 18/],
    ['unknown flags', f32, (b) => { b.writeUInt32LE(3, 28); return b; }, /flags/],
    ['a layer offset past the end', f32, (b) => { b.writeBigUInt64LE(1n << 40n, 64); return b; }, /truncated: layer 0/],
  ];
  for (const [what, source, mutate, message] of cases) {
    it(`rejects ${what} with a named error`, async () => {
      const file = await corruptCopy(source, mutate);
      await assert.rejects(withFile(file, (h) => readFfnHeader(h)), (e: Error) => {
        assert.match(e.message, message);
        assert.match(e.name, /^Model(FileCorrupt|FormatUnsupported)Error$/);
        assert.match(e.message, /ffn\.bin/);
        return true;
      });
    });
  }
});
