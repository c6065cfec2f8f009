// One forward pass, in the order the data flows: embed → per layer (attention graph → FFN step →
// residual) → head. Prefill and decode are the same call with T tokens or 1.
import fs from 'node:fs/promises';
import { loadGraph, type Graph } from './backend/ort';
import { DenseFfn, type FfnStep } from './ffn/ffnStep';
import { loadFlashFfn, type FlashFfn, type FlashOptions } from './ffn/loadFlash';
import { KvCache } from './kvCache';
import type { Architecture } from './manifest';
import type { ModelDir } from './modelDir';
import { ModelFileCorruptError } from './errors';
import { readFfnHeader, readFfnLayer, type FfnHeader } from './weights/ffnFile';

export class Model {
  /** Milliseconds spent in each stage of the forward pass since load (the bench's profile of a token). */
  readonly stageMs = { embed: 0, attention: 0, ffn: 0, head: 0 };

  private constructor(
    readonly arch: Architecture,
    private readonly embed: Graph,
    private readonly attention: Graph[],
    private readonly ffn: FfnStep,
    private readonly head: Graph,
    private readonly graphs: Graph[],
    /** The sparse path when it runs; undefined when the FFN is dense (asked for, or fallen back). */
    readonly flash: FlashFfn | undefined,
    /** Why the sparse path was asked for and does not run (shown once), if it does not. */
    readonly flashNotice: string | undefined,
    private readonly closeFiles: () => Promise<void>,
  ) {}

  /** flash: the sparse FFN path (predictors + neuron cache) and its memory budget; without it, or
   *  when the model has no usable predictors, the FFN is dense. */
  static async load(dir: ModelDir, threads: number, ortWasmDir?: string, flash?: FlashOptions): Promise<Model> {
    const { manifest } = dir;
    const arch = manifest.architecture;
    const graph = async (name: string) => {
      try {
        return await loadGraph(await fs.readFile(dir.file(name)), threads, ortWasmDir);
      } catch (e) {
        throw new ModelFileCorruptError(name, `ONNX Runtime cannot load it: ${(e as Error).message}`);
      }
    };
    const embed = await graph(manifest.graphs.embed);
    const attention = [];
    for (const name of manifest.graphs.attention) attention.push(await graph(name));
    const ffnGraph = await graph(manifest.graphs.ffn);
    const head = await graph(manifest.graphs.head);

    const graphs = [embed, ...attention, ffnGraph, head];
    const file = await fs.open(dir.file(manifest.ffn.file), 'r');
    try {
      const header = await readFfnHeader(file, manifest.ffn.file);
      checkFfnMatches(header, arch, manifest.ffn.file);
      if (flash?.mode === 'sparse') {
        const sparse = await loadFlashFfn(dir, file, header, ffnGraph, flash);
        if (sparse.ok) {
          return new Model(arch, embed, attention, sparse.flash.step, head, graphs, sparse.flash, undefined, () => file.close());
        }
        const ffn = await denseFfn(file, header, ffnGraph, arch);
        await file.close();
        return new Model(arch, embed, attention, ffn, head, graphs, undefined, sparse.notice, async () => undefined);
      }
      const ffn = await denseFfn(file, header, ffnGraph, arch);
      await file.close();
      return new Model(arch, embed, attention, ffn, head, graphs, undefined, undefined, async () => undefined);
    } catch (e) {
      await file.close();
      throw e;
    }
  }

  newCache(): KvCache {
    return new KvCache(this.arch.layers, this.arch.kvHeads, this.arch.headDim);
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
    const inputIds = BigInt64Array.from(ids, (i) => BigInt(i));
    const positions = BigInt64Array.from({ length: T }, (_, i) => BigInt(kv.length + i)); // continue after the cached positions
    const ms = this.stageMs;
    let start = performance.now();
    let hidden = (await this.embed.run({ input_ids: { type: 'int64', data: inputIds, dims: [1, T] } })).hidden.data; // [1][T][d]
    ms.embed += performance.now() - start;

    for (let l = 0; l < this.arch.layers; l++) {
      start = performance.now();
      const out = await this.attention[l].run({
        hidden: { type: 'float32', data: hidden, dims: [1, T, d] },
        position_ids: { type: 'int64', data: positions, dims: [1, T] },
        past_key: { type: 'float32', data: kv.keys[l], dims: kv.dims() },
        past_value: { type: 'float32', data: kv.values[l], dims: kv.dims() },
      });
      kv.set(l, out.present_key.data, out.present_value.data);
      const ffnStart = performance.now();
      ms.attention += ffnStart - start;
      const y = await this.ffn.forward(l, out.ffn_input.data, T); // [T][d]
      ms.ffn += performance.now() - ffnStart;
      hidden = out.hidden_out.data;
      for (let i = 0; i < hidden.length; i++) hidden[i] += y[i];
    }
    kv.advance(ids);

    const rows = allPositions ? T : 1;
    const last = hidden.slice((T - rows) * d); // [1][rows][d]
    start = performance.now();
    const logits = (await this.head.run({ hidden: { type: 'float32', data: last, dims: [1, rows, d] } })).logits.data; // [1][rows][vocab]
    ms.head += performance.now() - start;
    return logits;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.graphs.map((g) => g.release()));
    await this.closeFiles();
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
