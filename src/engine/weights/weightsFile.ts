// TEMPORARY (engine branch): the q8_32 quantizer of models/FORMAT.md §Q until the format branch's
// weightsFile.ts (same API) lands.
export function quantizeQ8(values: Float32Array, rows: number, cols: number): Uint8Array {
  const out = new Uint8Array(rows * cols + (rows * cols) / 8);
  const q = new Int8Array(out.buffer, 0, rows * cols);
  const scales = new DataView(out.buffer, rows * cols);
  for (let b = 0; b < (rows * cols) / 32; b++) {
    let max = 0;
    for (let i = 0; i < 32; i++) max = Math.max(max, Math.abs(values[b * 32 + i]));
    const scale = Math.fround(max / 127);
    scales.setFloat32(b * 4, scale, true);
    for (let i = 0; i < 32; i++) {
      if (scale === 0) continue;
      const v = Math.fround(values[b * 32 + i] / scale);
      let r = Math.round(v);
      if (r - v === 0.5 && r % 2 !== 0) r -= 1;
      q[b * 32 + i] = Math.max(-127, Math.min(127, r));
    }
  }
  return out;
}
