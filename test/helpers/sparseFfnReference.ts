// The reference for the sparse FFN kernel (kernels.wat ffnRows), in plain JavaScript: the FFN of one token over a list of resident neurons, reading the neuron rows in place:
// y += Σ_s act(gate_s · x) (up_s · x) down_s (gated) or y += Σ_s act(up_s · x) down_s. A listed
// neuron whose gate comes out ≤ 0 contributes nothing, exactly as in the dense FFN, so a false
// positive of the predictor costs one dot product and never accuracy.
import type { NeuronRows } from '../../src/engine/ffn/neuronCache';

export type Activation = 'relu' | 'squared_relu';

function dot(w: Float32Array, wAt: number, x: Float32Array, xAt: number, d: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let k = 0;
  for (; k + 3 < d; k += 4) {
    s0 += w[wAt + k] * x[xAt + k];
    s1 += w[wAt + k + 1] * x[xAt + k + 1];
    s2 += w[wAt + k + 2] * x[xAt + k + 2];
    s3 += w[wAt + k + 3] * x[xAt + k + 3];
  }
  for (; k < d; k++) s0 += w[wAt + k] * x[xAt + k];
  return s0 + s1 + s2 + s3;
}

/** Adds the FFN output of x[xAt … xAt + d) over rows `slots[0…n)` to y[yAt …]. Returns how many
 *  of those neurons were truly non-zero. */
export function sparseFfnRow(
  rows: NeuronRows, slots: Int32Array, n: number, activation: Activation, d: number,
  x: Float32Array, xAt: number, y: Float32Array, yAt: number,
): number {
  let nonZero = 0;
  for (let i = 0; i < n; i++) {
    const at = slots[i] * d;
    let h: number;
    if (rows.gate) {
      const g = dot(rows.gate, at, x, xAt, d);
      if (g <= 0) continue;
      h = (activation === 'relu' ? g : g * g) * dot(rows.up, at, x, xAt, d);
    } else {
      const u = dot(rows.up, at, x, xAt, d);
      if (u <= 0) continue;
      h = activation === 'relu' ? u : u * u;
    }
    nonZero++;
    const down = rows.down;
    for (let k = 0; k < d; k++) y[yAt + k] += h * down[at + k];
  }
  return nonZero;
}
