// q8_32 scales are f16 values held in 16 bits in the kernels' memory (src/engine/weights/f16.ts,
// kernels.wat's $f16Bits and $f16Value): every f16 value must survive the round trip exactly, and
// nothing else may pass as one.
import assert from 'node:assert/strict';
import { allF16Scales, f16Bits, f16Value, isF16Scale } from '../../../src/engine/weights/f16';
import { f16Round } from '../../../src/engine/weights/q8';

/** The value of f16 bits h, from the encoding's definition. */
function decode(h: number): number {
  const e = (h >> 10) & 31, m = h & 1023;
  return e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15);
}

describe('f16 scales', () => {
  it('every finite f16 value ≥ 0 (subnormals and 0 included) goes to its bits and back exactly', () => {
    for (let h = 0; h < 0x7c00; h++) {
      const v = decode(h);
      assert.equal(f16Bits(v), h, `bits of ${v}`);
      assert.equal(f16Value(h), v, `value of ${h}`);
      assert.ok(isF16Scale(v), `${v} is an f16 value`);
    }
  });

  it('refuses what is not an f16 value ≥ 0: between two, too small, too large, negative, −0, not finite', () => {
    for (let h = 1; h < 0x7c00; h += 7) assert.ok(!isF16Scale(Math.fround(decode(h) * (1 + 2 ** -20))), `just above ${decode(h)}`);
    for (const v of [Math.fround(0.1), 2 ** -25, 2 ** -149, 65536, 65505, -1, -(2 ** -24), -0, NaN, Infinity]) assert.ok(!isF16Scale(v), String(v));
  });

  it('allF16Scales (bit patterns) agrees with isF16Scale: every f16 value, each f32 neighbour, and the refused', () => {
    const one = (v: number) => allF16Scales(new Uint32Array(Float32Array.of(v).buffer));
    const bits = new Uint32Array(1), f = new Float32Array(bits.buffer);
    for (let h = 0; h < 0x7c00; h++) {
      const b = new Uint32Array(Float32Array.of(decode(h)).buffer)[0];
      for (const delta of [-1, 0, 1]) {
        bits[0] = b + delta; // h = 0, −1: 0xffffffff, a NaN
        assert.equal(one(f[0]), isF16Scale(f[0]), `bits ${bits[0].toString(16)}`);
      }
    }
    for (const v of [Math.fround(0.1), 2 ** -25, 2 ** -149, 65536, 65505, -1, -(2 ** -24), -0, NaN, Infinity, -Infinity, 3.4e38]) assert.equal(one(v), false, String(v));
    const all = Float32Array.from({ length: 0x7c00 }, (_, h) => decode(h));
    assert.ok(allF16Scales(new Uint32Array(all.buffer)));
    all[500] = Math.fround(0.1);
    assert.ok(!allF16Scales(new Uint32Array(all.buffer)));
  });

  it('f16Round (the writers\' rounding) is the nearest f16, ties to even, and Infinity past 65,504', () => {
    assert.equal(f16Round(Math.fround(0.1)), 0.0999755859375);
    assert.equal(f16Round(1 + 2 ** -11), 1); // a tie: to the even 1
    assert.equal(f16Round(1 + 3 * 2 ** -11), 1 + 2 ** -9); // a tie: to the even 1 + 2^−9
    assert.equal(f16Round(3 * 2 ** -26), 2 ** -24); // subnormal: 0.75 of the least step rounds up
    assert.equal(f16Round(2 ** -26), 0); // a quarter of it rounds to 0
    assert.equal(f16Round(65519), 65504);
    assert.equal(f16Round(65520), Infinity);
    for (let h = 0; h < 0x7c00; h += 3) assert.equal(f16Round(decode(h)), decode(h));
  });
});
