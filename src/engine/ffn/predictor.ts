// The per-layer active-neuron predictor (models/FORMAT.md §4): score = (x·A)·B + bias; neuron j is
// predicted active when score[j] > threshold. Buffers are allocated once per layer.
import type { PredictorLayer } from '../weights/predictorsFile';

export class Predictor {
  private readonly low: Float32Array; //    [rank]
  private readonly scores: Float32Array; // [ffnSize]

  constructor(private readonly p: PredictorLayer, private readonly dModel: number, private readonly ffnSize: number) {
    this.low = new Float32Array(p.rank);
    this.scores = new Float32Array(ffnSize);
  }

  get bytes(): number {
    return (this.p.a.length + this.p.b.length + this.p.bias.length + this.low.length + this.scores.length) * 4;
  }

  /** Sets mark[j] = 1 for every neuron predicted active for x[xAt … xAt + dModel). */
  markActive(x: Float32Array, xAt: number, mark: Uint8Array): void {
    const { a, b, bias, rank, threshold } = this.p;
    const low = this.low.fill(0);
    for (let k = 0; k < this.dModel; k++) {
      const xk = x[xAt + k];
      const row = k * rank;
      for (let r = 0; r < rank; r++) low[r] += xk * a[row + r];
    }
    const scores = this.scores;
    scores.set(bias);
    const n = this.ffnSize;
    for (let r = 0; r < rank; r++) {
      const lr = low[r];
      const row = r * n;
      for (let j = 0; j < n; j++) scores[j] += lr * b[row + j];
    }
    for (let j = 0; j < n; j++) if (scores[j] > threshold) mark[j] = 1;
  }
}
