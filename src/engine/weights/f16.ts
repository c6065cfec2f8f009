// q8_32 scales are f16 values (models/FORMAT.md §Q), stored as f32 in the files and as their 16
// bits in the kernels' memory (the panels, the down projection's transposed scales): the same
// conversions as kernels.wat's $f16Bits and $f16Value, exact for every f16 value.
import { ModelFileCorruptError, ModelScalesNotF16Error, type EngineError } from '../errors';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The f16 bits of v, an f16 value ≥ 0 (scaling by 2^−112 moves f16's exponents onto f32's lowest,
 *  where bits 13… are the f16 encoding). */
export function f16Bits(v: number): number {
  f32[0] = v * 2 ** -112;
  return u32[0] >>> 13;
}

/** The value of f16 bits h (h < 0x7c00: finite, ≥ 0). */
export function f16Value(h: number): number {
  u32[0] = h << 13;
  return f32[0] * 2 ** 112;
}

/** Whether v is a finite f16 value ≥ 0 (not −0): what a q8_32 scale must be. */
export function isF16Scale(v: number): boolean {
  const h = f16Bits(v);
  return h < 0x7c00 && f16Value(h) === v && !Object.is(v, -0);
}

/** Whether every f32 of bits[from, from + count) (their bit patterns) is a finite f16 value ≥ 0 (isF16Scale, without
 *  a float operation: the loaders check every scale they read, a decoded token's flash reads too).
 *  +0, or a sign bit of 0, an f32 exponent e of f16's range (normal 113…142; 103…112: f16's
 *  subnormals, multiples of 2^−24), and the mantissa bits below f16's precision zero. */
export function allF16Scales(bits: Uint32Array, from = 0, count = bits.length - from): boolean {
  for (let i = from; i < from + count; i++) {
    const b = bits[i];
    if (b === 0) continue;
    const e = b >>> 23; // the sign bit makes it ≥ 256
    if (e < 103 || e > 142 || (b & ((1 << Math.max(13, 126 - e)) - 1)) !== 0) return false;
  }
  return true;
}

/** Why `value`, a finite q8_32 scale that isF16Scale refused, is refused: negative (a corrupt
 *  file), or not an f16 value (a file written before FORMAT.md §Q said so). */
export function scaleError(file: string, where: string, value: number): EngineError {
  return value < 0 || Object.is(value, -0) ? new ModelFileCorruptError(file, `${where} is ${value}, a negative scale`) : new ModelScalesNotF16Error(file, where, value);
}
