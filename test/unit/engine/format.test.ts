// Cross-language round trip: test/golden/*.bin are written by models/pipeline (Python); this reader
// must read back exactly the values listed in ffn-golden.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readFfnHeader, readFfnLayer } from '../../../src/engine/weights/ffnFile';

const goldenDir = path.join(__dirname, '../../golden');
interface GoldenFile {
  file: string;
  header: { version: number; layers: number; dModel: number; ffnSize: number; dtype: number; gated: boolean; recordBytes: number; alignment: number; fileBytes: number; layerTable: { dataOffset: number; dataBytes: number }[] };
  records: number[][][]; // [layer][neuron][record values]
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

describe('ffn.bin format v1 (golden files written by the Python writer)', () => {
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
  }

  const f32 = path.join(goldenDir, 'ffn-f32.bin');
  const cases: [string, (b: Buffer) => Buffer, RegExp][] = [
    ['a wrong magic', (b) => { b.write('NOPE', 0, 'latin1'); return b; }, /ModelFileCorrupt|bad magic/],
    ['another version', (b) => { b.writeUInt32LE(2, 4); return b; }, /format version 2/],
    ['a truncated file', (b) => b.subarray(0, b.length - 100), /truncated/],
    ['the reserved int8 dtype', (b) => { b.writeUInt32LE(2, 24); return b; }, /dtype 2/],
    ['unknown flags', (b) => { b.writeUInt32LE(3, 28); return b; }, /flags/],
    ['a layer offset past the end', (b) => { b.writeBigUInt64LE(1n << 40n, 64); return b; }, /truncated: layer 0/],
  ];
  for (const [what, mutate, message] of cases) {
    it(`rejects ${what} with a named error`, async () => {
      const file = await corruptCopy(f32, mutate);
      await assert.rejects(withFile(file, (h) => readFfnHeader(h)), (e: Error) => {
        assert.match(e.message, message);
        assert.match(e.name, /^Model(FileCorrupt|FormatUnsupported)Error$/);
        assert.match(e.message, /ffn\.bin/);
        return true;
      });
    });
  }
});
