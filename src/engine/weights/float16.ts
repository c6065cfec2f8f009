/** IEEE-754 half → single precision of one value. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** IEEE-754 half → single precision, element-wise. */
export function float16ToFloat32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = halfToFloat(src[i]);
  return out;
}

let table: Float32Array | undefined; // [65536]: every half's value, built on first use (256 KiB)

/** Decodes `count` halves from `src` (little-endian bytes at `srcByte`) into `dst` at `dstAt`,
 *  without allocating: the flash engine's per-token record loads. */
export function decodeFloat16Into(src: Uint8Array, srcByte: number, count: number, dst: Float32Array, dstAt: number): void {
  if (!table) {
    table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = halfToFloat(h);
  }
  for (let i = 0, b = srcByte; i < count; i++, b += 2) dst[dstAt + i] = table[src[b] | (src[b + 1] << 8)];
}

/** Decodes `count` little-endian f32 values from `src` at `srcByte` into `dst` at `dstAt`. */
export function decodeFloat32Into(src: Uint8Array, srcByte: number, count: number, dst: Float32Array, dstAt: number): void {
  const view = new DataView(src.buffer, src.byteOffset + srcByte, count * 4);
  for (let i = 0; i < count; i++) dst[dstAt + i] = view.getFloat32(i * 4, true);
}
