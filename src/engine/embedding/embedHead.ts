// The embedding lookup and the output head in the WebAssembly kernels, computing what embed.onnx and
// head.onnx compute (models/FORMAT.md §2) from their own initializers. With tied embeddings one
// matrix E [V][d] serves both: a token's embedding is its row, and logits = RMSNorm_final(h) · Eᵀ
// are E's rows dotted with the normed state. So the model holds E once, in place of two ONNX
// Runtime sessions that each hold a copy (and cost several times their size in memory).
import type { Architecture } from '../manifest';
import { KernelsUnsupportedError } from '../errors';
import { KernelArena, wasmKernelsAvailable } from '../wasm/wasmKernels';
import { rmsNorm } from '../norm';
import { readInitializers } from '../weights/onnxInitializers';

type Floats = { ptr: number; view: Float32Array };

export class EmbedHead {
  private constructor(
    private readonly arch: Architecture,
    private readonly arena: KernelArena,
    /** [V][d]: the head's matrix as rows (E when tied). */
    private readonly head: Floats,
    /** [V][d]: the embedding rows; the head's own when tied. */
    private readonly embedding: Float32Array,
    private readonly finalNorm: Float32Array,
    private readonly logitBias: Float32Array,
    private readonly scratch: { x: Floats; logits: Floats },
  ) {}

  /** Resident bytes for a model of this architecture: the head's rows and scratch in the kernels'
   *  memory, and a second matrix only when the embeddings are not tied. */
  static residentBytes(arch: Architecture): number {
    const { vocabSize: V, dModel: d } = arch;
    return KernelArena.bytesFor(V * d) + KernelArena.bytesFor(d) + KernelArena.bytesFor(V) // head, x, logits
      + 4 * (d + V) // final norm, bias
      + (arch.tiedEmbeddings ? 0 : 4 * V * d);
  }

  get residentBytes(): number {
    return EmbedHead.residentBytes(this.arch);
  }

  /** readGraph(name) gives a graph file's bytes (embed.onnx is read only when the embeddings are
   *  not tied). */
  static async load(readGraph: (file: string) => Promise<Uint8Array>, files: { embed: string; head: string }, arch: Architecture): Promise<EmbedHead> {
    const { vocabSize: V, dModel: d } = arch;
    if (!wasmKernelsAvailable()) throw new KernelsUnsupportedError('this runtime has no WebAssembly SIMD');
    if (d % 4 !== 0) throw new KernelsUnsupportedError(`its width (dModel ${d}) is not a multiple of 4`);
    const w = readInitializers(await readGraph(files.head), { 'final_norm.weight': [d], lm_head_t: [d, V], logit_bias: [V] }, files.head);
    const arena = new KernelArena(KernelArena.bytesFor(V * d) + KernelArena.bytesFor(d) + KernelArena.bytesFor(V));
    const head = arena.floats(V * d);
    const t = w.get('lm_head_t')!.data; // [d][V] → rows [V][d]
    for (let i = 0; i < d; i++) for (let v = 0; v < V; v++) head.view[v * d + i] = t[i * V + v];
    let embedding = head.view;
    if (!arch.tiedEmbeddings) {
      const e = readInitializers(await readGraph(files.embed), { 'embed.weight': [V, d] }, files.embed);
      embedding = e.get('embed.weight')!.data;
    }
    const scratch = { x: arena.floats(d), logits: arena.floats(V) };
    return new EmbedHead(arch, arena, head, embedding, w.get('final_norm.weight')!.data, w.get('logit_bias')!.data, scratch);
  }

  /** The embeddings of `ids`: [T][d]. Ids outside the vocabulary are refused as the graph's Gather would. */
  embed(ids: readonly number[]): Float32Array {
    const { vocabSize: V, dModel: d } = this.arch;
    const out = new Float32Array(ids.length * d);
    ids.forEach((id, t) => {
      if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new RangeError(`token id ${id} is outside the vocabulary of ${V}`);
      out.set(this.embedding.subarray(id * d, (id + 1) * d), t * d);
    });
    return out;
  }

  /** Logits of each of the `rows` states in `hidden` ([rows][d]): [rows][V]. */
  logits(hidden: Float32Array, rows: number): Float32Array {
    const { vocabSize: V, dModel: d, normEps } = this.arch;
    const { x, logits } = this.scratch;
    const out = new Float32Array(rows * V);
    for (let r = 0; r < rows; r++) {
      rmsNorm(hidden, r * d, this.finalNorm, normEps, x.view, 0, d);
      this.arena.kernels.rowDots(this.head.ptr, x.ptr, V, d, logits.ptr);
      for (let v = 0; v < V; v++) out[r * V + v] = logits.view[v] + this.logitBias[v];
    }
    return out;
  }
}

