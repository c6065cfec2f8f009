// Sets up the flash FFN path of a model: predictors checked against the manifest, the memory budget
// planned, per-layer neuron caches allocated (and filled when everything fits). A model whose
// predictors are missing or do not verify runs densely instead, with a notice saying why; a budget
// too small for the model refuses the load with the minimum that would work.
import type fs from 'node:fs/promises';
import type { Graph } from '../backend/ort';
import { EngineError } from '../errors';
import type { ModelDir } from '../modelDir';
import type { FfnHeader } from '../weights/ffnFile';
import { readPredictors, type PredictorLayer } from '../weights/predictorsFile';
import { planFlash, type FlashPlan } from './flashPlan';
import { emptyFlashStats, type FlashStats } from './flashStats';
import { NeuronCache } from './neuronCache';
import { Predictor } from './predictor';
import { RecordReader } from './recordReader';
import { SparseFfn, type SparseFfnOptions } from './sparseFfn';

export interface FlashOptions {
  /** 'sparse': predicted neurons only, through the neuron cache; 'dense': every neuron, resident. */
  mode: 'dense' | 'sparse';
  /** Bound on the engine's resident bytes: graphs, predictors, KV cache and neuron caches. */
  memoryBudgetMB: number;
  /** Neurons used in the last k tokens stay cached (when not everything fits). Default 5. */
  windowTokens?: number;
  /** Calls of up to this many tokens run sparse (decode, speculative verification). Default 16. */
  maxSparseTokens?: number;
  /** The control: every neuron active, which must equal the dense FFN. Needs no predictors. */
  forceAllActive?: boolean;
  /** Check the predictor against the true activations on every Nth sparse row. Default 0 (never). */
  recallSampleEvery?: number;
  /** Tests and benchmarks: hold this many neurons per layer, whatever the budget says. */
  residentNeuronsPerLayer?: number;
  /** Sparse kernel: 'js' reads the cache in place (default, faster by `npm run bench`), 'ort' feeds the gathered rows to the FFN graph. */
  kernel?: 'js' | 'ort';
}

export interface FlashFfn {
  readonly step: SparseFfn;
  readonly plan: FlashPlan;
  readonly stats: FlashStats;
  readonly windowTokens: number;
  /** Resident bytes by category, with the KV cache as it is now. */
  residentBytes(kvCacheBytes: number): FlashPlan['bytes'];
}

export type FlashLoad = { ok: true; flash: FlashFfn } | { ok: false; notice: string };

export async function loadFlashFfn(dir: ModelDir, file: fs.FileHandle, header: FfnHeader, graph: Graph, options: FlashOptions): Promise<FlashLoad> {
  const { manifest } = dir;
  const a = manifest.architecture;
  let predictorLayers: PredictorLayer[] = [];
  if (!options.forceAllActive) {
    const loaded = await loadPredictors(dir);
    if (!loaded.ok) return loaded;
    predictorLayers = loaded.layers;
  }
  const predictors = predictorLayers.map((p) => new Predictor(p, a.dModel, a.ffnSize));
  const predictorBytes = predictors.reduce((n, p) => n + p.bytes, 0);
  const fractions = manifest.predictors?.perLayer.map((l) => l.predictedActiveFraction) ?? [];
  const maxFraction = options.forceAllActive ? 1 : Math.max(0, ...fractions);
  const plan = planFlash(manifest, options.memoryBudgetMB * 2 ** 20, predictorBytes, header.recordBytes, maxFraction, options.residentNeuronsPerLayer);

  const caches = Array.from({ length: a.layers }, () => new NeuronCache(plan.residentNeuronsPerLayer, a.ffnSize, a.dModel, a.ffnGated));
  const stats = emptyFlashStats(a.layers);
  if (plan.fullyResident) {
    const all = Int32Array.from({ length: a.ffnSize }, (_, j) => j);
    const preload = new RecordReader(file, header, a.ffnSize, manifest.ffn.file);
    const counters = { bytesRead: 0, reads: 0, neuronsRead: 0 };
    for (let l = 0; l < a.layers; l++) await preload.load(l, all, a.ffnSize, caches[l], 0, counters);
  }
  const reader = new RecordReader(file, header, plan.fullyResident ? 0 : Math.max(plan.residentNeuronsPerLayer, plan.prefillChunkNeurons), manifest.ffn.file);
  const windowTokens = options.windowTokens ?? 5;
  const sparseOptions: SparseFfnOptions = {
    windowTokens,
    maxSparseTokens: options.maxSparseTokens ?? 16,
    forceAllActive: options.forceAllActive ?? false,
    recallSampleEvery: options.recallSampleEvery ?? 0,
    prefillChunkNeurons: plan.prefillChunkNeurons,
    kernel: options.kernel ?? 'js',
  };
  const step = new SparseFfn(a, graph, caches, predictors, reader, sparseOptions, stats);
  return {
    ok: true,
    flash: {
      step, plan, stats, windowTokens,
      residentBytes: (kvCacheBytes) => {
        const b = { ...plan.bytes, kvCache: kvCacheBytes };
        return { ...b, total: b.graphs + b.predictors + b.kvCache + b.neuronCache + b.staging };
      },
    },
  };
}

async function loadPredictors(dir: ModelDir): Promise<{ ok: true; layers: PredictorLayer[] } | { ok: false; notice: string }> {
  const entry = dir.manifest.predictors;
  const dense = 'the FFN runs densely (correct, slower)';
  if (!entry) return { ok: false, notice: `this model has no predictors.bin, so ${dense}.` };
  const failed = dir.optionalFileErrors.get(entry.file);
  if (failed) return { ok: false, notice: `${failed.message.replace(/ — .*$/, '')}; ${dense}.` };
  const a = dir.manifest.architecture;
  try {
    return { ok: true, layers: await readPredictors(dir.file(entry.file), { layers: a.layers, dModel: a.dModel, ffnSize: a.ffnSize }, entry.file) };
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    return { ok: false, notice: `${e.message.replace(/ — .*$/, '')}; ${dense}.` };
  }
}
