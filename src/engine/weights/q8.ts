// The q8_32 encoding (models/FORMAT.md §Q): per block of 32 values of a row, scale =
// f16Round(fround(max|w| / 127)) (an f16 value, stored as f32: llama.cpp's Q8_0 scale) and
// q = roundHalfEven(fround(w / scale)). Bit-exact with the Python writer (np.float32 arithmetic,
// .astype(np.float16), np.rint): a double quotient of two f32 values rounded once to f32 is the
// correctly rounded f32 quotient (53 ≥ 2·24 + 2 bits), so Math.fround(a / b) is f32 division.
// test/golden/weights-q8.bin pins the two together.

const BLOCK = 32;
const Q_MAX = 127;
const F32_MAX = 3.4028234663852886e38;

/** 1.5 · 2^52: adding it leaves no fraction bits, so the f64 sum rounds to an integer in the default
 *  mode, ties to even; subtracting it back is exact. Valid for |x| < 2^51 (here |x| ≤ 191). */
const ROUNDER = 6755399441055744;

/** Nearest integer, ties to even, as np.rint (5× faster than Math.round plus a tie fix-up). */
export function roundHalfEven(x: number): number {
  return (x + ROUNDER) - ROUNDER;
}

/** The f16 value nearest x (ties to even; f16 subnormals included), as a number: a q8_32 scale is
 *  one (models/FORMAT.md §Q). Infinity past f16's largest finite value (65,504). x ≥ 0. */
export function f16Round(x: number): number {
  if (x < 2 ** -14) return roundHalfEven(x * 2 ** 24) / 2 ** 24; // subnormal: multiples of 2^−24
  const step = 2 ** (Math.floor(Math.log2(x)) - 10);
  const r = roundHalfEven(x / step) * step;
  return r > 65504 ? Infinity : r;
}

function checkShape(rows: number, cols: number, values: number): void {
  if (cols % BLOCK !== 0) throw new RangeError(`q8_32 needs columns in blocks of ${BLOCK}, got ${cols}`);
  if (values !== rows * cols) throw new RangeError(`q8_32: ${values} values for [${rows}, ${cols}]`);
}

/** Float32 view of `count` scales at `bytes[at…]`: in place when 4-aligned, else a copy (little-endian,
 *  like every platform Node runs on; int8.ts assumes the same). */
function scalesOf(bytes: Uint8Array, at: number, count: number): Float32Array {
  const offset = bytes.byteOffset + at;
  if (offset % 4 === 0) return new Float32Array(bytes.buffer, offset, count);
  return new Float32Array(bytes.slice(at, at + 4 * count).buffer);
}

/** quantize one row/matrix (bit-exact with the spec): quants int8[rows][cols], then scales f32[rows][cols/32] (little-endian). */
export function quantizeQ8(values: Float32Array, rows: number, cols: number): Uint8Array {
  checkShape(rows, cols, values.length);
  const n = rows * cols;
  const out = new Uint8Array((n * 9) / 8);
  const quants = new Int8Array(out.buffer, 0, n);
  const scales = new Float32Array(out.buffer, n, n / BLOCK); // n is a multiple of 32: aligned
  for (let b = 0; b < n / BLOCK; b++) {
    const at = b * BLOCK;
    let max = 0;
    for (let k = at; k < at + BLOCK; k++) {
      const w = values[k];
      const abs = w < 0 ? -w : w;
      if (!(abs <= F32_MAX)) throw new RangeError(`q8_32 needs finite weights: value ${k} is ${w}`); // NaN fails too
      if (abs > max) max = abs;
    }
    const scale = f16Round(Math.fround(max / Q_MAX));
    if (scale === Infinity) throw new RangeError(`q8_32 scale ${Math.fround(max / Q_MAX)} of block ${b} exceeds f16's largest value 65504 (max |w| ${max}; q8_32 needs max |w| < 127 · 65520)`);
    scales[b] = scale;
    if (scale === 0) continue; // all q = 0 (zeros, or a max that underflows)
    for (let k = at; k < at + BLOCK; k++) {
      const q = roundHalfEven(Math.fround(values[k] / scale));
      quants[k] = q > Q_MAX ? Q_MAX : q < -Q_MAX ? -Q_MAX : q;
    }
  }
  return out;
}

/** value (r, c) = quants[r][c] × scales[r][c/32], rounded once to f32. */
export function dequantizeQ8(bytes: Uint8Array, rows: number, cols: number): Float32Array {
  const n = rows * cols;
  checkShape(rows, cols, n);
  if (bytes.byteLength !== (n * 9) / 8) throw new RangeError(`q8_32 [${rows}, ${cols}] is ${(n * 9) / 8} bytes, got ${bytes.byteLength}`);
  const quants = new Int8Array(bytes.buffer, bytes.byteOffset, n);
  const scales = scalesOf(bytes, n, n / BLOCK);
  const out = new Float32Array(n);
  for (let b = 0; b < n / BLOCK; b++) {
    const scale = scales[b];
    for (let k = b * BLOCK; k < (b + 1) * BLOCK; k++) out[k] = quants[k] * scale;
  }
  return out;
}
