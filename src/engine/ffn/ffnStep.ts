// The FFN seam. The dense step below feeds every neuron's weights to the shared FFN graph; the
// sparse flash path (predictor + neuron cache) implements the same interface with K < ffnSize.
import type { Graph, TensorIn } from '../backend/ort';
import type { FfnLayerWeights } from '../weights/ffnFile';

export interface FfnStep {
  /** x: [tokens][dModel] f32, the normalized FFN input → [tokens][dModel] f32 (no residual). */
  forward(layer: number, x: Float32Array, tokens: number): Promise<Float32Array>;
}

export class DenseFfn implements FfnStep {
  constructor(
    private readonly graph: Graph,
    private readonly layers: readonly FfnLayerWeights[],
    private readonly dModel: number,
    private readonly ffnSize: number,
  ) {}

  async forward(layer: number, x: Float32Array, tokens: number): Promise<Float32Array> {
    const w = this.layers[layer];
    const dims = [this.ffnSize, this.dModel];
    const feeds: Record<string, TensorIn> = {
      x: { type: 'float32', data: x, dims: [tokens, this.dModel] },
      w_up: { type: 'float32', data: w.up, dims },
      w_down: { type: 'float32', data: w.down, dims },
    };
    if (w.gate) feeds.w_gate = { type: 'float32', data: w.gate, dims };
    return (await this.graph.run(feeds)).y.data;
  }
}
