// One forward pass of a format-v2 model (models/FORMAT.md §W, §F), every matrix 8-bit in the
// WebAssembly kernels, in the order the data flows: embed → per layer (attention → FFN →
// residual) → head. The T tokens of a call share each weight load (matmulQ8P runs a panel of four
// rows against every token; downQ8 the FFN's down projection from its neuron columns); each KV
// group's heads attend causally over the chunk in one kernel call, the KV cache living in the
// kernels' memory in 8 bits (kvCacheQ8.ts). Prompts run in chunks of CHUNK_TOKENS (more with more
// than two threads) so the scratch rows stay small; with threads > 1 a chunk's kernel calls are
// split by tokens across the threads (threadPool.ts), and a decoded token's by rows (matrices), KV
// groups (attention) and output blocks (the down projection), each part writing its own outputs,
// so the logits are the same bits as on one thread. Only the last position's logits are computed
// unless every position's are asked for.
import type { Architecture } from '../manifest';
import type { KvPositions } from '../kvCache';
import { Int8KvCache, type KvRowsQ8 } from './kvCacheQ8';
import { KernelArena, sparseDownScratch } from '../wasm/wasmKernels';
import { ResidentFfn, turnLength, type DenseFfnRows, type FfnStore } from './ffnStore';
import { dequantRowInto, matmulCall, matmulQuantized, rowSlice, type Q8, type StreamedMatrix, type Weight } from './matrix';
import { sliceRows, type ReadThreads, type WeightStream } from './weightStream';
import { runCalls, SplitChoice, ThreadPool, type KernelCall } from './threadPool';

/** Tokens of a prompt chunk (at least two units per thread: chunkTokens). */
export const CHUNK_TOKENS = 32;
/** Tokens of a unit of a split kernel call (threadPool.ts): the kernels' time per token measured
 *  the same from 4 to 64 tokens a call, and small units let a busy machine's threads share fairly. */
export const UNIT_TOKENS = 8;

/** Tokens of a prompt chunk on `threads` threads: CHUNK_TOKENS, or two units per thread when that
 *  is more. (32 per thread read the random 0.5B model's prompt no faster on 2 threads, with 12 MB
 *  more scratch: node bench/peers/child.ts flashcode … 2.) */
export const chunkTokens = (threads: number) => Math.max(CHUNK_TOKENS, 2 * UNIT_TOKENS * threads);

/** A decoded token is split across the threads only when a layer's FFN has at least this many
 *  weights (d·F): a pass over the threads costs microseconds, and the bundled model's shape (256 ×
 *  1,024) decoded at 1,005 tok/s on 2 threads against 1,534 on 1 (bench:peers), while SmolLM2's
 *  (576 × 1,536) went from 55 to 69. */
export const DECODE_SPLIT_MIN_WEIGHTS = 1 << 19;

/** A decoded token goes the way (split across the threads, or all on the calling thread) that has
 *  been faster lately (SplitChoice): another process busy on the second of two cores made SmolLM2
 *  decode at 30–33 tok/s split against 55–59 on one thread. The first DECODE_TRIAL_TOKENS
 *  alternate; then a probe goes the slower way, to refresh its time: at token DECODE_PROBE_EVERY,
 *  then 16 to 64 tokens apart (SplitChoice). Four trials each way: the first pieces on fresh
 *  threads run slow (SplitChoice). Once a prompt's layers have settled on splitting, the trials
 *  left end: the threads are free, and each trial on one thread would cost a slower token. */
export const DECODE_TRIAL_TOKENS = 8;
export const DECODE_PROBE_EVERY = 16;

/** A prompt's layers likewise (where a decoded token may split), layer by layer (every layer of a
 *  chunk costs the same, so a layer each way compares like with like, and a probe costs one layer,
 *  not a chunk): the first PREFILL_TRIAL_LAYERS alternate, then a probe layer goes the slower way,
 *  PREFILL_PROBE_EVERY to 4 × that apart. */
export const PREFILL_TRIAL_LAYERS = 8;
export const PREFILL_PROBE_EVERY = 64;

/** Rows of the head one matmul computes (a multiple of 4: whole panels): its outputs go straight to
 *  the logits, so no [T][vocab] scratch sits in the kernels' memory (6 MB at SmolLM2's vocabulary). */
export const HEAD_SLICE_ROWS = 1024;

/** A resident layer's decoded token gathers its kept neurons' rows only when it keeps at most this
 *  share of them; above it the dense kernels, reading every row in order, are faster (ModelV2.sparseStep). */
export const GATHER_MAX_SHARE = 0.25;

/** What the memory budget kept in the kernels' memory and what it left on disk (logged at load). */
export interface MemoryPlanV2 {
  budgetMB: number;
  /** The kernels' memory (weights kept, KV cache, scratch, staging) and the FFN's read buffer. */
  residentBytes: number;
  /** Weights read from disk when used: the matrices left in weights.bin and the FFN neurons not cached. */
  streamedBytes: number;
  /** weights.bin matrices left there; and FFN neurons cached per layer (ffnSize: all resident). */
  streamed: string[];
  ffnCachedNeurons: number;
  summary: string;
}

type Floats = { ptr: number; view: Float32Array };
type Ints = { ptr: number; view: Int32Array };

/** One step of a layer, per run of tokens t0 … t0 + n (u: the unit's index): kernel calls run in
 *  order; `each`: calls independent of one another (a decoded token runs each as its own unit);
 *  or a matmul of x as the step before quantized it (into qx, sx) into `out` [T][W.rows]. */
type Calls = (t0: number, n: number, u: number) => KernelCall[];
type Step = Calls | { each: Calls } | { W: Weight; out: number };

/** [first, count) runs splitting `total` into at most `parts`, each a multiple of `multiple`
 *  (but the last). */
function ranges(total: number, parts: number, multiple: number): [number, number][] {
  const step = Math.ceil(total / parts / multiple) * multiple;
  const out: [number, number][] = [];
  for (let at = 0; at < total; at += step) out.push([at, Math.min(step, total - at)]);
  return out;
}

export interface LayerV2 {
  attnNorm: Float32Array;
  qkv: Weight;
  qkvBias?: Float32Array;
  out: Weight;
  ffnNorm: Float32Array;
  /** Rows [F][d]: the gate (silu models: from weights.bin; ReLU-gated: from ffn.bin's records). */
  gate?: Weight;
}

export interface WeightsV2 {
  arena: KernelArena;
  embed: Weight;
  /** The output head when untied; the embedding otherwise. */
  head: Weight;
  headBias?: Float32Array;
  finalNorm: Float32Array;
  layers: LayerV2[];
  /** The FFN's up rows and down columns (as rows [F][d]): resident, or read from ffn.bin on demand. */
  ffn: FfnStore;
  /** The manifest's gate thresholds (ModelV2.gateThresholds). */
  gateThresholds: number[];
  /** Reads the matrices the memory budget left in weights.bin (absent: every one is resident). */
  stream?: WeightStream;
}

/** Bytes of arena a model needs besides its weights: the KV cache and the scratch rows (a chunk of
 *  chunkTokens(threads) tokens; attention scores per unit of UNIT_TOKENS). */
export function scratchBytes(arch: Architecture, contextTokens: number, threads = 1): number {
  const { dModel: d, heads: H, kvHeads: Hkv, headDim: hd, ffnSize: F, vocabSize: V } = arch;
  const T = chunkTokens(threads);
  const qkvRows = (H + 2 * Hkv) * hd;
  const floats = [
    arch.layers * 2 * Hkv * contextTokens * (hd / 4 + 1), // KV cache: int8 rows and their f32 scales
    T * d, T * hd, 4, // the residual stream, RoPE's cosines and sines, eps (f64) and the query scale
    T * d, T * Math.max(d, H * hd, F) / 2, T * Math.max(d, H * hd, F) / 32, // x, its quants (i16) and scales
    T * qkvRows, Math.ceil(T / UNIT_TOKENS) * Hkv * contextTokens, T * H * hd, T * d, // qkv, scores (a row per unit and KV group), context, projection out
    T * F, T * F, F, F, d, T * Math.min(V, HEAD_SLICE_ROWS), // gate, up, kept neurons and their rows, y, a head slice's logits
    Math.ceil(T / UNIT_TOKENS) * Hkv * hd / 2, // attendQ8's query in i16, a row per unit and KV group
    threads > 1 ? V : 0, // a decoded token's logits, its head split across the threads
    T * (d / 32) * 16 + T * (d / 32), // downQ8's quantized z (one group of 32 neurons) and its scales
    threads * sparseDownScratch(d) / 4, // sparseDownQ8's, a thread's each
  ];
  return floats.reduce((n, f) => n + KernelArena.bytesFor(Math.ceil(f)), 0);
}

export class ModelV2 {
  readonly stageMs = { embed: 0, attention: 0, ffn: 0, head: 0 };
  /** FFN neurons computed and skipped at decode since load (the sparse path's measure). */
  readonly ffnCounts = { computed: 0, skipped: 0 };
  /** Sees every layer's FFN activations act(gate·x), [T][F], as the dense path computes them
   *  (calibrate.ts sets it to choose the gate thresholds). */
  gateObserver: ((layer: number, activations: Float32Array) => void) | undefined;
  /** Per layer: at decode, a neuron is skipped when |act(gate·x)| ≤ its layer's threshold (0 or
   *  absent: every neuron runs). From the manifest; calibration and its benchmark change them. */
  gateThresholds: number[];
  private resident: Int8KvCache | undefined;
  private readonly kv: KvRowsQ8 & { quantsPtr: number; scalesPtr: number };
  private readonly s: {
    hidden: Floats; trig: Floats; consts: number;
    x: Floats; qx: number; sx: number; queryQ: number; qkv: Floats; scores: Floats; ctx: Floats; proj: Floats;
    gate: Floats; up: Floats; ids: Ints; rows: Ints; y: Floats; logits: Floats; zq: Floats; decodeLogits: Floats; sparseTmp: number;
  };
  private readonly invFreq: Float32Array;
  /** Tokens per prompt chunk: chunkTokens(threads). */
  private readonly chunkTokens: number;
  /** The other threads (threads > 1); replaced when one of its workers fails. */
  private pool: ThreadPool | undefined;
  /** The pool as weightStream.ts reads with it. */
  private readonly readThreads: ReadThreads;
  /** Whether a decoded token may be split across the pool (DECODE_SPLIT_MIN_WEIGHTS). */
  private readonly splitDecode: boolean;
  /** Whether this decoded token is (DECODE_TRIAL_TOKENS). */
  private splitting = false;
  private readonly decodeChoice = new SplitChoice(DECODE_TRIAL_TOKENS, DECODE_PROBE_EVERY);
  /** Whether this prompt layer's units go to the threads (PREFILL_TRIAL_LAYERS). */
  private splitLayer = true;
  private readonly layerChoice = new SplitChoice(PREFILL_TRIAL_LAYERS, PREFILL_PROBE_EVERY);
  /** Every layer in the kernels' memory: no memory budget streams any (the layer choice's premise). */
  private readonly layersAlike: boolean;

  /** threads > 1 needs a shared arena (loadWeightsV2's `threads`). */
  constructor(readonly arch: Architecture, readonly contextTokens: number, private readonly w: WeightsV2, readonly threads = 1) {
    this.gateThresholds = w.gateThresholds;
    const { dModel: d, heads: H, kvHeads: Hkv, headDim: hd, ffnSize: F, vocabSize: V } = arch;
    const a = w.arena;
    const T = this.chunkTokens = chunkTokens(threads);
    const widest = Math.max(d, H * hd, F);
    const kvRows = arch.layers * 2 * Hkv * contextTokens;
    const quants = a.bytes(kvRows * hd), scales = a.floats(kvRows);
    this.kv = { quants: new Int8Array(quants.view.buffer, quants.ptr, kvRows * hd), scales: scales.view, quantsPtr: quants.ptr, scalesPtr: scales.ptr };
    const consts = a.floats(4);
    new Float64Array(consts.view.buffer, consts.ptr, 1)[0] = arch.normEps;
    consts.view[2] = Math.fround(1 / Math.sqrt(hd));
    this.s = {
      hidden: a.floats(T * d), trig: a.floats(T * hd), consts: consts.ptr,
      x: a.floats(T * d), qx: a.floats(T * widest / 2).ptr, sx: a.floats(T * widest / 32).ptr,
      qkv: a.floats(T * (H + 2 * Hkv) * hd), scores: a.floats(Math.ceil(T / UNIT_TOKENS) * Hkv * contextTokens), ctx: a.floats(T * H * hd), proj: a.floats(T * d),
      gate: a.floats(T * F), up: a.floats(T * F), ids: a.ints(F), rows: a.ints(F), y: a.floats(d), logits: a.floats(T * Math.min(V, HEAD_SLICE_ROWS)),
      queryQ: a.floats(Math.ceil(T / UNIT_TOKENS) * Hkv * hd / 2).ptr, decodeLogits: a.floats(threads > 1 ? V : 0),
      zq: a.floats(T * (d / 32) * 16 + T * (d / 32)), sparseTmp: a.bytes(threads * sparseDownScratch(d)).ptr,
    };
    this.invFreq = Float32Array.from({ length: hd / 2 }, (_, i) => Math.fround(arch.ropeTheta ** (-2 * i / hd)));
    if (threads > 1) this.pool = new ThreadPool(a, threads);
    this.readThreads = { run: (units) => this.pool!.run(units), count: threads };
    this.splitDecode = threads > 1 && d * F >= DECODE_SPLIT_MIN_WEIGHTS;
    this.layersAlike = w.stream === undefined && w.ffn instanceof ResidentFfn;
  }

  newCache(): Int8KvCache {
    return new Int8KvCache(this.arch.layers, this.arch.kvHeads, this.arch.headDim, this.contextTokens);
  }

  /** Logits of the last position, [vocab] f32. On failure `kv` is cleared. */
  forward(ids: readonly number[], kv: KvPositions): Promise<Float32Array> {
    return this.guarded(ids, kv, false);
  }

  /** Logits of every position, [T][vocab] f32. */
  forwardAll(ids: readonly number[], kv: KvPositions): Promise<Float32Array> {
    return this.guarded(ids, kv, true);
  }

  /** Set by the loader: closes what the model reads from (ffn.bin, weights.bin when streaming). */
  onDispose: (() => Promise<void>) | undefined;

  /** Set by the loader: what the memory budget kept resident and left on disk. */
  memoryPlan: MemoryPlanV2 | undefined;

  /** Bytes read from weights.bin for the matrices left there, since load (their check at load included). */
  get streamStats() {
    return this.w.stream?.stats ?? { bytesRead: 0, reads: 0, sharedReads: 0 };
  }

  /** Bytes of the kernels' memory: resident weights, KV cache and scratch rows. */
  get residentBytes(): number {
    return this.w.arena.capacityBytes;
  }

  /** The weights in the kernels' memory (the WebGPU backend uploads them from here). */
  get weights(): WeightsV2 {
    return this.w;
  }

  /** What the FFN read from disk and found cached since load (all zeros when it is resident). */
  get ffnStats() {
    return this.w.ffn.stats;
  }

  /** The prefill's worker threads (undefined at 1 thread): tests inject faults through it. */
  get threadPool(): ThreadPool | undefined {
    return this.pool;
  }

  async dispose(): Promise<void> {
    this.resident = undefined;
    await this.pool?.dispose();
    await this.onDispose?.();
    this.onDispose = undefined;
  }

  private async guarded(ids: readonly number[], kv: KvPositions, all: boolean): Promise<Float32Array> {
    const V = this.arch.vocabSize;
    for (const id of ids) if (!Number.isInteger(id) || id < 0 || id >= V) throw new RangeError(`token id ${id} is outside the model's vocabulary of ${V}`);
    try {
      kv.checkRoom(ids.length);
      if (this.pool) {
        if (!this.pool.healthy) await this.replacePool(); // a worker gone since the last request
        await this.pool.ready;
      }
      const cache = this.bind(kv);
      if (ids.length === 1 && this.splitDecode) return this.decodeToken(ids, cache);
      const out = new Float32Array((all ? ids.length : 1) * V);
      for (let at = 0; at < ids.length; at += this.chunkTokens) {
        const chunk = ids.slice(at, at + this.chunkTokens);
        const last = at + chunk.length === ids.length;
        if (!all && !last) { this.run(chunk, cache, 0); continue; }
        const rows = all ? chunk.length : 1;
        out.set(this.run(chunk, cache, rows), all ? at * V : 0);
      }
      return out;
    } catch (e) {
      kv.clear();
      if (this.pool && !this.pool.healthy) await this.replacePool();
      throw e;
    }
  }

  /** One decoded token, split across the threads or all on this thread, whichever measured faster
   *  lately (DECODE_TRIAL_TOKENS); the logits are the same bits either way. */
  private decodeToken(ids: readonly number[], kv: Int8KvCache): Float32Array {
    if (this.layerChoice.splitSettled) this.decodeChoice.endTrials();
    this.splitting = this.decodeChoice.next();
    const start = performance.now();
    try {
      return this.run(ids, kv, 1);
    } finally {
      this.decodeChoice.record(this.splitting, performance.now() - start);
      this.splitting = false;
    }
  }

  /** A new pool for a broken one, once the old one's workers have stopped (a worker that stopped
   *  answering may still be writing into the arena until then). */
  private async replacePool(): Promise<void> {
    const old = this.pool!;
    this.pool = new ThreadPool(this.w.arena, this.threads);
    await old.dispose();
  }

  /** Moves `kv`'s keys and values into the kernels' memory (only when a caller switches caches). */
  private bind(kv: KvPositions): Int8KvCache {
    if (!(kv instanceof Int8KvCache)) throw new Error('a format-v2 model runs on the KV cache its newCache() gives');
    if (this.resident === kv) return kv;
    this.resident?.moveTo({ quants: new Int8Array(this.kv.quants.length), scales: new Float32Array(this.kv.scales.length) });
    kv.moveTo(this.kv);
    this.resident = kv;
    return kv;
  }

  /** Runs T ≤ chunkTokens tokens; returns the logits of the last `rows` of them. */
  private run(ids: readonly number[], kv: Int8KvCache, rows: number): Float32Array {
    const { dModel: d, vocabSize: V } = this.arch;
    const T = ids.length;
    const ms = this.stageMs;
    let start = performance.now();
    const { hidden, x, trig } = this.s; // hidden: the residual stream [T][d]
    // matrices read from disk: each read shared by the threads while they are this pass's
    if (this.w.stream) this.w.stream.threads = this.pool && (T > 1 || this.splitting) ? this.readThreads : undefined;
    for (let t = 0; t < T; t++) this.dequantRow(this.w.embed, ids[t], hidden.view, t * d);
    // RoPE's angles for these positions, the same in every layer
    const half = this.arch.headDim / 2;
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < half; i++) {
        const angle = Math.fround((kv.length + t) * this.invFreq[i]);
        trig.view[(t * half + i) * 2] = Math.cos(angle);
        trig.view[(t * half + i) * 2 + 1] = Math.sin(angle);
      }
    }
    ms.embed += performance.now() - start;
    // a prompt chunk of a model whose tokens may split (DECODE_SPLIT_MIN_WEIGHTS) and whose layers
    // cost alike (none read from disk): its layers choose their way; other chunks go to the threads
    const choose = this.splitDecode && this.layersAlike && T >= 2 * UNIT_TOKENS;
    for (let l = 0; l < this.arch.layers; l++) {
      this.splitLayer = choose ? this.layerChoice.next() : true;
      start = performance.now();
      this.attention(l, T, kv);
      const mid = performance.now();
      ms.attention += mid - start;
      this.ffn(l, T);
      const end = performance.now();
      ms.ffn += end - mid;
      if (choose) this.layerChoice.record(this.splitLayer, end - start);
    }
    kv.advance(ids);
    if (rows === 0) return new Float32Array(0);
    start = performance.now();
    this.w.arena.kernels.rmsNorm(hidden.ptr + 4 * (T - rows) * d, this.w.finalNorm.byteOffset, this.s.consts, x.ptr, rows, d);
    const out = this.head(x.ptr, rows);
    const bias = this.w.headBias;
    if (bias) for (let r = 0; r < rows; r++) for (let v = 0; v < V; v++) out[r * V + v] += bias[v];
    ms.head += performance.now() - start;
    return out;
  }

  /** Runs a layer's steps over T tokens: all of them in each unit of tokens, one pass over the
   *  threads, when every matrix is in the kernels' memory; step by step otherwise; a decoded token
   *  split across the threads as decodeSteps does. */
  private steps(T: number, steps: readonly Step[]): void {
    if (T === 1 && this.splitting) { this.decodeSteps(steps); return; }
    const { qx, sx } = this.s;
    const calls = (s: Step, t0: number, n: number, u: number): KernelCall[] => typeof s === 'function' ? s(t0, n, u) : 'each' in s ? s.each(t0, n, u)
      : [matmulCall(s.W as Q8, qx + 2 * t0 * s.W.cols, sx + (t0 * s.W.cols) / 8, n, s.out + 4 * t0 * s.W.rows)];
    if (steps.every((s) => !('W' in s) || !('streamed' in s.W))) {
      this.split(T, (t0, n, u) => steps.flatMap((s) => calls(s, t0, n, u)));
      return;
    }
    for (const s of steps) {
      if ('W' in s && 'streamed' in s.W) this.streamedMatmul(s.W, T, s.out);
      else this.split(T, (t0, n, u) => calls(s, t0, n, u));
    }
  }

  /** A decoded token's steps across the threads: each matmul's rows split into a unit per thread
   *  (consecutive matmuls in one pass), `each` step's calls a unit apiece, the rest on this thread.
   *  Every output is computed as on one thread, so the logits are the same bits. */
  private decodeSteps(steps: readonly Step[]): void {
    const k = this.w.arena.kernels, pool = this.pool!;
    let units: KernelCall[][] = [];
    const flush = () => {
      if (units.length > 0) pool.run(units);
      units = [];
    };
    for (const s of steps) {
      if (typeof s === 'function') {
        flush();
        runCalls(k, s(0, 1, 0));
      } else if ('each' in s) {
        flush();
        units = s.each(0, 1, 0).map((c) => [c]);
        flush();
      } else if ('streamed' in s.W) {
        flush();
        this.streamedMatmul(s.W, 1, s.out);
      } else {
        units.push(...this.rowUnits(s.W, s.out));
      }
    }
    flush();
  }

  /** Tokens t0 … t0 + n of hidden through RMSNorm (weight `norm`) into x, quantized into qx, sx. */
  private normQuantize(norm: Float32Array, t0: number, n: number): KernelCall[] {
    const d = this.arch.dModel, { hidden, x, qx, sx, consts } = this.s;
    return [['rmsNorm', hidden.ptr + 4 * t0 * d, norm.byteOffset, consts, x.ptr + 4 * t0 * d, n, d], ['quantizeI16', x.ptr + 4 * t0 * d, n * d, qx + 2 * t0 * d, sx + (t0 * d) / 8]];
  }

  /** out [T][W.rows] = x · Wᵀ (x quantized) for a matrix left in weights.bin: slice by slice from
   *  the staging area, each slice's outputs to their columns (a decoded token's slice split across
   *  the threads when the token is, decodeMatmul; a prompt's on this thread). */
  private streamedMatmul(W: StreamedMatrix, T: number, outPtr: number): void {
    const k = this.w.arena.kernels, { qx, sx } = this.s;
    const stream = this.w.stream!;
    const step = sliceRows(W);
    for (let r0 = 0; r0 < W.rows; r0 += step) {
      const slice = stream.rows(W, r0, Math.min(W.rows, r0 + step));
      if (T === 1) { this.decodeMatmul(slice, outPtr + 4 * r0); continue; }
      matmulQuantized(k, slice, qx, sx, T, stream.outPtr);
      const mem = this.w.arena.memory.buffer;
      const from = new Float32Array(mem, stream.outPtr, T * slice.rows), to = new Float32Array(mem, outPtr, T * W.rows);
      for (let t = 0; t < T; t++) to.set(from.subarray(t * slice.rows, (t + 1) * slice.rows), t * W.rows + r0);
    }
  }

  /** out [W.rows] = x · Wᵀ for one token, x quantized (qx, sx): W's rows split across the threads
   *  when this decoded token is (a slice read from disk included), on this thread otherwise. */
  private decodeMatmul(W: Q8, outPtr: number): void {
    if (!this.splitting) { matmulQuantized(this.w.arena.kernels, W, this.s.qx, this.s.sx, 1, outPtr); return; }
    this.pool!.run(this.rowUnits(W, outPtr));
  }

  /** One token's out [W.rows] = x · Wᵀ as a unit per thread, each a run of W's rows (whole panels). */
  private rowUnits(W: Q8, outPtr: number): KernelCall[][] {
    const { qx, sx } = this.s;
    return ranges(W.rows, this.threads, 4).map(([r0, n]) => [matmulCall(rowSlice(W, r0, n), qx, sx, 1, outPtr + 4 * r0)]);
  }

  /** Runs the kernel calls `part` gives for tokens t0 … t0 + n of T (u: the unit's index), in
   *  units of UNIT_TOKENS across the threads when T has two or more and this layer goes to them
   *  (splitLayer), on this thread otherwise. */
  private split(T: number, part: (t0: number, n: number, u: number) => KernelCall[]): void {
    if (!this.pool || T < 2 * UNIT_TOKENS || !this.splitLayer) { runCalls(this.w.arena.kernels, part(0, T, 0)); return; }
    const units: KernelCall[][] = [];
    for (let t0 = 0; t0 < T; t0 += UNIT_TOKENS) units.push(part(t0, Math.min(UNIT_TOKENS, T - t0), units.length));
    this.pool.run(units);
  }

  /** logits [rows][vocab] = x [rows][d] (f32 at xPtr) · headᵀ, HEAD_SLICE_ROWS rows of the head at a
   *  time (resident: a run of its panels or rows; streamed: read into the staging area; a decoded
   *  token's split across the threads when it is, decodeMatmul). */
  private head(xPtr: number, rows: number): Float32Array {
    const W = this.w.head, V = W.rows;
    const k = this.w.arena.kernels, { qx, sx, logits, decodeLogits } = this.s;
    k.quantizeI16(xPtr, rows * W.cols, qx, sx);
    if (rows === 1 && this.splitting && !('streamed' in W)) { // a decoded token: the head's rows split across the threads
      this.decodeMatmul(W, decodeLogits.ptr);
      return decodeLogits.view.slice();
    }
    const out = new Float32Array(rows * V);
    const step = 'streamed' in W ? Math.min(HEAD_SLICE_ROWS, sliceRows(W)) : HEAD_SLICE_ROWS;
    for (let r0 = 0; r0 < V; r0 += step) {
      const n = Math.min(step, V - r0);
      const slice: Q8 = 'streamed' in W ? this.w.stream!.rows(W, r0, r0 + n) : rowSlice(W, r0, n);
      if (rows === 1) this.decodeMatmul(slice, logits.ptr);
      else matmulQuantized(k, slice, qx, sx, rows, logits.ptr);
      for (let t = 0; t < rows; t++) out.set(logits.view.subarray(t * n, (t + 1) * n), t * V + r0);
    }
    return out;
  }

  private dequantRow(W: Weight, row: number, out: Float32Array, at: number): void {
    const mem = this.w.arena.memory.buffer;
    if ('streamed' in W) dequantRowInto(mem, this.w.stream!.rows(W, row, row + 1), 0, out, at);
    else dequantRowInto(mem, W, row, out, at);
  }

  /** hidden [T][d] += attention of layer l; writes the T tokens' keys and values after kv.length. */
  private attention(l: number, T: number, kv: Int8KvCache): void {
    const { dModel: d, heads: H, kvHeads: Hkv, headDim: hd } = this.arch;
    const L = this.w.layers[l];
    const { hidden, qx, sx, qkv, scores, ctx, proj, trig, consts } = this.s;
    const n = (H + 2 * Hkv) * hd;
    const { quantsPtr, scalesPtr } = this.kv;
    const row0 = kv.row(l, 0, 0, kv.length);
    this.steps(T, [
      (t0, m) => this.normQuantize(L.attnNorm, t0, m),
      { W: L.qkv, out: qkv.ptr },
      (t0, m) => [['qkvPost', qkv.ptr + 4 * t0 * n, n, m, H, Hkv, hd, trig.ptr + 4 * t0 * hd, consts + 8, L.qkvBias?.byteOffset ?? 0, quantsPtr, scalesPtr, row0 + t0, kv.capacity]],
    ]);
    // the whole chunk's keys and values are stored: each group's heads attend causally in one call
    // per unit (tokens t0 … t0 + m, each unit and group its own scores row and query scratch)
    const group = H / Hkv;
    this.steps(T, [
      { each: (t0, m, u) => Array.from({ length: Hkv }, (_, g): KernelCall => {
        const keys = kv.row(l, 0, g, 0), values = kv.row(l, 1, g, 0), scratch = u * Hkv + g;
        return ['attendQ8', qkv.ptr + 4 * (t0 * n + g * group * hd), 4 * n, quantsPtr + keys * hd, scalesPtr + 4 * keys, quantsPtr + values * hd, scalesPtr + 4 * values,
          kv.length + t0, m, group, hd, scores.ptr + 4 * scratch * this.contextTokens, this.s.queryQ + 2 * scratch * hd, ctx.ptr + 4 * (t0 * H * hd + g * group * hd), 4 * H * hd];
      }) },
      (t0, m) => [['quantizeI16', ctx.ptr + 4 * t0 * H * hd, m * H * hd, qx + 2 * t0 * H * hd, sx + (t0 * H * hd) / 8]],
      { W: L.out, out: proj.ptr },
      (t0, m) => [['addInto', hidden.ptr + 4 * t0 * d, proj.ptr + 4 * t0 * d, m * d]],
    ]);
  }

  /** hidden [T][d] += FFN(RMSNorm_ffn(hidden)) of layer l. */
  private ffn(l: number, T: number): void {
    const { ffnSize: F, ffnActivation } = this.arch;
    const L = this.w.layers[l];
    const { gate, up } = this.s;
    const norm = (t0: number, n: number) => this.normQuantize(L.ffnNorm, t0, n);
    const act = ffnActivation === 'relu' ? relu : ffnActivation === 'silu' ? silu : squaredRelu;
    const threshold = T === 1 ? this.gateThresholds[l] ?? 0 : 0;
    // Decode goes the sparse way when the gate skips neurons, and when up and down are not all
    // resident (the flash cache), even with every neuron active.
    if (L.gate && T === 1 && (threshold > 0 || ffnActivation !== 'silu' || this.w.ffn.capacity < F)) {
      runCalls(this.w.arena.kernels, norm(0, 1));
      this.sparseStep(l, L.gate, threshold);
      return;
    }
    const rowsL = this.w.ffn.dense(l), U = rowsL.up, down = this.downSteps(T, rowsL);
    if (L.gate && ffnActivation === 'silu' && T === 1 && this.splitting && !('streamed' in L.gate)) {
      // a decoded token: each thread's unit is a range of gate and up rows and their swiglu, so that
      // no thread waits while another runs swiglu alone
      const G = L.gate, { qx, sx } = this.s;
      runCalls(this.w.arena.kernels, norm(0, 1));
      this.pool!.run(ranges(F, this.threads, 4).map(([r0, n]) => [
        matmulCall(rowSlice(G, r0, n), qx, sx, 1, gate.ptr + 4 * r0), matmulCall(rowSlice(U, r0, n), qx, sx, 1, up.ptr + 4 * r0), ['swiglu', gate.ptr + 4 * r0, up.ptr + 4 * r0, n]]));
      this.steps(1, down);
      this.gateObserver?.(l, gate.view.subarray(0, F));
      return;
    }
    if (L.gate && ffnActivation === 'silu') { // swiglu on each unit's rows as soon as its up rows are there
      this.steps(T, [norm, { W: L.gate, out: gate.ptr }, { W: U, out: up.ptr }, (t0, n) => [['swiglu', gate.ptr + 4 * t0 * F, up.ptr + 4 * t0 * F, n * F]], ...down]);
      this.gateObserver?.(l, gate.view.subarray(0, T * F));
      return;
    }
    if (!L.gate) { // a plain (ungated) FFN: h = act(up · x)
      this.steps(T, [norm, { W: U, out: up.ptr }]);
      for (let i = 0; i < T * F; i++) up.view[i] = act(up.view[i]);
    } else {
      this.steps(T, [norm, { W: L.gate, out: gate.ptr }, { W: U, out: up.ptr }]);
      const g = gate.view, u = up.view;
      for (let i = 0; i < T * F; i++) { g[i] = act(g[i]); u[i] *= g[i]; }
      this.gateObserver?.(l, g.subarray(0, T * F));
    }
    this.steps(T, down);
  }

  /** h [T][F] (at up) through the down projection, added into hidden: every neuron's column at once
   *  (downQ8), resident or streamed alike; a thread's tokens t0 … t0 + n quantize into their own rows
   *  of zq (i16, [chunk][d/32][32]) and zs (f32, after zq); a decoded token's output blocks split
   *  across the threads. */
  private downSteps(T: number, { down: D, downScalesT }: DenseFfnRows): Step[] {
    const { dModel: d, ffnSize: F } = this.arch;
    const { hidden, up, proj, zq } = this.s;
    const nb = d / 32, zs = zq.ptr + 64 * this.chunkTokens * nb;
    const blocks = T === 1 && this.splitting ? ranges(nb, this.threads, 1) : [[0, nb]];
    return [
      { each: (t0, n) => blocks.map(([b0, m]): KernelCall => ['downQ8', D.ptr, downScalesT, up.ptr + 4 * t0 * F, n, F, d, zq.ptr + 64 * t0 * nb, zs + 4 * t0 * nb, proj.ptr + 4 * t0 * d, b0, b0 + m]) },
      (t0, n) => [['addInto', hidden.ptr + 4 * t0 * d, proj.ptr + 4 * t0 * d, n * d]],
    ];
  }

  /** Decode: the gate decides which neurons run (act(gate·x) above the layer's threshold; a ReLU's
   *  zeros exactly), and only those have their up and down rows read and computed: the up rows
   *  split across the threads by neuron, the down columns by output block, as the dense path does.
   *  Where the whole layer is resident and more than GATHER_MAX_SHARE of it is kept, the dense
   *  kernels run instead on h with the skipped neurons' h = 0: the same bits (gatherUpQ8 is
   *  matmulQ8P's row arithmetic, sparseDownQ8 is downQ8's with those zeros), faster. */
  private sparseStep(l: number, W: Weight, threshold: number): void {
    const { dModel: d, ffnSize: F, ffnActivation } = this.arch;
    const { hidden, gate, up, ids, rows, y, qx, sx, sparseTmp } = this.s;
    this.steps(1, [{ W, out: gate.ptr }]);
    const kind = ffnActivation === 'relu' ? 0 : ffnActivation === 'silu' ? 1 : 2;
    const kept = this.w.arena.kernels.gateSelect(gate.ptr, F, kind, threshold, ids.ptr);
    this.ffnCounts.computed += kept;
    this.ffnCounts.skipped += F - kept;
    const store = this.w.ffn;
    if (l === 0) store.stats.tokens++;
    if (store instanceof ResidentFfn && kept > GATHER_MAX_SHARE * F) {
      const rowsL = store.dense(l);
      this.steps(1, [{ W: rowsL.up, out: up.ptr }]);
      const u = up.view, g = gate.view, id = ids.view; // gateSelect left the kept ones' activations at g[0…kept)
      for (let j = 0, i = 0; j < F; j++) { // h = up · activation for a kept neuron, 0 for a skipped one
        if (i < kept && id[i] === j) u[j] *= g[i++];
        else u[j] = 0;
      }
      this.steps(1, this.downSteps(1, rowsL));
      return;
    }
    y.view.fill(0);
    const nb = d / 32;
    for (let at = 0, n = 0; at < kept; at += n) { // more neurons than the cache holds: in turns
      n = turnLength(ids.view, at, kept, store.capacity);
      const { up: U, down: D } = store.gather(l, ids.view.subarray(at, at + n), n, rows.view.subarray(at, at + n));
      const [R, B] = D.layout === 'blocks' ? [32, 1024] : [d, 32];
      const gathered = (i: number) => 4 * (at + i);
      const upRows = ([i0, m]: [number, number]): KernelCall => ['gatherUpQ8', U.ptr, U.scales, U.layout === 'panels' ? 1 : 0, rows.ptr + gathered(i0), m, d, qx, sx, gate.ptr + gathered(i0), up.ptr + gathered(i0)];
      const downColumns = ([b0, m]: [number, number], u: number): KernelCall => ['sparseDownQ8', y.ptr, D.ptr, D.scales, up.ptr + gathered(0), rows.ptr + gathered(0), ids.ptr + gathered(0), n, d, R, B, b0, b0 + m, sparseTmp + u * sparseDownScratch(d)];
      if (!this.splitting) { runCalls(this.w.arena.kernels, [upRows([0, n]), downColumns([0, nb], 0)]); continue; } // on one thread: straight to the kernels, no units
      this.steps(1, [{ each: () => ranges(n, this.threads, 4).map(upRows) }, { each: () => ranges(nb, this.threads, 1).map(downColumns) }]);
    }
    this.w.arena.kernels.addInto(hidden.ptr, y.ptr, d);
  }
}

function silu(v: number): number {
  return v / (1 + Math.exp(-v));
}
function relu(v: number): number {
  return v > 0 ? v : 0;
}
function squaredRelu(v: number): number {
  return v > 0 ? v * v : 0;
}
