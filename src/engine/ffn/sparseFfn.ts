// The flash FFN step. A call of a few tokens (decode, speculative verification) is sparse:
// predictor → neuron cache (window eviction, then a coalesced read of the missing records) → the
// WebAssembly SIMD kernel over the predicted neurons, reading the cache's rows in place. Missing
// neurons beyond what the cache can hold this token are read into the chunk rows and computed there,
// uncached. A longer call (prefill) runs densely (denseStream.ts).
import type { Architecture } from '../manifest';
import type { DenseStreamFfn } from './denseStream';
import type { FlashStats } from './flashStats';
import type { FfnStep } from './ffnStep';
import type { NeuronCache } from './neuronCache';
import type { Predictor } from './predictor';
import type { RecordReader } from './recordReader';
import type { KernelArena } from '../wasm/wasmKernels';

/** Slot numbers, and their address in the kernel arena. */
interface Slots { view: Int32Array; ptr: number }

export interface SparseFfnOptions {
  /** Neurons used in the last `windowTokens` tokens stay resident (partial residency only); 0 keeps
   *  every neuron until its slot is needed. */
  windowTokens: number;
  /** Calls of more tokens than this run densely. */
  maxSparseTokens: number;
  /** Every neuron active (the control: must equal the dense FFN). */
  forceAllActive: boolean;
  /** Rows of the chunk rows (the uncached overflow). */
  prefillChunkNeurons: number;
}

export class SparseFfn implements FfnStep {
  private step = 0;
  /** Called after each sparse call with the neurons predicted for it (undefined: all, forced);
   *  the benchmark's recall check (bench/flashRecall.ts) watches through it. */
  observer: ((layer: number, x: Float32Array, tokens: number, predicted: Uint8Array | undefined) => Promise<void>) | undefined;
  private readonly mark: Uint8Array; //   [ffnSize] 1 = needed this call
  private readonly ids: Int32Array; //    [ffnSize] needed neuron ids, ascending
  private readonly missing: Int32Array; // [ffnSize]
  private readonly slots: Slots; //       [ffnSize] slots of the cache to compute
  private readonly chunkSlots: Slots; //  [prefillChunkNeurons] 0, 1, 2, … (the chunk rows in order)
  /** The rows of x and y in the kernel arena, [maxSparseTokens][dModel] each, and their addresses. */
  private readonly wasm: { arena: KernelArena; x: Float32Array; y: Float32Array; at: { x: number; y: number } };

  constructor(
    private readonly arch: Architecture,
    private readonly dense: DenseStreamFfn,
    private readonly caches: readonly NeuronCache[],
    /** [prefillChunkNeurons] rows, shared with dense streaming; undefined when all is resident. */
    private readonly chunk: NeuronCache | undefined,
    private readonly predictors: readonly Predictor[],
    private readonly reader: RecordReader,
    private readonly options: SparseFfnOptions,
    readonly stats: FlashStats,
    arena: KernelArena,
  ) {
    // The flash path's kernels are ReLU-family: a silu model's neurons are never exactly zero.
    if (arch.ffnActivation === 'silu') throw new Error('SparseFfn runs ReLU-family FFNs only, not silu');
    const n = arch.ffnSize;
    this.mark = new Uint8Array(n);
    this.ids = new Int32Array(n);
    this.missing = new Int32Array(n);
    this.slots = arena.ints(n);
    this.chunkSlots = arena.ints(Math.max(1, options.prefillChunkNeurons));
    this.chunkSlots.view.forEach((_, i) => { this.chunkSlots.view[i] = i; });
    const rows = options.maxSparseTokens * arch.dModel;
    const x = arena.floats(rows), y = arena.floats(rows);
    this.wasm = { arena, x: x.view, y: y.view, at: { x: x.ptr, y: y.ptr } };
  }

  async forward(layer: number, x: Float32Array, tokens: number): Promise<Float32Array> {
    if (tokens > this.options.maxSparseTokens) return this.dense.forward(layer, x, tokens);
    if (layer === 0) this.step++;
    const d = this.arch.dModel;
    const cache = this.caches[layer];
    const s = this.stats.layers[layer];
    const n = this.needed(layer, x, tokens);
    s.tokens += tokens;
    s.predicted += n * tokens;
    s.hits += cache.touch(this.ids, n, this.step);
    // missing[0…m): not resident; the last `uncached` of them did not fit in the cache.
    const { m, uncached } = cache.full ? { m: 0, uncached: 0 } : await this.loadMissing(layer, n);

    let k = 0;
    for (let i = 0; i < n; i++) if (cache.slotOf[this.ids[i]] >= 0) this.slots.view[k++] = cache.slotOf[this.ids[i]];
    const y = new Float32Array(tokens * d);
    this.wasm.x.set(x.subarray(0, tokens * d));
    this.wasm.y.fill(0, 0, tokens * d);
    s.nonZero += this.compute(cache, this.slots, k, tokens);
    for (let from = m - uncached; from < m; from += this.options.prefillChunkNeurons) {
      const count = Math.min(this.options.prefillChunkNeurons, m - from);
      await this.reader.loadRows(layer, this.missing, from, count, this.chunk!, this.stats);
      s.nonZero += this.compute(this.chunk!, this.chunkSlots, count, tokens);
    }
    y.set(this.wasm.y.subarray(0, tokens * d));

    await this.observer?.(layer, x, tokens, this.options.forceAllActive ? undefined : this.mark);
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

  /** Window eviction, then the missing records read into the cache, as many as it can hold once
   *  the neurons not needed now make room; the rest are left in missing[m - uncached … m). */
  private async loadMissing(layer: number, n: number): Promise<{ m: number; uncached: number }> {
    const cache = this.caches[layer];
    const s = this.stats.layers[layer];
    if (this.options.windowTokens > 0) s.evicted += cache.evictOutsideWindow(this.step, this.options.windowTokens);
    let m = 0;
    for (let i = 0; i < n; i++) if (cache.slotOf[this.ids[i]] < 0) this.missing[m++] = this.ids[i];
    if (m === 0) return { m, uncached: 0 };
    s.evicted += cache.makeRoom(m, this.step);
    const fits = Math.min(m, cache.capacity - cache.count);
    s.misses += m;
    s.uncached += m - fits;
    await this.reader.load(layer, this.missing, fits, cache, this.step, this.stats);
    return { m, uncached: m - fits };
  }

  /** Adds the FFN over rows slots[0…k) of `rows` to the arena's y (which the caller filled with
   *  zeros and reads back; x is already in the arena). Returns how many of the neurons were
   *  non-zero, summed over the rows. */
  private compute(rows: NeuronCache, slots: Slots, k: number, tokens: number): number {
    if (k === 0) return 0;
    const d = this.arch.dModel;
    const { arena, at } = this.wasm;
    const r = rows.addresses!;
    const squared = this.arch.ffnActivation === 'squared_relu' ? 1 : 0;
    let nonZero = 0;
    for (let t = 0; t < tokens; t++) {
      nonZero += arena.kernels.ffnRows(r.gate, r.up, r.down, slots.ptr, k, d, at.x + t * d * 4, at.y + t * d * 4, squared);
    }
    return nonZero;
  }
}
