// Dequantization of every ggml type the importer reads against PyPI gguf's numpy reference:
// test/fixtures/import/quants.gguf (scripts/import-fixtures.py) holds each type's blocks and
// `<type>.expected`, gguf.quants.dequantize of them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DEQUANTIZERS } from '../../../../src/engine/import/gguf/dequant';
import { readGgufHeader } from '../../../../src/engine/import/gguf/header';
import { GGML_TYPES } from '../../../../src/engine/import/gguf/types';

const FIXTURE = path.join(__dirname, '../../../fixtures/import/quants.gguf');

/** Distance in units in the last place of f32 (0 = identical bits). */
export function ulps(a: number, b: number): number {
  if (a === b) return 0;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat32(0, a, true);
  view.setFloat32(4, b, true);
  const ia = view.getInt32(0, true), ib = view.getInt32(4, true);
  return Math.sign(ia) === Math.sign(ib) ? Math.abs(ia - ib) : Infinity;
}

describe('import: GGUF dequantization vs the gguf package', () => {
  const header = readGgufHeader(FIXTURE);
  const bytes = fs.readFileSync(FIXTURE);
  const rowsOf = (name: string): Float32Array => {
    const t = header.tensors.get(name)!;
    const type = GGML_TYPES.get(t.type)!;
    const rowBytes = (t.cols / type.blockValues) * type.blockBytes;
    const out = new Float32Array(t.rows * t.cols);
    for (let r = 0; r < t.rows; r++) DEQUANTIZERS.get(t.type)!(bytes, t.offset + r * rowBytes, out.subarray(r * t.cols), t.cols);
    return out;
  };

  for (const type of ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q4_K', 'Q5_K', 'Q6_K']) {
    it(`${type}: equal to gguf.quants.dequantize bit for bit`, () => {
      const t = header.tensors.get(type);
      assert.ok(t, `${type} in the fixture`);
      assert.equal(GGML_TYPES.get(t.type)!.name, type);
      assert.deepEqual([t.rows, t.cols], [2, 256]);
      const got = rowsOf(type);
      const want = rowsOf(`${type}.expected`);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, ulps(got[i], want[i]));
      assert.equal(worst, 0, `${type}: worst difference ${worst} ulp`);
      assert.ok(want.some((v) => v !== 0), 'the fixture is not all zeros');
    });
  }
});
