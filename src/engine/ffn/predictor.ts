// The per-layer active-neuron predictor (models/FORMAT.md §4): score = (x·A)·B + bias; neuron j is
// predicted active when score[j] > threshold. Buffers are allocated once per layer.
import type { PredictorLayer } from '../weights/predictorsFile';
import { KernelArena } from '../wasm/wasmKernels';

export class Predictor {
  private readonly p: PredictorLayer;
  private readonly low: Float32Array; //    [rank]
  private readonly scores: Float32Array; // [ffnSize]
  /** With a kernel arena: the SIMD kernel's addresses of x, A, B, bias, low and scores. */
  private readonly wasm: { arena: KernelArena; x: Float32Array; at: Record<'x' | 'a' | 'b' | 'bias' | 'low' | 'scores', number> } | undefined;

  constructor(p: PredictorLayer, private readonly dModel: number, private readonly ffnSize: number, arena?: KernelArena) {
    if (!arena) {
      this.p = p;
      this.low = new Float32Array(p.rank);
      this.scores = new Float32Array(ffnSize);
      this.wasm = undefined;
      return;
    }
    const put = (src: Float32Array) => { const m = arena.floats(src.length); m.view.set(src); return m; };
    const a = put(p.a), b = put(p.b), bias = put(p.bias);
    const x = arena.floats(dModel), low = arena.floats(p.rank), scores = arena.floats(ffnSize);
    this.p = { ...p, a: a.view, b: b.view, bias: bias.view };
    this.low = low.view;
    this.scores = scores.view;
    this.wasm = { arena, x: x.view, at: { x: x.ptr, a: a.ptr, b: b.ptr, bias: bias.ptr, low: low.ptr, scores: scores.ptr } };
  }

  /** Arena bytes a predictor of this shape takes (KernelArena planning). */
  static arenaBytes(p: PredictorLayer, dModel: number, ffnSize: number): number {
    return [p.a.length, p.b.length, p.bias.length, dModel, p.rank, ffnSize].reduce((n, f) => n + KernelArena.bytesFor(f), 0);
  }

  /** Sets mark[j] = 1 for every neuron predicted active for x[xAt … xAt + dModel). */
  markActive(x: Float32Array, xAt: number, mark: Uint8Array): void {
    if (this.wasm) {
      const { arena, at } = this.wasm;
      this.wasm.x.set(x.subarray(xAt, xAt + this.dModel));
      arena.kernels.predict(at.x, at.a, at.b, at.bias, this.dModel, this.p.rank, this.ffnSize, at.low, at.scores);
    } else {
      this.scoreJs(x, xAt);
    }
    const { threshold } = this.p;
    const scores = this.scores;
    for (let j = 0; j < this.ffnSize; j++) if (scores[j] > threshold) mark[j] = 1;
  }

  private scoreJs(x: Float32Array, xAt: number): void {
    const { a, b, bias, rank } = this.p;
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
  }
}
