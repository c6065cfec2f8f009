// The predictors' recall, measured online (bench/flash.ts): on every sparse row, the neurons truly
// active (gate, or up for ungated FFNs, > 0 over every neuron of the layer: from the resident rows,
// or streamed from ffn.bin when the layer is not resident) against those the predictor marked.
// It watches the sparse step as its observer (`flash.step.observer = recall.observe`), so the
// decoding it measures is unchanged.
import type { FlashFfn } from '../src/engine/ffn/loadFlash';
import type { NeuronRows } from '../src/engine/ffn/neuronCache';

export interface LayerRecall {
  trueActive: number;
  found: number;
}

export class FlashRecall {
  readonly layers: LayerRecall[];
  /** Bytes read only to check recall (not part of decoding's cost). */
  bytesRead = 0;
  private readonly truth: Uint8Array; // [ffnSize]

  constructor(private readonly flash: FlashFfn, private readonly dModel: number, private readonly ffnSize: number) {
    this.layers = flash.caches.map(() => ({ trueActive: 0, found: 0 }));
    this.truth = new Uint8Array(ffnSize);
  }

  /** found / trueActive of one layer (1 when nothing was active). */
  recall(layer: number): number {
    const r = this.layers[layer];
    return r.found / Math.max(1, r.trueActive);
  }

  /** One sparse call's rows: x [tokens][dModel], predicted [ffnSize] 1 = marked (undefined: all). */
  readonly observe = async (layer: number, x: Float32Array, tokens: number, predicted: Uint8Array | undefined): Promise<void> => {
    for (let t = 0; t < tokens; t++) {
      const truth = this.truth.fill(0);
      await this.markTrulyActive(layer, x, t * this.dModel, truth);
      const r = this.layers[layer];
      for (let j = 0; j < this.ffnSize; j++) {
        if (!truth[j]) continue;
        r.trueActive++;
        if (!predicted || predicted[j]) r.found++;
      }
    }
  };

  private async markTrulyActive(layer: number, x: Float32Array, xAt: number, truth: Uint8Array): Promise<void> {
    const d = this.dModel;
    const mark = (rows: NeuronRows, row: number, id: number) => {
      const w = rows.gate ?? rows.up;
      let g = 0;
      for (let k = 0; k < d; k++) g += w[row * d + k] * x[xAt + k];
      if (g > 0) truth[id] = 1;
    };
    const cache = this.flash.caches[layer];
    if (cache.full) {
      for (let j = 0; j < this.ffnSize; j++) mark(cache, cache.slotOf[j], j);
      return;
    }
    const counters = { bytesRead: 0, reads: 0, neuronsRead: 0 };
    await this.flash.dense.eachChunk(layer, counters, (rows, first, count) => {
      for (let i = 0; i < count; i++) mark(rows, i, first + i);
    });
    this.bytesRead += counters.bytesRead;
  }
}
