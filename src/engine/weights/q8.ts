// The q8_32 encoding (models/FORMAT.md §Q): per block of 32 values of a row, scale =
// fround(max|w| / 127) and q = roundHalfEven(fround(w / scale)). Bit-exact with the Python writer
// (np.float32 arithmetic, np.rint): a double quotient of two f32 values rounded once to f32 is the
// correctly rounded f32 quotient (53 ≥ 2·24 + 2 bits), so Math.fround(a / b) is f32 division.
// test/golden/weights-q8.bin pins the two together.

const BLOCK = 32;
const Q_MAX = 127;

/** Nearest integer, ties to even, as np.rint. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // ties toward +∞
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function checkShape(rows: number, cols: number, values: number): void {
  if (cols % BLOCK !== 0) throw new RangeError(`q8_32 needs columns in blocks of ${BLOCK}, got ${cols}`);
  if (values !== rows * cols) throw new RangeError(`q8_32: ${values} values for [${rows}, ${cols}]`);
}

/** quantize one row/matrix (bit-exact with the spec): quants int8[rows][cols], then scales f32[rows][cols/32] (little-endian). */
export function quantizeQ8(values: Float32Array, rows: number, cols: number): Uint8Array {
  checkShape(rows, cols, values.length);
  const n = rows * cols;
  const out = new Uint8Array((n * 9) / 8);
  const quants = new Int8Array(out.buffer, 0, n);
  const scales = new DataView(out.buffer, n);
  for (let b = 0; b < n / BLOCK; b++) {
    const at = b * BLOCK;
    let max = 0;
    for (let k = 0; k < BLOCK; k++) {
      const w = values[at + k];
      if (!Number.isFinite(w)) throw new RangeError(`q8_32 needs finite weights: value ${at + k} is ${w}`);
      max = Math.max(max, Math.abs(w));
    }
    const scale = Math.fround(max / Q_MAX);
    scales.setFloat32(4 * b, scale, true);
    if (scale === 0) continue; // all q = 0 (zeros, or a max that underflows)
    for (let k = 0; k < BLOCK; k++) {
      const q = roundHalfEven(Math.fround(values[at + k] / scale));
      quants[at + k] = Math.max(-Q_MAX, Math.min(Q_MAX, q));
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
  const scales = new DataView(bytes.buffer, bytes.byteOffset + n, n / 8);
  const out = new Float32Array(n);
  for (let b = 0; b < n / BLOCK; b++) {
    const scale = scales.getFloat32(4 * b, true);
    for (let k = b * BLOCK; k < (b + 1) * BLOCK; k++) out[k] = quants[k] * scale;
  }
  return out;
}
