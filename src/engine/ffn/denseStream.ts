// The FFN of a long call (prefill): every neuron, on the FFN graph. Over the resident layer, or,
// when the layer is not resident, streamed from ffn.bin chunk by chunk through the chunk rows.
import type { Graph, TensorIn } from '../backend/ort';
import type { Architecture } from '../manifest';
import type { FlashStats } from './flashStats';
import type { FfnStep } from './ffnStep';
import type { NeuronCache, NeuronRows } from './neuronCache';
import type { RecordReader } from './recordReader';

export class DenseStreamFfn implements FfnStep {
  constructor(
    private readonly arch: Architecture,
    private readonly graph: Graph,
    private readonly caches: readonly NeuronCache[],
    private readonly reader: RecordReader,
    /** [chunkNeurons] rows; undefined when every layer is resident. */
    private readonly chunk: NeuronCache | undefined,
    private readonly chunkNeurons: number,
    private readonly stats: FlashStats,
  ) {}

  async forward(layer: number, x: Float32Array, tokens: number): Promise<Float32Array> {
    this.stats.denseCalls += layer === 0 ? 1 : 0;
    const cache = this.caches[layer];
    if (cache.full) return this.runGraph(cache, this.arch.ffnSize, x, tokens);
    const y = new Float32Array(tokens * this.arch.dModel);
    await this.eachChunk(layer, this.stats, async (rows, _first, count) => {
      const part = await this.runGraph(rows, count, x, tokens);
      for (let i = 0; i < y.length; i++) y[i] += part[i];
    });
    return y;
  }

  /** Every neuron of a non-resident layer, chunk by chunk through the chunk rows. */
  async eachChunk(
    layer: number, counters: { bytesRead: number; reads: number; neuronsRead: number },
    each: (rows: NeuronRows, first: number, count: number) => void | Promise<void>,
  ): Promise<void> {
    const rows = this.chunk!;
    const size = this.chunkNeurons;
    for (let first = 0; first < this.arch.ffnSize; first += size) {
      const count = Math.min(size, this.arch.ffnSize - first);
      await this.reader.readRange(layer, first, count, rows, counters);
      await each(rows, first, count);
    }
  }

  /** The FFN graph over the first `neurons` rows. */
  private async runGraph(rows: NeuronRows, neurons: number, x: Float32Array, tokens: number): Promise<Float32Array> {
    const d = this.arch.dModel;
    const dims = [neurons, d];
    const part = (a: Float32Array) => (a.length === neurons * d ? a : a.subarray(0, neurons * d));
    const feeds: Record<string, TensorIn> = {
      x: { type: 'float32', data: x, dims: [tokens, d] },
      w_up: { type: 'float32', data: part(rows.up), dims },
      w_down: { type: 'float32', data: part(rows.down), dims },
    };
    if (rows.gate) feeds.w_gate = { type: 'float32', data: part(rows.gate), dims };
    return (await this.graph.run(feeds)).y.data;
  }
}
