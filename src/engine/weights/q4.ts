// The q4_32 encoding (models/FORMAT.md §Q4): per block of 32 values of a row, 4-bit codes q with
// an f32 scale and an f32 min, value = fround(fround(q × scale) + min). It holds GGUF's Q4_0, Q4_1
// and Q4_K blocks exactly (their f16 scales and mins widen to f32 without loss, Q4_0's offset of
// −8 becomes min = −8·d), and quantizeQ4 writes it from f32 weights bit-exactly with the Python
// writer (np.float32 arithmetic, np.rint). test/golden/weights-q4.bin pins the two together.
import { roundHalfEven } from './q8';

export const Q4_BLOCK = 32;
const Q_MAX = 15;

/** Bytes of a q4_32 [rows][cols]: nibbles rows·cols/2, then scales and mins, 4 bytes per block each. */
export function q4Bytes(rows: number, cols: number): number {
  return (rows * cols * 3) / 4;
}

/** Where the parts of a q4_32 [rows][cols] start, in bytes from the tensor's first byte. */
export function q4Layout(rows: number, cols: number): { scales: number; mins: number } {
  const n = rows * cols;
  return { scales: n / 2, mins: n / 2 + n / 8 };
}

function checkShape(rows: number, cols: number, values: number): void {
  if (cols % Q4_BLOCK !== 0) throw new RangeError(`q4_32 needs columns in blocks of ${Q4_BLOCK}, got ${cols}`);
  if (values !== rows * cols) throw new RangeError(`q4_32: ${values} values for [${rows}, ${cols}]`);
}

/** One block of 32 f32 values at `values[at…]` → 16 nibble bytes at `nibbles[nAt…]` (value k in the
 *  low 4 bits of byte k, value k + 16 in the high 4 bits), its scale and min. */
export function quantizeBlockQ4(values: ArrayLike<number>, at: number, nibbles: Uint8Array, nAt: number): { scale: number; min: number } {
  let min = Infinity, max = -Infinity;
  for (let k = at; k < at + Q4_BLOCK; k++) {
    const w = values[k];
    if (!Number.isFinite(w)) throw new RangeError(`q4_32 needs finite weights: value ${k} is ${w}`);
    if (w < min) min = w;
    if (w > max) max = w;
  }
  const range = Math.fround(max - min);
  if (!Number.isFinite(range)) throw new RangeError(`q4_32: the block at value ${at} spans more than f32 can hold (${min} … ${max})`);
  const scale = Math.fround(range / Q_MAX);
  const q = (k: number) => {
    if (scale === 0) return 0;
    const v = roundHalfEven(Math.fround(Math.fround(values[at + k] - min) / scale));
    return v > Q_MAX ? Q_MAX : v < 0 ? 0 : v;
  };
  for (let k = 0; k < 16; k++) nibbles[nAt + k] = q(k) | (q(k + 16) << 4);
  return { scale, min: Math.fround(min) };
}

/** A [rows][cols] f32 matrix as q4_32 bytes: nibbles u8[rows][cols/2], scales f32[rows][cols/32], mins f32[rows][cols/32]. */
export function quantizeQ4(values: Float32Array, rows: number, cols: number): Uint8Array {
  checkShape(rows, cols, values.length);
  const n = rows * cols;
  const out = new Uint8Array(q4Bytes(rows, cols));
  const { scales: sAt, mins: mAt } = q4Layout(rows, cols);
  const scales = new Float32Array(out.buffer, sAt, n / Q4_BLOCK); // n/2 is a multiple of 16: aligned
  const mins = new Float32Array(out.buffer, mAt, n / Q4_BLOCK);
  for (let b = 0; b < n / Q4_BLOCK; b++) {
    const { scale, min } = quantizeBlockQ4(values, b * Q4_BLOCK, out, b * 16);
    scales[b] = scale;
    mins[b] = min;
  }
  return out;
}

/** value (r, c) = fround(fround(q × scale) + min) of its block. */
export function dequantizeQ4(bytes: Uint8Array, rows: number, cols: number): Float32Array {
  const n = rows * cols;
  checkShape(rows, cols, n);
  if (bytes.byteLength !== q4Bytes(rows, cols)) throw new RangeError(`q4_32 [${rows}, ${cols}] is ${q4Bytes(rows, cols)} bytes, got ${bytes.byteLength}`);
  const copy = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const { scales: sAt, mins: mAt } = q4Layout(rows, cols);
  const scales = new Float32Array(copy.buffer, copy.byteOffset + sAt, n / Q4_BLOCK);
  const mins = new Float32Array(copy.buffer, copy.byteOffset + mAt, n / Q4_BLOCK);
  const out = new Float32Array(n);
  for (let b = 0; b < n / Q4_BLOCK; b++) dequantizeBlockQ4(copy, b * 16, scales[b], mins[b], out, b * Q4_BLOCK);
  return out;
}

/** The 32 values of one block (16 nibble bytes at `nibbles[at…]`) into out[outAt…]. */
export function dequantizeBlockQ4(nibbles: Uint8Array, at: number, scale: number, min: number, out: Float32Array, outAt: number): void {
  for (let k = 0; k < 16; k++) {
    const byte = nibbles[at + k];
    out[outAt + k] = Math.fround(Math.fround((byte & 15) * scale) + min);
    out[outAt + k + 16] = Math.fround(Math.fround((byte >> 4) * scale) + min);
  }
}
