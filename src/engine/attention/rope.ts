// Rotate-half RoPE (models/FORMAT.md §2), shared by the v1 and v2 attention kernels.

/** Rotate-half RoPE of `heads` heads of hd floats at v[at …], in place: angle i = position · invFreq[i]. */
export function rope(v: Float32Array, at: number, heads: number, hd: number, invFreq: Float32Array, position: number): void {
  const half = hd / 2;
  for (let i = 0; i < half; i++) {
    const angle = Math.fround(position * invFreq[i]);
    const cos = Math.fround(Math.cos(angle)), sin = Math.fround(Math.sin(angle));
    for (let h = 0; h < heads; h++) {
      const a = at + h * hd + i, b = a + half;
      const first = v[a], second = v[b];
      v[a] = first * cos - second * sin;
      v[b] = second * cos + first * sin;
    }
  }
}
