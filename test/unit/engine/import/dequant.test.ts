// Dequantization of every ggml type the importer reads against PyPI gguf's numpy reference:
// test/fixtures/import/quants.gguf (scripts/import-fixtures.py) holds each type's blocks and
// `<type>.expected`, gguf.quants.dequantize of them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DEQUANTIZERS } from '../../../../src/engine/import/gguf/dequant';
import { readGgufHeader } from '../../../../src/engine/import/gguf/header';
import { Q4_REPACKERS } from '../../../../src/engine/import/gguf/q4blocks';
import { GGML_TYPES } from '../../../../src/engine/import/gguf/types';
import { dequantizeBlockQ4 } from '../../../../src/engine/weights/q4';
import { halfToFloat } from '../../../../src/engine/weights/float16';
import { dequantizeQ8, quantizeQ8 } from '../../../../src/engine/weights/q8';

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

/** A fixture tensor dequantized row by row by the importer's dequantizers: [rows][cols] f32. */
const header = readGgufHeader(FIXTURE);
const bytes = fs.readFileSync(FIXTURE);
function rowsOf(name: string): Float32Array {
  const t = header.tensors.get(name)!;
  const type = GGML_TYPES.get(t.type)!;
  const rowBytes = (t.cols / type.blockValues) * type.blockBytes;
  const out = new Float32Array(t.rows * t.cols);
  for (let r = 0; r < t.rows; r++) DEQUANTIZERS.get(t.type)!(bytes, t.offset + r * rowBytes, out.subarray(r * t.cols), t.cols);
  return out;
}

describe('import: GGUF dequantization vs the gguf package', () => {

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

  it('Q8_0 re-quantized to q8_32 keeps every value and scale: its f16 scales are q8_32 scales (models/FORMAT.md §Q)', () => {
    const t = header.tensors.get('Q8_0')!;
    const values = rowsOf('Q8_0');
    const q8 = quantizeQ8(values, t.rows, t.cols);
    assert.deepEqual(dequantizeQ8(q8, t.rows, t.cols), values);
    const n = t.rows * t.cols, rowBytes = (t.cols / 32) * 34;
    const scales = new Float32Array(q8.buffer, n, n / 32);
    for (let b = 0; b < n / 32; b++) {
      const at = t.offset + Math.floor(b / (t.cols / 32)) * rowBytes + (b % (t.cols / 32)) * 34;
      assert.equal(scales[b], halfToFloat(bytes[at] | (bytes[at + 1] << 8)), `block ${b}: the Q8_0 block's d`);
    }
  });
});

describe('import: GGUF 4-bit blocks kept as q4_32 (models/FORMAT.md §Q4)', () => {

  for (const type of ['Q4_0', 'Q4_1', 'Q4_K']) {
    it(`${type}: repacked as q4_32 without a change in any value; q8_32 would move them`, () => {
      const t = header.tensors.get(type)!;
      const code = t.type;
      const rowBytes = (t.cols / GGML_TYPES.get(code)!.blockValues) * GGML_TYPES.get(code)!.blockBytes;
      const n = t.rows * t.cols;
      const nibbles = new Uint8Array(n / 2), scales = new Float32Array(n / 32), mins = new Float32Array(n / 32);
      for (let r = 0; r < t.rows; r++) Q4_REPACKERS.get(code)!(bytes, t.offset + r * rowBytes, t.cols, nibbles, (r * t.cols) / 2, scales, mins, (r * t.cols) / 32);
      const q4 = new Float32Array(n);
      for (let b = 0; b < n / 32; b++) dequantizeBlockQ4(nibbles, 16 * b, scales[b], mins[b], q4, 32 * b);
      const want = rowsOf(`${type}.expected`);
      let worst = 0, q8Worst = 0;
      const q8 = dequantizeQ8(quantizeQ8(want, t.rows, t.cols), t.rows, t.cols);
      for (let i = 0; i < n; i++) {
        worst = Math.max(worst, ulps(q4[i], want[i]));
        q8Worst = Math.max(q8Worst, Math.abs(q8[i] - want[i]));
      }
      assert.equal(worst, 0, `${type} as q4_32: worst difference ${worst} ulp`);
      assert.ok(q8Worst > 0, `${type} re-quantized to q8_32 moves values (largest ${q8Worst})`);
    });
  }

  it('Q5_K, Q6_K, Q8_0 and the float types have no exact q4_32 form (5 to 8 bits a value)', () => {
    for (const type of ['Q5_K', 'Q6_K', 'Q8_0', 'F16', 'BF16', 'F32']) assert.equal(Q4_REPACKERS.has(header.tensors.get(type)!.type), false, type);
  });
});
