// Plain-JavaScript references the kernel tests share: a seeded generator, and the 16-bit
// activation quantization the kernels' quantizeI16 computes (round half to even of x·32767/max per
// block of 32), so each test can check a kernel's integer sums exactly.

export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
}

export function quantizeActivations(x: Float32Array): { q: Int16Array; s: Float32Array } {
  const q = new Int16Array(x.length), s = new Float32Array(x.length / 32);
  for (let b = 0; b < s.length; b++) {
    let max = 0;
    for (let i = 0; i < 32; i++) max = Math.max(max, Math.abs(x[b * 32 + i]));
    s[b] = Math.fround(max / 32767);
    const inv = max > 0 ? Math.fround(32767 / max) : 0;
    for (let i = 0; i < 32; i++) {
      const v = Math.fround(x[b * 32 + i] * inv);
      let r = Math.round(v);
      if (r - v === 0.5 && r % 2 !== 0) r -= 1;
      q[b * 32 + i] = r;
    }
  }
  return { q, s };
}
