// q8_32 (models/FORMAT.md v2 §Q): per block of 32 consecutive values of a row, in f32 arithmetic,
// scale = the f16 value nearest fround(max|w| / 127) (stored as f32), q = roundHalfEven(fround(w /
// scale)) clamped to ±127; a zero scale gives zero quants; a scale past f16's largest value (65504)
// cannot be written. The engine-v2 reader's quantizeQ8 must give the same bytes (to be
// deduplicated at merge).

import { f16Round } from '../../weights/q8';

const f = Math.fround;

/** A weight q8_32 cannot hold (`what`: why), value `index` of the row. */
export class UnquantizableWeightError extends Error {
  constructor(readonly index: number, readonly what: string) {
    super(`${what} at value ${index}`);
  }
}

function roundHalfEven(x: number): number {
  const r = Math.round(x); // ties toward +∞
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Quantizes `cols` values of `src` (from `srcAt`) into `quants` at `qAt` and `cols / 32` scales into
 *  `scales` at `sAt`. Throws UnquantizableWeightError on NaN or ±∞, and on a block whose scale
 *  would exceed f16's largest value (max |w| ≥ 127 · 65520). */
export function quantizeRowQ8(
  src: Float32Array, srcAt: number, cols: number, quants: Int8Array, qAt: number, scales: Float32Array, sAt: number,
): void {
  for (let b = 0; b < cols / 32; b++) {
    const base = srcAt + b * 32;
    let max = 0, largest = base;
    for (let k = 0; k < 32; k++) {
      const w = src[base + k];
      if (!Number.isFinite(w)) throw new UnquantizableWeightError(base + k - srcAt, 'non-finite weight');
      const a = Math.abs(w);
      if (a > max) { max = a; largest = base + k; }
    }
    const scale = f16Round(f(max / 127));
    if (scale === Infinity) throw new UnquantizableWeightError(largest - srcAt, `weight ${src[largest]} too large for 8 bits (|w| must stay under 127 × 65,520: the block's scale is an f16 value)`);
    scales[sAt + b] = scale;
    const out = qAt + b * 32;
    if (scale === 0) {
      quants.fill(0, out, out + 32);
      continue;
    }
    for (let k = 0; k < 32; k++) {
      const q = roundHalfEven(f(src[base + k] / scale));
      quants[out + k] = q > 127 ? 127 : q < -127 ? -127 : q;
    }
  }
}

/** The whole matrix [rows][cols] as q8_32 bytes: quants int8[rows][cols], then scales f32[rows][cols/32]. */
export function quantizeQ8(values: Float32Array, rows: number, cols: number): Uint8Array {
  if (cols % 32 !== 0) throw new RangeError(`q8_32 needs cols % 32 == 0, got ${cols}`);
  const out = new Uint8Array(rows * cols * 9 / 8);
  const quants = new Int8Array(out.buffer, 0, rows * cols);
  const scales = new Float32Array(rows * cols / 32);
  for (let r = 0; r < rows; r++) quantizeRowQ8(values, r * cols, cols, quants, r * cols, scales, r * cols / 32);
  out.set(new Uint8Array(scales.buffer), rows * cols);
  return out;
}
