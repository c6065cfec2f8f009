// The q8_32 rule of models/FORMAT.md v2 §Q, case by case.
import assert from 'node:assert/strict';
import { NonFiniteWeightError, quantizeQ8 } from '../../../../src/engine/import/writer/q8';

function blocks(values: number[]): { quants: Int8Array; scales: Float32Array } {
  const bytes = quantizeQ8(Float32Array.from(values), 1, values.length);
  return { quants: new Int8Array(bytes.buffer, 0, values.length), scales: new Float32Array(bytes.slice(values.length).buffer) };
}

describe('import: q8_32 quantization (§Q)', () => {
  it('scale = fround(max|w| / 127); the largest value maps to ±127', () => {
    const v = Array.from({ length: 32 }, (_, i) => (i - 16) / 10);
    const { quants, scales } = blocks(v);
    assert.equal(scales[0], Math.fround(1.6 / 127));
    assert.equal(quants[0], -127);
    assert.equal(quants[16], 0);
  });

  it('ties round to even', () => {
    // scale = 127/127 = 1 exactly: w/scale is w itself
    const v = new Array(32).fill(0);
    v[0] = 127;
    Object.assign(v, { 1: 2.5, 2: 3.5, 3: -2.5, 4: -3.5, 5: 0.5, 6: -0.5, 7: 1.5 });
    const { quants, scales } = blocks(v);
    assert.equal(scales[0], 1);
    assert.deepEqual([...quants.slice(1, 8)], [2, 4, -2, -4, 0, 0, 2]);
  });

  it('an all-zero block has scale 0 and zero quants; blocks are independent', () => {
    const v = [...new Array(32).fill(0), ...new Array(32).fill(-3)];
    const { quants, scales } = blocks(v);
    assert.deepEqual([...scales], [0, Math.fround(3 / 127)]);
    assert.ok(quants.slice(0, 32).every((q) => q === 0));
    assert.ok(quants.slice(32).every((q) => q === -127));
  });

  it('never writes −128 and refuses non-finite weights', () => {
    const v = new Array(32).fill(-1e-30);
    v[3] = -3e38;
    assert.ok(blocks(v).quants.every((q) => q >= -127));
    const bad = new Array(32).fill(1);
    bad[9] = Number.POSITIVE_INFINITY;
    assert.throws(() => blocks(bad), NonFiniteWeightError);
    assert.throws(() => quantizeQ8(new Float32Array(33), 1, 33), RangeError);
  });
});
