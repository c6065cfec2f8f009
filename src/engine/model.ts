// One forward pass of a version-1 model, in the order the data flows: embed → per layer (attention
// → FFN step → residual) → head. Prefill and decode are the same call with T tokens or 1. Around
// the FFN, the layers run in the WebAssembly kernels (embedHead.ts, decodeAttention.ts), reading
// the weights out of the graphs' files, whose ONNX Runtime sessions are never created; only the FFN
// graph runs on ONNX Runtime (dense calls).
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

export class Model {
  /** Milliseconds spent in each stage of the forward pass since load (the bench's profile of a token). */
  readonly stageMs = { embed: 0, attention: 0, ffn: 0, head: 0 };

  private constructor(
    readonly arch: Architecture,
    readonly contextTokens: number,
    readonly embedHead: EmbedHead,
    readonly decodeAttention: DecodeAttention,
    private readonly ffnGraph: Graph,
    private readonly ffn: FfnStep,
    /** The sparse path when it runs; undefined when the FFN is dense (asked for, or fallen back). */
    readonly flash: FlashFfn | undefined,
    /** Why the sparse path was asked for and does not run (shown once), if it does not. */
    readonly flashNotice: string | undefined,
    private readonly closeFiles: () => Promise<void>,
  ) {}

  /** What the layer kernels of a model keep resident, and the graphs they spare: what Model.load
   *  spends from the memory budget (the bench's dense footprint counts it too). */
  static kernelFootprint(anyManifest: Manifest): KernelFootprint {
    const manifest = requireV1(anyManifest, 'Model');
    return {
      bytes: DecodeAttention.weightBytes(manifest.architecture, manifest.contextTokens) + EmbedHead.residentBytes(manifest.architecture),
      graphsNotLoaded: [manifest.graphs.embed, ...manifest.graphs.attention, manifest.graphs.head],
    };
  }

  /** flash: the sparse FFN path (predictors + neuron cache) and its memory budget; without it, or
   *  when the model has no usable predictors, the FFN is dense. */
  static async load(dir: ModelDir, threads: number, ortWasmDir?: string, flash?: FlashOptions): Promise<Model> {
    const manifest = requireV1(dir.manifest, 'Model');
    const arch = manifest.architecture;
    const read = (name: string) => fs.readFile(dir.file(name));
    const embedHead = await EmbedHead.load(read, manifest.graphs, arch);
    const decodeAttention = DecodeAttention.load(await Promise.all(manifest.graphs.attention.map(read)), manifest.graphs.attention, arch, manifest.contextTokens);
    const ffnGraph = await loadGraphFile(dir, manifest.graphs.ffn, threads, ortWasmDir);
    const footprint = Model.kernelFootprint(manifest);
    const model = (ffn: FfnStep, sparse: FlashFfn | undefined, notice: string | undefined, closeFiles: () => Promise<void>) =>
      new Model(arch, manifest.contextTokens, embedHead, decodeAttention, ffnGraph, ffn, sparse, notice, closeFiles);
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
    let hidden = this.embedHead.embed(ids); // [T][d]
    ms.embed += performance.now() - start;

    for (let l = 0; l < this.arch.layers; l++) {
      start = performance.now();
      const out = this.decodeAttention.step(l, hidden, T, kv);
      const ffnStart = performance.now();
      ms.attention += ffnStart - start;
      const y = await this.ffn.forward(l, out.ffnInput, T); // [T][d]
      ms.ffn += performance.now() - ffnStart;
      hidden = out.hiddenOut;
      for (let i = 0; i < hidden.length; i++) hidden[i] += y[i];
    }
    kv.advance(ids);

    const rows = allPositions ? T : 1;
    const last = hidden.slice((T - rows) * d); // [rows][d]
    start = performance.now();
    const logits = this.embedHead.logits(last, rows); // [rows][vocab]
    ms.head += performance.now() - start;
    return logits;
  }

  async dispose(): Promise<void> {
    await this.ffnGraph.release();
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
