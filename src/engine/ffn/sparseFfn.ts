// The flash FFN step. A call of a few tokens (decode, speculative verification) is sparse:
// predictor → neuron cache (window eviction, then a coalesced read of the missing records) → the
// sparse kernel over the predicted neurons. A longer call (prefill) is dense: over the resident
// layer, or streamed from ffn.bin in chunks when the layer is not resident.
import type { Graph, TensorIn } from '../backend/ort';
import type { Architecture } from '../manifest';
import type { FlashStats } from './flashStats';
import type { FfnStep } from './ffnStep';
import { allocateRows, type NeuronCache, type NeuronRows } from './neuronCache';
import type { Predictor } from './predictor';
import type { RecordReader } from './recordReader';
import { sparseFfnRow } from './sparseKernel';
import type { KernelArena } from './wasmKernels';

export type SparseKernel = 'wasm' | 'js' | 'ort';

export interface SparseFfnOptions {
  /** Neurons used in the last `windowTokens` tokens stay resident (partial residency only). */
  windowTokens: number;
  /** Calls of more tokens than this run densely. */
  maxSparseTokens: number;
  /** Every neuron active (the control: must equal the dense FFN). */
  forceAllActive: boolean;
  /** Check the predictor against the true activations on every Nth sparse row; 0 = never. */
  recallSampleEvery: number;
  /** Rows of one dense prefill chunk when a layer is not resident. */
  prefillChunkNeurons: number;
  /** 'wasm': WebAssembly SIMD reads the cache's rows in place (kernels.wat); 'js': the same in
   *  JavaScript; 'ort': the predicted rows are gathered and fed to the FFN graph (ONNX Runtime
   *  copies them into its heap each run). Compared by `npm run bench -- --kernel …`. */
  kernel: SparseKernel;
}

export class SparseFfn implements FfnStep {
  private step = 0;
  private sampleCountdown: number;
  private readonly mark: Uint8Array; //   [ffnSize] 1 = needed this call
  private readonly ids: Int32Array; //    [ffnSize] needed neuron ids, ascending
  private readonly missing: Int32Array; // [ffnSize]
  private readonly slots: Int32Array; //  [ffnSize] (in the kernel arena for 'wasm')
  /** 'wasm': the rows of x and y in the kernel arena, [maxSparseTokens][dModel] each, and their addresses. */
  private readonly wasm: { arena: KernelArena; x: Float32Array; y: Float32Array; at: { x: number; y: number; slots: number } } | undefined;
  private readonly chunk: NeuronRows | undefined; // [prefillChunkNeurons][dModel] when not resident
  private readonly truth: Uint8Array; //  [ffnSize] recall sampling
  private gathered: NeuronRows | undefined;
  private currentLayer = 0; // [ffnSize][dModel], the 'ort' kernel's feed

  constructor(
    private readonly arch: Architecture,
    private readonly graph: Graph,
    private readonly caches: readonly NeuronCache[],
    private readonly predictors: readonly Predictor[],
    private readonly reader: RecordReader,
    private readonly options: SparseFfnOptions,
    readonly stats: FlashStats,
    arena?: KernelArena,
  ) {
    const n = arch.ffnSize;
    this.mark = new Uint8Array(n);
    this.truth = new Uint8Array(n);
    this.ids = new Int32Array(n);
    this.missing = new Int32Array(n);
    if (options.kernel === 'wasm') {
      if (!arena) throw new Error('the wasm kernel needs a kernel arena');
      const rows = options.maxSparseTokens * arch.dModel;
      const x = arena.floats(rows), y = arena.floats(rows), slots = arena.ints(n);
      this.slots = slots.view;
      this.wasm = { arena, x: x.view, y: y.view, at: { x: x.ptr, y: y.ptr, slots: slots.ptr } };
    } else {
      this.slots = new Int32Array(n);
      this.wasm = undefined;
    }
    this.chunk = caches.every((c) => c.full) ? undefined : allocateRows(options.prefillChunkNeurons, arch.dModel, arch.ffnGated);
    this.sampleCountdown = options.recallSampleEvery;
  }

  async forward(layer: number, x: Float32Array, tokens: number): Promise<Float32Array> {
    if (tokens > this.options.maxSparseTokens) return this.dense(layer, x, tokens);
    if (layer === 0) this.step++;
    const d = this.arch.dModel;
    const cache = this.caches[layer];
    const s = this.stats.layers[layer];
    this.currentLayer = layer;
    const n = this.needed(layer, x, tokens);
    // Rows whose neurons together outgrow the cache run densely: exact, never a neuron left out.
    if (n > cache.capacity) {
      s.overflowCalls++;
      return this.dense(layer, x, tokens);
    }
    s.tokens += tokens;
    s.predicted += n * tokens;
    s.hits += cache.touch(this.ids, n, this.step);
    if (!cache.full) await this.loadMissing(layer, n);

    let k = 0;
    for (let i = 0; i < n; i++) if (cache.slotOf[this.ids[i]] >= 0) this.slots[k++] = cache.slotOf[this.ids[i]];
    let y: Float32Array;
    if (this.options.kernel === 'ort') {
      y = await this.gatheredGraph(cache, k, x, tokens);
    } else if (this.wasm) {
      y = this.wasmRows(cache, k, x, tokens);
    } else {
      y = new Float32Array(tokens * d);
      for (let t = 0; t < tokens; t++) s.nonZero += sparseFfnRow(cache, this.slots, k, this.arch.ffnActivation, d, x, t * d, y, t * d);
    }
    for (let t = 0; t < tokens; t++) {
      if (this.options.recallSampleEvery > 0 && --this.sampleCountdown <= 0) {
        this.sampleCountdown = this.options.recallSampleEvery;
        await this.sampleRecall(layer, x, t * d);
      }
    }
    this.stats.sparseTokens += layer === 0 ? tokens : 0;
    return y;
  }

  /** Fills ids[0…n) with the neurons predicted active for any of the call's rows, ascending. */
  private needed(layer: number, x: Float32Array, tokens: number): number {
    const size = this.arch.ffnSize;
    if (this.options.forceAllActive) {
      for (let j = 0; j < size; j++) this.ids[j] = j;
      return size;
    }
    const mark = this.mark.fill(0);
    for (let t = 0; t < tokens; t++) this.predictors[layer].markActive(x, t * this.arch.dModel, mark);
    let n = 0;
    for (let j = 0; j < size; j++) if (mark[j]) this.ids[n++] = j;
    return n;
  }

  /** Window eviction, then the missing records read in (n ≤ capacity, so they fit once the
   *  neurons not needed now make room). */
  private async loadMissing(layer: number, n: number): Promise<void> {
    const cache = this.caches[layer];
    const s = this.stats.layers[layer];
    s.evicted += cache.evictOutsideWindow(this.step, this.options.windowTokens);
    let m = 0;
    for (let i = 0; i < n; i++) if (cache.slotOf[this.ids[i]] < 0) this.missing[m++] = this.ids[i];
    if (m === 0) return;
    s.evicted += cache.makeRoom(m, this.step);
    s.misses += m;
    await this.reader.load(layer, this.missing, m, cache, this.step, this.stats);
  }

  /** The true active set of one row against what the predictor marked (this.mark, or all when forced). */
  private async sampleRecall(layer: number, x: Float32Array, xAt: number): Promise<void> {
    const d = this.arch.dModel;
    const truth = this.truth.fill(0);
    const cache = this.caches[layer];
    const mark1 = (rows: NeuronRows, row: number, id: number) => {
      const w = rows.gate ?? rows.up;
      let g = 0;
      for (let k = 0; k < d; k++) g += w[row * d + k] * x[xAt + k];
      if (g > 0) truth[id] = 1;
    };
    if (cache.full) {
      for (let j = 0; j < this.arch.ffnSize; j++) mark1(cache, cache.slotOf[j], j);
    } else {
      const counters = { bytesRead: 0, reads: 0, neuronsRead: 0 };
      await this.streamLayer(layer, counters, (rows, first, count) => {
        for (let i = 0; i < count; i++) mark1(rows, i, first + i);
      });
      this.stats.sampleBytesRead += counters.bytesRead;
    }
    const s = this.stats.layers[layer];
    for (let j = 0; j < this.arch.ffnSize; j++) {
      if (!truth[j]) continue;
      s.sampledTrueActive++;
      if (this.options.forceAllActive || this.mark[j]) s.sampledFound++;
    }
  }

  private async dense(layer: number, x: Float32Array, tokens: number): Promise<Float32Array> {
    this.stats.denseCalls += layer === 0 ? 1 : 0;
    const cache = this.caches[layer];
    if (cache.full) return this.runGraph(cache, this.arch.ffnSize, x, tokens);
    const y = new Float32Array(tokens * this.arch.dModel);
    await this.streamLayer(layer, this.stats, async (rows, _first, count) => {
      const part = await this.runGraph(rows, count, x, tokens);
      for (let i = 0; i < y.length; i++) y[i] += part[i];
    });
    return y;
  }

  /** Every neuron of a non-resident layer, chunk by chunk through the chunk rows. */
  private async streamLayer(
    layer: number, counters: { bytesRead: number; reads: number; neuronsRead: number },
    each: (rows: NeuronRows, first: number, count: number) => void | Promise<void>,
  ): Promise<void> {
    const rows = this.chunk!;
    const size = this.options.prefillChunkNeurons;
    for (let first = 0; first < this.arch.ffnSize; first += size) {
      const count = Math.min(size, this.arch.ffnSize - first);
      await this.reader.readRange(layer, first, count, rows, counters);
      await each(rows, first, count);
    }
  }

  /** The 'wasm' kernel: x copied into the arena, each row's FFN over slots[0…k) in SIMD. */
  private wasmRows(cache: NeuronCache, k: number, x: Float32Array, tokens: number): Float32Array {
    const { arena, at } = this.wasm!;
    const d = this.arch.dModel;
    const rows = cache.addresses!;
    const squared = this.arch.ffnActivation === 'squared_relu' ? 1 : 0;
    this.wasm!.x.set(x.subarray(0, tokens * d));
    this.wasm!.y.fill(0, 0, tokens * d);
    let nonZero = 0;
    for (let t = 0; t < tokens; t++) {
      const off = t * d * 4;
      nonZero += arena.kernels.ffnRows(rows.gate, rows.up, rows.down, at.slots, k, d, at.x + off, at.y + off, squared);
    }
    this.stats.layers[this.currentLayer].nonZero += nonZero;
    return this.wasm!.y.slice(0, tokens * d);
  }

  /** The 'ort' kernel: the rows of slots[0…k) copied together, then the FFN graph over them. */
  private async gatheredGraph(cache: NeuronCache, k: number, x: Float32Array, tokens: number): Promise<Float32Array> {
    const d = this.arch.dModel;
    if (k === 0) return new Float32Array(tokens * d);
    const g = (this.gathered ??= allocateRows(this.arch.ffnSize, d, this.arch.ffnGated));
    for (let i = 0; i < k; i++) {
      const from = this.slots[i] * d;
      g.gate?.set(cache.gate!.subarray(from, from + d), i * d);
      g.up.set(cache.up.subarray(from, from + d), i * d);
      g.down.set(cache.down.subarray(from, from + d), i * d);
    }
    return this.runGraph(g, k, x, tokens);
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
