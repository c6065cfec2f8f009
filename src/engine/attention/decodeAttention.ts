// The attention half of a decoder layer, token by token (decode, speculative verification and
// prefill alike), in the WebAssembly SIMD kernels, computing what attn.<l>.onnx computes
// (models/pipeline/graphs.py): RMSNorm → Q, K, V → RoPE (rotate-half) → grouped-query attention
// over the KV cache → output projection + residual → the FFN's input norm. The weights are read
// from the graphs' own initializers, and the KV cache it works on lives in the kernels' memory, so
// a token copies nothing: the ONNX Runtime graph copies every past key and value in and out on
// every run, which made attention 58 % of a sparse token. It was faster than the graph for prompts
// of every length too (bench/prefill.ts, deleted with the graph path), so the attention graphs are
// never run.
import type { Architecture } from '../manifest';
import { KernelsUnsupportedError } from '../errors';
import type { KvCache } from '../kvCache';
import { rmsNorm } from '../norm';
import { rope } from './rope';
import { readInitializers } from '../weights/onnxInitializers';
import { KernelArena, wasmKernelsAvailable } from '../wasm/wasmKernels';

interface LayerWeights {
  attnNorm: Float32Array;
  /** RoPE's θᵢ, [hd/2]. */
  invFreq: Float32Array;
  ffnNorm: Float32Array;
  /** [(H + 2·Hkv)·hd][d] at this address: the Q, K and V projections as rows, one matrix. */
  qkvPtr: number;
  /** [d][H·hd] at this address: the output projection as rows. */
  outPtr: number;
}

type Floats = { ptr: number; view: Float32Array };

export class DecodeAttention {
  private resident: KvCache | undefined;

  private constructor(
    private readonly arch: Architecture,
    /** Positions the KV cache holds: the model's context. */
    private readonly capacity: number,
    private readonly arena: KernelArena,
    private readonly layers: LayerWeights[],
    /** The KV cache's home: [layers][2][kvHeads][capacity][hd] f32, what KvCache.data lays out. */
    private readonly kv: Floats,
    private readonly scratch: { x: Floats; qkv: Floats; scores: Floats; context: Floats; out: Floats },
  ) {}

  /** Bytes it keeps resident besides the KV cache: the attention weights and its scratch rows. */
  get weightBytes(): number {
    return DecodeAttention.weightBytes(this.arch, this.capacity);
  }

  /** weightBytes for a model of this architecture and context, before loading it. */
  static weightBytes(arch: Architecture, capacity: number): number {
    const { dModel: d, heads: H, kvHeads: Hkv, headDim: hd } = arch;
    const qkvRows = (H + 2 * Hkv) * hd;
    return arch.layers * KernelArena.bytesFor(qkvRows * d + d * H * hd)
      + KernelArena.bytesFor(d) + KernelArena.bytesFor(qkvRows) + KernelArena.bytesFor(capacity) + KernelArena.bytesFor(H * hd) + KernelArena.bytesFor(d);
  }

  /** From the attention graphs' bytes (`files` their names, for errors). */
  static load(graphs: readonly Uint8Array[], files: readonly string[], arch: Architecture, capacity: number): DecodeAttention {
    const { dModel: d, heads: H, kvHeads: Hkv, headDim: hd } = arch;
    if (!wasmKernelsAvailable()) throw new KernelsUnsupportedError('this runtime has no WebAssembly SIMD');
    if ([d, hd].some((n) => n % 4 !== 0)) throw new KernelsUnsupportedError(`dModel ${d} and headDim ${hd} are not both multiples of 4`);
    if (H % Hkv !== 0) throw new KernelsUnsupportedError(`its ${H} heads do not divide into ${Hkv} key-value heads`);
    const qkvRows = (H + 2 * Hkv) * hd;
    const kvFloats = arch.layers * 2 * Hkv * capacity * hd;
    const arena = new KernelArena(DecodeAttention.weightBytes(arch, capacity) + KernelArena.bytesFor(kvFloats));
    const layers = graphs.map((graph, l) => {
      const w = readInitializers(graph, {
        'attn_norm.weight': [d], wq_t: [d, H * hd], wk_t: [d, Hkv * hd], wv_t: [d, Hkv * hd], wo_t: [H * hd, d], 'rope.inv_freq': [hd / 2], 'ffn_norm.weight': [d],
      }, files[l]);
      const get = (name: string) => w.get(name)!.data;
      const qkv = arena.floats(qkvRows * d);
      // Stored transposed ([in][out]) in the graph; rows ([out][in]) here, so each output is one dot product.
      let row = 0;
      for (const [name, outs] of [['wq_t', H * hd], ['wk_t', Hkv * hd], ['wv_t', Hkv * hd]] as const) {
        transposeInto(get(name), d, outs, qkv.view, row * d);
        row += outs;
      }
      const out = arena.floats(d * H * hd);
      transposeInto(get('wo_t'), H * hd, d, out.view, 0);
      return { attnNorm: get('attn_norm.weight'), invFreq: get('rope.inv_freq'), ffnNorm: get('ffn_norm.weight'), qkvPtr: qkv.ptr, outPtr: out.ptr };
    });
    const kv = arena.floats(kvFloats);
    const scratch = { x: arena.floats(d), qkv: arena.floats(qkvRows), scores: arena.floats(capacity), context: arena.floats(H * hd), out: arena.floats(d) };
    return new DecodeAttention(arch, capacity, arena, layers, kv, scratch);
  }

  /** Makes `kv` the cache whose keys and values live in the kernels' memory; the one there before
   *  moves to a buffer of its own (only when a caller switches caches: tests, benchmarks). */
  bind(kv: KvCache): void {
    if (this.resident === kv) return;
    this.resident?.moveTo(new Float32Array(this.kv.view.length));
    kv.moveTo(this.kv.view);
    this.resident = kv;
  }

  /** Layer `layer` for the T tokens of `hidden` ([T][d]) after what `kv` holds, in order (each
   *  sees those before it); writes their keys and values at positions kv.length + t. Returns
   *  hidden + attention ([T][d]) and the FFN's input, RMSNorm_ffn of that ([T][d]). */
  step(layer: number, hidden: Float32Array, T: number, kv: KvCache): { hiddenOut: Float32Array; ffnInput: Float32Array } {
    this.bind(kv);
    const { dModel: d, heads: H, kvHeads: Hkv, headDim: hd, normEps } = this.arch;
    const k = this.arena.kernels;
    const w = this.layers[layer];
    const { x, qkv, scores, context, out } = this.scratch;
    const kvView = this.kv.view;
    const group = H / Hkv;
    const scale = Math.fround(1 / Math.sqrt(hd));
    const hiddenOut = new Float32Array(T * d);
    const ffnInput = new Float32Array(T * d);
    for (let t = 0; t < T; t++) {
      const position = kv.length + t;
      rmsNorm(hidden, t * d, w.attnNorm, normEps, x.view, 0, d);
      k.rowDots(w.qkvPtr, x.ptr, (H + 2 * Hkv) * hd, d, qkv.ptr);
      const q = qkv.view;
      rope(q, 0, H, hd, w.invFreq, position);
      rope(q, H * hd, Hkv, hd, w.invFreq, position);
      for (let i = 0; i < H * hd; i++) q[i] *= scale;
      for (let g = 0; g < Hkv; g++) {
        kvView.set(q.subarray((H + g) * hd, (H + g + 1) * hd), kv.offset(layer, 0, g, position));
        kvView.set(q.subarray((H + Hkv + g) * hd, (H + Hkv + g + 1) * hd), kv.offset(layer, 1, g, position));
      }
      const S = position + 1;
      for (let h = 0; h < H; h++) {
        const g = Math.floor(h / group);
        k.rowDots(this.kv.ptr + 4 * kv.offset(layer, 0, g, 0), qkv.ptr + 4 * h * hd, S, hd, scores.ptr);
        k.softmax(scores.ptr, S);
        k.vecmat(scores.ptr, this.kv.ptr + 4 * kv.offset(layer, 1, g, 0), S, hd, context.ptr + 4 * h * hd);
      }
      k.rowDots(w.outPtr, context.ptr, d, H * hd, out.ptr);
      for (let i = 0; i < d; i++) hiddenOut[t * d + i] = hidden[t * d + i] + out.view[i];
      rmsNorm(hiddenOut, t * d, w.ffnNorm, normEps, ffnInput, t * d, d);
    }
    return { hiddenOut, ffnInput };
  }
}


/** dst[at + o·rows + i] = src[i·cols + o]: src [rows][cols] → [cols][rows]. */
function transposeInto(src: Float32Array, rows: number, cols: number, dst: Float32Array, at: number): void {
  for (let i = 0; i < rows; i++) for (let o = 0; o < cols; o++) dst[at + o * rows + i] = src[i * cols + o];
}
