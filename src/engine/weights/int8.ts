// ffn.bin's int8 records (models/FORMAT.md §3, dtype 2): value = q × scale, q a signed byte, scale an
// f32 that may sit at any byte offset. Allocation-free: the flash engine decodes records per token.

const scratch = new Float32Array(1);
const scratchBytes = new Uint8Array(scratch.buffer); // little-endian, like every platform Node runs on

/** The little-endian f32 at `src[at…at+4)`, at any alignment. */
export function readFloat32LE(src: Uint8Array, at: number): number {
  scratchBytes[0] = src[at];
  scratchBytes[1] = src[at + 1];
  scratchBytes[2] = src[at + 2];
  scratchBytes[3] = src[at + 3];
  return scratch[0];
}

/** Decodes `count` signed bytes from `src` at `srcByte` as q × `scale` into `dst` at `dstAt`. The
 *  product is exact in a double (8 × 24 bits); storing it rounds once to f32, as the writer does. */
export function decodeInt8Into(src: Uint8Array, srcByte: number, count: number, scale: number, dst: Float32Array, dstAt: number): void {
  for (let i = 0; i < count; i++) dst[dstAt + i] = ((src[srcByte + i] << 24) >> 24) * scale;
}
