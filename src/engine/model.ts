// One forward pass, in the order the data flows: embed → per layer (attention → FFN step →
// residual) → head. Prefill and decode are the same call with T tokens or 1. Around the FFN, the
// layers run in the WebAssembly kernels where they can (layer kernels: embedHead.ts,
// decodeAttention.ts), reading the weights out of the graphs' files, whose ONNX Runtime sessions
// are then never created; where the kernels cannot run, every layer runs on the graphs.
import fs from 'node:fs/promises';
import { DecodeAttention } from './attention/decodeAttention';
import { loadGraph, type Graph } from './backend/ort';
import { EmbedHead } from './embedding/embedHead';
import { DenseFfn, type FfnStep } from './ffn/ffnStep';
import type { KernelFootprint } from './ffn/flashPlan';
import { loadFlashFfn, type FlashFfn, type FlashOptions } from './ffn/loadFlash';
import { KvCache } from './kvCache';
import { requireV1, type Architecture, type Manifest } from './manifest';
import type { ModelDir } from './modelDir';
import { ModelFileCorruptError } from './errors';
import { checkFfnValues, readFfnHeader, readFfnLayer, type FfnHeader } from './weights/ffnFile';

/** 'wasm': the layer kernels run where WebAssembly SIMD does (the default); 'ort': the graphs run
 *  every layer (the benchmark's comparison). */
export type LayerKernels = 'wasm' | 'ort';

interface Layers {
  /** The graphs loaded: none that the kernels replace. */
  graphs: { embed?: Graph; attention?: Graph[]; head?: Graph; all: Graph[] };
  embedHead?: EmbedHead;
  decodeAttention?: DecodeAttention;
}

export class Model {
  /** Milliseconds spent in each stage of the forward pass since load (the bench's profile of a token). */
  readonly stageMs = { embed: 0, attention: 0, ffn: 0, head: 0 };

  private constructor(
    readonly arch: Architecture,
    readonly contextTokens: number,
    private readonly layers: Layers,
    private readonly ffn: FfnStep,
    /** The sparse path when it runs; undefined when the FFN is dense (asked for, or fallen back). */
    readonly flash: FlashFfn | undefined,
    /** Why the sparse path was asked for and does not run (shown once), if it does not. */
    readonly flashNotice: string | undefined,
    private readonly closeFiles: () => Promise<void>,
  ) {}

  /** Attention in the kernels; undefined: the attention graphs run. */
  get decodeAttention(): DecodeAttention | undefined {
    return this.layers.decodeAttention;
  }

  /** The embedding and head in the kernels; undefined: their graphs run. */
  get embedHead(): EmbedHead | undefined {
    return this.layers.embedHead;
  }

  /** What the layer kernels of a model keep resident, and the graphs they spare, where they run:
   *  what Model.load spends from the memory budget (the bench's dense footprint counts it too). */
  static kernelFootprint(anyManifest: Manifest): KernelFootprint {
    const manifest = requireV1(anyManifest, 'Model');
    return {
      bytes: DecodeAttention.weightBytes(manifest.architecture, manifest.contextTokens) + EmbedHead.residentBytes(manifest.architecture),
      graphsNotLoaded: [manifest.graphs.embed, ...manifest.graphs.attention, manifest.graphs.head],
    };
  }

  /** flash: the sparse FFN path (predictors + neuron cache) and its memory budget; without it, or
   *  when the model has no usable predictors, the FFN is dense. */
  static async load(dir: ModelDir, threads: number, ortWasmDir?: string, flash?: FlashOptions, kernels: LayerKernels = 'wasm'): Promise<Model> {
    const manifest = requireV1(dir.manifest, 'Model');
    const arch = manifest.architecture;
    const layers = await loadLayers(dir, threads, ortWasmDir, kernels);
    const ffnGraph = await loadGraphFile(dir, manifest.graphs.ffn, threads, ortWasmDir);
    layers.graphs.all.push(ffnGraph);
    const footprint: KernelFootprint = {
      bytes: (layers.decodeAttention?.weightBytes ?? 0) + (layers.embedHead?.residentBytes ?? 0),
      graphsNotLoaded: [
        ...(layers.embedHead ? [manifest.graphs.embed, manifest.graphs.head] : []),
        ...(layers.decodeAttention ? manifest.graphs.attention : []),
      ],
    };
    const model = (ffn: FfnStep, sparse: FlashFfn | undefined, notice: string | undefined, closeFiles: () => Promise<void>) =>
      new Model(arch, manifest.contextTokens, layers, ffn, sparse, notice, closeFiles);
    const file = await fs.open(dir.file(manifest.ffn.file), 'r');
    try {
      const header = await readFfnHeader(file, manifest.ffn.file);
      checkFfnMatches(header, arch, manifest.ffn.file);
      await checkFfnValues(file, header, manifest.ffn.file);
      if (flash?.mode === 'sparse') {
        const sparse = await loadFlashFfn(dir, file, header, ffnGraph, flash, footprint);
        if (sparse.ok) return model(sparse.flash.step, sparse.flash, undefined, () => file.close());
        const ffn = await denseFfn(file, header, ffnGraph, arch);
        await file.close();
        return model(ffn, undefined, sparse.notice, async () => undefined);
      }
      const ffn = await denseFfn(file, header, ffnGraph, arch);
      await file.close();
      return model(ffn, undefined, undefined, async () => undefined);
    } catch (e) {
      await file.close();
      throw e;
    }
  }

  /** A KV cache with room for the model's whole context. */
  newCache(): KvCache {
    return new KvCache(this.arch.layers, this.arch.kvHeads, this.arch.headDim, this.contextTokens);
  }

  /** Runs `ids` after what `kv` holds and returns the logits of the last position: [vocab] f32.
   *  On success `kv` holds `ids` too; on failure it is cleared, so its ids and keys never disagree. */
  async forward(ids: readonly number[], kv: KvCache): Promise<Float32Array> {
    return this.guarded(ids, kv, false);
  }

  /** Like forward, but returns the logits of every position: [T][vocab] f32, row i predicting the
   *  token after ids[i] (verifying speculative drafts in one pass). */
  async forwardAll(ids: readonly number[], kv: KvCache): Promise<Float32Array> {
    return this.guarded(ids, kv, true);
  }

  private async guarded(ids: readonly number[], kv: KvCache, allPositions: boolean): Promise<Float32Array> {
    try {
      return await this.run(ids, kv, allPositions);
    } catch (e) {
      kv.clear();
      throw e;
    }
  }

  private async run(ids: readonly number[], kv: KvCache, allPositions: boolean): Promise<Float32Array> {
    const T = ids.length;
    const d = this.arch.dModel;
    kv.checkRoom(T);
    const ms = this.stageMs;
    let start = performance.now();
    const { graphs, embedHead } = this.layers;
    let hidden = embedHead // [1][T][d]
      ? embedHead.embed(ids)
      : (await graphs.embed!.run({ input_ids: { type: 'int64', data: BigInt64Array.from(ids, (i) => BigInt(i)), dims: [1, T] } })).hidden.data;
    ms.embed += performance.now() - start;

    for (let l = 0; l < this.arch.layers; l++) {
      start = performance.now();
      const { decodeAttention } = this.layers;
      const out = decodeAttention ? decodeAttention.step(l, hidden, T, kv) : await this.attentionGraph(l, hidden, T, kv);
      const ffnStart = performance.now();
      ms.attention += ffnStart - start;
      const y = await this.ffn.forward(l, out.ffnInput, T); // [T][d]
      ms.ffn += performance.now() - ffnStart;
      hidden = out.hiddenOut;
      for (let i = 0; i < hidden.length; i++) hidden[i] += y[i];
    }
    kv.advance(ids);

    const rows = allPositions ? T : 1;
    const last = hidden.slice((T - rows) * d); // [1][rows][d]
    start = performance.now();
    const logits = embedHead // [1][rows][vocab]
      ? embedHead.logits(last, rows)
      : (await graphs.head!.run({ hidden: { type: 'float32', data: last, dims: [1, rows, d] } })).logits.data;
    ms.head += performance.now() - start;
    return logits;
  }

  /** Layer `layer`'s attention graph over `hidden` [1][T][d]; stores the new keys and values in `kv`. */
  private async attentionGraph(layer: number, hidden: Float32Array, T: number, kv: KvCache): Promise<{ hiddenOut: Float32Array; ffnInput: Float32Array }> {
    const positions = BigInt64Array.from({ length: T }, (_, i) => BigInt(kv.length + i)); // continue after the cached positions
    const pastDims = [1, this.arch.kvHeads, kv.length, this.arch.headDim];
    const out = await this.layers.graphs.attention![layer].run({
      hidden: { type: 'float32', data: hidden, dims: [1, T, this.arch.dModel] },
      position_ids: { type: 'int64', data: positions, dims: [1, T] },
      past_key: { type: 'float32', data: kv.past(layer, 0), dims: pastDims },
      past_value: { type: 'float32', data: kv.past(layer, 1), dims: pastDims },
    });
    kv.storePresent(layer, 0, out.present_key.data, kv.length + T);
    kv.storePresent(layer, 1, out.present_value.data, kv.length + T);
    return { hiddenOut: out.hidden_out.data, ffnInput: out.ffn_input.data };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.layers.graphs.all.map((g) => g.release()));
    await this.closeFiles();
  }
}

async function loadGraphFile(dir: ModelDir, name: string, threads: number, ortWasmDir: string | undefined, bytes?: Uint8Array): Promise<Graph> {
  try {
    return await loadGraph(bytes ?? await fs.readFile(dir.file(name)), threads, ortWasmDir);
  } catch (e) {
    throw new ModelFileCorruptError(name, `ONNX Runtime cannot load it: ${(e as Error).message}`);
  }
}

/** The graphs and kernels around the FFN: a graph loads only where its kernel cannot run. */
async function loadLayers(dir: ModelDir, threads: number, ortWasmDir: string | undefined, kernels: LayerKernels): Promise<Layers> {
  const manifest = requireV1(dir.manifest, 'Model');
  const arch = manifest.architecture;
  const read = (name: string) => fs.readFile(dir.file(name));
  const embedHead = kernels === 'wasm' ? await EmbedHead.load(read, manifest.graphs, arch) : undefined;
  const embed = embedHead ? undefined : await loadGraphFile(dir, manifest.graphs.embed, threads, ortWasmDir);
  const attentionBytes = await Promise.all(manifest.graphs.attention.map(read));
  const decodeAttention = kernels === 'wasm' ? DecodeAttention.load(attentionBytes, manifest.graphs.attention, arch, manifest.contextTokens) : undefined;
  let attention: Graph[] | undefined;
  if (!decodeAttention) {
    attention = [];
    for (const [l, name] of manifest.graphs.attention.entries()) attention.push(await loadGraphFile(dir, name, threads, ortWasmDir, attentionBytes[l]));
  }
  const head = embedHead ? undefined : await loadGraphFile(dir, manifest.graphs.head, threads, ortWasmDir);
  const all = [embed, ...(attention ?? []), head].filter((g): g is Graph => g !== undefined);
  return { graphs: { embed, attention, head, all }, embedHead, decodeAttention };
}

async function denseFfn(file: fs.FileHandle, header: FfnHeader, graph: Graph, arch: Architecture): Promise<DenseFfn> {
  const layers = [];
  for (let l = 0; l < arch.layers; l++) layers.push(await readFfnLayer(file, header, l));
  return new DenseFfn(graph, layers, arch.dModel, arch.ffnSize);
}

function checkFfnMatches(h: FfnHeader, a: Architecture, name: string): void {
  if (h.layers !== a.layers || h.dModel !== a.dModel || h.ffnSize !== a.ffnSize || h.gated !== a.ffnGated) {
    throw new ModelFileCorruptError(name, `shape ${h.layers}×${h.ffnSize}×${h.dModel} does not match the manifest's architecture`);
  }
}
