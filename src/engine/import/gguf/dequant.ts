// Dequantization of one row of a ggml tensor to f32, for the block layouts of llama.cpp's
// ggml-quants.c (dequantize_row_*). Arithmetic follows the reference in f32 (Math.fround at each
// step the C code rounds), so results match it to the last bit except where a C compiler fuses a
// multiply-add.
const f = Math.fround;

let halfTable: Float32Array | undefined; // [65536] every f16's value, built on first use

function halfToFloat(h: number): number {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    const dst = new Uint32Array(halfTable.buffer);
    for (let x = 0; x < 65536; x++) {
      const sign = (x & 0x8000) << 16, exp = (x >> 10) & 0x1f, frac = x & 0x3ff;
      if (exp === 0) halfTable[x] = (x & 0x8000 ? -1 : 1) * frac * 2 ** -24;
      else if (exp === 31) dst[x] = sign | 0x7f800000 | (frac << 13);
      else dst[x] = sign | ((exp + 112) << 23) | (frac << 13);
    }
  }
  return halfTable[h];
}

/** Decodes `n` values (a multiple of the type's block size) from `src` starting at byte `at`. */
export type RowDequantizer = (src: Uint8Array, at: number, out: Float32Array, n: number) => void;

function view(src: Uint8Array): DataView {
  return new DataView(src.buffer, src.byteOffset, src.byteLength);
}

function f32Row(src: Uint8Array, at: number, out: Float32Array, n: number): void {
  const v = view(src);
  for (let i = 0; i < n; i++) out[i] = v.getFloat32(at + 4 * i, true);
}

function f16Row(src: Uint8Array, at: number, out: Float32Array, n: number): void {
  const v = view(src);
  for (let i = 0; i < n; i++) out[i] = halfToFloat(v.getUint16(at + 2 * i, true));
}

function bf16Row(src: Uint8Array, at: number, out: Float32Array, n: number): void {
  const v = view(src);
  const bits = new Uint32Array(1);
  const asFloat = new Float32Array(bits.buffer);
  for (let i = 0; i < n; i++) {
    bits[0] = v.getUint16(at + 2 * i, true) << 16;
    out[i] = asFloat[0];
  }
}

// block_q8_0: f16 d, int8 qs[32]
function q8_0Row(src: Uint8Array, at: number, out: Float32Array, n: number): void {
  const v = view(src);
  for (let b = 0; b < n / 32; b++, at += 34) {
    const d = halfToFloat(v.getUint16(at, true));
    for (let j = 0; j < 32; j++) out[b * 32 + j] = f(d * v.getInt8(at + 2 + j));
  }
}

// block_q4_0: f16 d, u8 qs[16]; low nibbles are values 0–15, high nibbles 16–31, both offset by 8
function q4_0Row(src: Uint8Array, at: number, out: Float32Array, n: number): void {
  const v = view(src);
  for (let b = 0; b < n / 32; b++, at += 18) {
    const d = halfToFloat(v.getUint16(at, true));
    for (let j = 0; j < 16; j++) {
      const q = src[at + 2 + j];
      out[b * 32 + j] = f(((q & 0xf) - 8) * d);
      out[b * 32 + j + 16] = f(((q >> 4) - 8) * d);
    }
  }
}

// block_q4_1: f16 d, f16 m, u8 qs[16]; value = q·d + m
function q4_1Row(src: Uint8Array, at: number, out: Float32Array, n: number): void {
  const v = view(src);
  for (let b = 0; b < n / 32; b++, at += 20) {
    const d = halfToFloat(v.getUint16(at, true));
    const m = halfToFloat(v.getUint16(at + 2, true));
    for (let j = 0; j < 16; j++) {
      const q = src[at + 4 + j];
      out[b * 32 + j] = f(f((q & 0xf) * d) + m);
      out[b * 32 + j + 16] = f(f((q >> 4) * d) + m);
    }
  }
}

/** get_scale_min_k4: the 6-bit scale and min of sub-block j from the 12 packed bytes at `s`. */
function scaleMinK4(src: Uint8Array, s: number, j: number): [number, number] {
  if (j < 4) return [src[s + j] & 63, src[s + j + 4] & 63];
  return [(src[s + j + 4] & 0xf) | ((src[s + j - 4] >> 6) << 4), (src[s + j + 4] >> 4) | ((src[s + j] >> 6) << 4)];
}

// block_q4_K: f16 d, f16 dmin, u8 scales[12], u8 qs[128]; 8 sub-blocks of 32
function q4_KRow(src: Uint8Array, at: number, out: Float32Array, n: number): void {
  const v = view(src);
  let y = 0;
  for (let b = 0; b < n / 256; b++, at += 144) {
    const d = halfToFloat(v.getUint16(at, true));
    const min = halfToFloat(v.getUint16(at + 2, true));
    let q = at + 16;
    for (let is = 0; is < 8; is += 2, q += 32) {
      const [sc1, m1] = scaleMinK4(src, at + 4, is);
      const [sc2, m2] = scaleMinK4(src, at + 4, is + 1);
      const d1 = f(d * sc1), dm1 = f(min * m1), d2 = f(d * sc2), dm2 = f(min * m2);
      for (let l = 0; l < 32; l++) out[y++] = f(f(d1 * (src[q + l] & 0xf)) - dm1);
      for (let l = 0; l < 32; l++) out[y++] = f(f(d2 * (src[q + l] >> 4)) - dm2);
    }
  }
}

// block_q5_K: f16 d, f16 dmin, u8 scales[12], u8 qh[32], u8 qs[128]; the 5th bit from qh
function q5_KRow(src: Uint8Array, at: number, out: Float32Array, n: number): void {
  const v = view(src);
  let y = 0;
  for (let b = 0; b < n / 256; b++, at += 176) {
    const d = halfToFloat(v.getUint16(at, true));
    const min = halfToFloat(v.getUint16(at + 2, true));
    const qh = at + 16;
    let ql = at + 48;
    let u1 = 1, u2 = 2;
    for (let is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
      const [sc1, m1] = scaleMinK4(src, at + 4, is);
      const [sc2, m2] = scaleMinK4(src, at + 4, is + 1);
      const d1 = f(d * sc1), dm1 = f(min * m1), d2 = f(d * sc2), dm2 = f(min * m2);
      for (let l = 0; l < 32; l++) out[y++] = f(f(d1 * ((src[ql + l] & 0xf) + (src[qh + l] & u1 ? 16 : 0))) - dm1);
      for (let l = 0; l < 32; l++) out[y++] = f(f(d2 * ((src[ql + l] >> 4) + (src[qh + l] & u2 ? 16 : 0))) - dm2);
    }
  }
}

// block_q6_K: u8 ql[128], u8 qh[64], int8 scales[16], f16 d; two halves of 128 values
function q6_KRow(src: Uint8Array, at: number, out: Float32Array, n: number): void {
  const v = view(src);
  let y = 0;
  for (let b = 0; b < n / 256; b++, at += 210) {
    const d = halfToFloat(v.getUint16(at + 208, true));
    for (let half = 0; half < 2; half++, y += 128) {
      const ql = at + 64 * half, qh = at + 128 + 32 * half, sc = at + 192 + 8 * half;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = src[qh + l];
        const q1 = ((src[ql + l] & 0xf) | ((h & 3) << 4)) - 32;
        const q2 = ((src[ql + l + 32] & 0xf) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((src[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((src[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
        out[y + l] = f(f(d * v.getInt8(sc + is)) * q1);
        out[y + l + 32] = f(f(d * v.getInt8(sc + is + 2)) * q2);
        out[y + l + 64] = f(f(d * v.getInt8(sc + is + 4)) * q3);
        out[y + l + 96] = f(f(d * v.getInt8(sc + is + 6)) * q4);
      }
    }
  }
}

/** The types this importer converts, by ggml type code. */
export const DEQUANTIZERS: ReadonlyMap<number, RowDequantizer> = new Map([
  [0, f32Row], [1, f16Row], [30, bf16Row], [8, q8_0Row], [2, q4_0Row], [3, q4_1Row],
  [12, q4_KRow], [13, q5_KRow], [14, q6_KRow],
]);
