// RMSNorm, as the graphs compute it (models/FORMAT.md §2), for the kernels that run outside them.

/** out[outAt …] = x / sqrt(mean(x²) + eps) · weight over the d floats at x[xAt …]. */
export function rmsNorm(x: Float32Array, xAt: number, weight: Float32Array, eps: number, out: Float32Array, outAt: number, d: number): void {
  let sum = 0;
  for (let i = 0; i < d; i++) sum += x[xAt + i] * x[xAt + i];
  const inv = 1 / Math.sqrt(sum / d + eps);
  for (let i = 0; i < d; i++) out[outAt + i] = x[xAt + i] * inv * weight[i];
}
