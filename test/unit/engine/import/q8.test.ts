// The q8_32 rule of models/FORMAT.md v2 §Q, case by case.
import assert from 'node:assert/strict';
import { quantizeQ8, UnquantizableWeightError } from '../../../../src/engine/import/writer/q8';
import { f16Round } from '../../../../src/engine/weights/q8';

function blocks(values: number[]): { quants: Int8Array; scales: Float32Array } {
  const bytes = quantizeQ8(Float32Array.from(values), 1, values.length);
  return { quants: new Int8Array(bytes.buffer, 0, values.length), scales: new Float32Array(bytes.slice(values.length).buffer) };
}

describe('import: q8_32 quantization (§Q)', () => {
  it('scale = the f16 value nearest fround(max|w| / 127); the largest value maps to ±127', () => {
    const v = Array.from({ length: 32 }, (_, i) => (i - 16) / 10);
    const { quants, scales } = blocks(v);
    // 1.6/127 = 0.0125984…: f16 values there are 2^−17 apart, the nearest is 1651 · 2^−17
    assert.equal(scales[0], 1651 * 2 ** -17);
    assert.equal(scales[0], f16Round(Math.fround(1.6 / 127)));
    assert.notEqual(scales[0], Math.fround(1.6 / 127));
    assert.equal(quants[0], -127);
    assert.equal(quants[16], 0);
  });

  it('the scale rounds up or down to f16, halfway cases to even, subnormals to multiples of 2^−24', () => {
    const scaleOf = (max: number) => blocks([max, ...new Array(31).fill(0)]).scales[0];
    assert.equal(scaleOf(127 * (1 + 2 ** -11)), 1); // halfway between 1 and 1 + 2^−10: to even, down
    assert.equal(scaleOf(127 * (1 + 3 * 2 ** -11)), 1 + 2 ** -9); // halfway again: to even, up
    assert.equal(scaleOf(127 * (1 + 2 ** -12)), 1);
    assert.equal(scaleOf(127 * (1 + 3 * 2 ** -12)), 1 + 2 ** -10);
    assert.equal(scaleOf(127 * 5.4 * 2 ** -24), 5 * 2 ** -24); // f16 subnormal
    assert.equal(scaleOf(127 * 2 ** -25), 0); // halfway between 0 and 2^−24: to even, 0
    assert.equal(scaleOf(127 * 1.01 * 2 ** -25), 2 ** -24);
    assert.equal(scaleOf(127 * 65519), 65504);
  });

  it('a subnormal scale rounded down clamps the largest value to ±127; one rounded to 0 gives zero quants', () => {
    const v = new Array(32).fill(0);
    Object.assign(v, { 0: -127 * 1.4 * 2 ** -24, 1: 127 * 2 ** -24 });
    const { quants, scales } = blocks(v);
    assert.equal(scales[0], 2 ** -24);
    assert.deepEqual([...quants.slice(0, 2)], [-127, 127]); // −177.8 clamped, 127
    const tiny = blocks(new Array(32).fill(3 * 2 ** -30));
    assert.equal(tiny.scales[0], 0);
    assert.ok(tiny.quants.every((q) => q === 0));
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
    assert.deepEqual([...scales], [0, f16Round(Math.fround(3 / 127))]);
    assert.ok(quants.slice(0, 32).every((q) => q === 0));
    assert.ok(quants.slice(32).every((q) => q === -127));
  });

  it('never writes −128 and refuses non-finite weights', () => {
    const v = new Array(32).fill(-1e-30);
    v[3] = -8e6;
    assert.ok(blocks(v).quants.every((q) => q >= -127));
    const bad = new Array(32).fill(1);
    bad[9] = Number.POSITIVE_INFINITY;
    assert.throws(() => blocks(bad), (e: unknown) => e instanceof UnquantizableWeightError && e.what === 'non-finite weight');
    assert.throws(() => quantizeQ8(new Float32Array(33), 1, 33), RangeError);
  });

  it('refuses a block whose scale exceeds f16\'s largest value, 65504 (max |w| ≥ 127 · 65520)', () => {
    const v = new Array(64).fill(1);
    v[40] = -127 * 65520;
    assert.throws(() => blocks(v), (e: unknown) => e instanceof UnquantizableWeightError && e.index === 40 && /weight -8321040 too large for 8 bits/.test(e.what));
    v[40] = Math.fround(127 * 65520 - 0.5); // the f32 below: max/127 rounds to 65504
    assert.equal(blocks(v).scales[1], 65504);
  });
});
