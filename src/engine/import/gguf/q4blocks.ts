// GGUF blocks that q4_32 (models/FORMAT.md §Q4) holds exactly: Q4_0, Q4_1 and Q4_K, re-laid as
// q4_32 blocks of 32 (16 nibble bytes with value k low and k + 16 high, an f32 scale, an f32 min)
// without touching a value. Each block's q4_32 value fround(fround(q·scale) + min) is what
// dequant.ts (llama.cpp's dequantize_row_*) computes for it, bit for bit:
//   Q4_0: (q − 8)·d = q·d + (−8·d), every product exact (4 × 11 bits), so the sum is too;
//   Q4_1: q·d + m, the same two roundings;
//   Q4_K: sub-block j has scale d·sc_j and min −dmin·m_j, rounded to f32 as llama.cpp does, and
//         its 32 codes are the low (or high) nibbles of 32 bytes, repacked.
import { halfToFloat } from '../../weights/float16';

/** Writes `n` values (a whole number of the type's blocks) of one GGUF row at `src[at…]` as q4_32:
 *  n/2 nibble bytes at nibbles[nAt…], n/32 scales and mins at scales[sAt…], mins[sAt…]. */
export type Q4Repacker = (src: Uint8Array, at: number, n: number, nibbles: Uint8Array, nAt: number, scales: Float32Array, mins: Float32Array, sAt: number) => void;

const f = Math.fround;
const u16 = (src: Uint8Array, at: number) => src[at] | (src[at + 1] << 8);

// block_q4_0: f16 d, u8 qs[16] (value k low, k + 16 high: already q4_32's order)
function q4_0(src: Uint8Array, at: number, n: number, nibbles: Uint8Array, nAt: number, scales: Float32Array, mins: Float32Array, sAt: number): void {
  for (let b = 0; b < n / 32; b++, at += 18) {
    const d = halfToFloat(u16(src, at));
    scales[sAt + b] = d;
    mins[sAt + b] = f(-8 * d);
    nibbles.set(src.subarray(at + 2, at + 18), nAt + 16 * b);
  }
}

// block_q4_1: f16 d, f16 m, u8 qs[16]
function q4_1(src: Uint8Array, at: number, n: number, nibbles: Uint8Array, nAt: number, scales: Float32Array, mins: Float32Array, sAt: number): void {
  for (let b = 0; b < n / 32; b++, at += 20) {
    scales[sAt + b] = halfToFloat(u16(src, at));
    mins[sAt + b] = halfToFloat(u16(src, at + 2));
    nibbles.set(src.subarray(at + 4, at + 20), nAt + 16 * b);
  }
}

/** get_scale_min_k4: the 6-bit scale and min of sub-block j from the 12 packed bytes at `s`. */
function scaleMinK4(src: Uint8Array, s: number, j: number): [number, number] {
  if (j < 4) return [src[s + j] & 63, src[s + j + 4] & 63];
  return [(src[s + j + 4] & 0xf) | ((src[s + j - 4] >> 6) << 4), (src[s + j + 4] >> 4) | ((src[s + j] >> 6) << 4)];
}

// block_q4_K: f16 d, f16 dmin, u8 scales[12], u8 qs[128]; per 64 values, 32 bytes whose low nibbles
// are sub-block 2i and high nibbles sub-block 2i + 1
function q4_K(src: Uint8Array, at: number, n: number, nibbles: Uint8Array, nAt: number, scales: Float32Array, mins: Float32Array, sAt: number): void {
  let sub = 0;
  for (let b = 0; b < n / 256; b++, at += 144) {
    const d = halfToFloat(u16(src, at));
    const dmin = halfToFloat(u16(src, at + 2));
    for (let j = 0; j < 8; j++, sub++) {
      const [sc, m] = scaleMinK4(src, at + 4, j);
      scales[sAt + sub] = f(d * sc);
      mins[sAt + sub] = -f(dmin * m);
      const q = at + 16 + 32 * (j >> 1);
      const shift = (j & 1) * 4;
      for (let k = 0; k < 16; k++) {
        nibbles[nAt + 16 * sub + k] = ((src[q + k] >> shift) & 15) | (((src[q + k + 16] >> shift) & 15) << 4);
      }
    }
  }
}

/** The GGUF types q4_32 holds exactly, by ggml type code. */
export const Q4_REPACKERS: ReadonlyMap<number, Q4Repacker> = new Map([[2, q4_0], [3, q4_1], [12, q4_K]]);
