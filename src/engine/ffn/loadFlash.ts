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
import { budgetMB } from '../memoryBudget';
import { planFlash, type FlashPlan, type KernelFootprint } from './flashPlan';
import { emptyFlashStats, type FlashStats } from './flashStats';
import { NeuronCache } from './neuronCache';
import { Predictor } from './predictor';
import { DenseStreamFfn } from './denseStream';
import { RecordReader } from './recordReader';
import { SparseFfn, type SparseFfnOptions } from './sparseFfn';
import { KernelArena, wasmKernelsAvailable } from '../wasm/wasmKernels';

export interface FlashOptions {
  /** 'sparse': predicted neurons only, through the neuron cache; 'dense': every neuron, resident. */
  mode: 'dense' | 'sparse';
  /** Bound on the engine's resident bytes: graphs, the layer kernels, predictors, KV cache and neuron
   *  caches. 0: automatic (autoBudgetMB). */
  memoryBudgetMB: number;
  /** Neurons used in the last k tokens stay cached (when not everything fits); older ones are
   *  evicted after each token. 0: none is evicted before its slot is needed (oldest use first). Default 5. */
  windowTokens?: number;
  /** Calls of up to this many tokens run sparse (decode, speculative verification). Default 16. */
  maxSparseTokens?: number;
  /** The control: every neuron active, which must equal the dense FFN. Needs no predictors. */
  forceAllActive?: boolean;
  /** Tests and benchmarks: hold this many neurons in every layer, whatever the budget says. */
  residentNeuronsPerLayer?: number;
  /** Tests (format-v2 models): leave on disk every matrix a budget could leave there, whatever the
   *  budget says (on a small model streaming costs more memory than it saves, so no budget would). */
  streamEverything?: boolean;
}

export interface FlashFfn {
  readonly step: SparseFfn;
  readonly plan: FlashPlan;
  readonly stats: FlashStats;
  readonly windowTokens: number;
  /** The neuron caches [layers] and the dense step: what the benchmark's recall check reads. */
  readonly caches: readonly NeuronCache[];
  readonly dense: DenseStreamFfn;
}

export type FlashLoad = { ok: true; flash: FlashFfn } | { ok: false; notice: string };

/** kernels: what the layer kernels keep resident (spent from the same budget) and the graphs not loaded. */
export async function loadFlashFfn(dir: ModelDir, file: fs.FileHandle, header: FfnHeader, graph: Graph, options: FlashOptions, kernels?: KernelFootprint): Promise<FlashLoad> {
  const { manifest } = dir;
  const a = manifest.architecture;
  let predictorLayers: PredictorLayer[] = [];
  if (!options.forceAllActive) {
    const loaded = await loadPredictors(dir);
    if (!loaded.ok) return loaded;
    predictorLayers = loaded.layers;
  }
  const maxSparseTokens = options.maxSparseTokens ?? 16;
  if (!wasmKernelsAvailable() || [a.dModel, a.ffnSize, ...predictorLayers.map((p) => p.rank)].some((n) => n % 4 !== 0)) {
    // The sparse kernel works in 4-float SIMD steps.
    return { ok: false, notice: 'the sparse FFN kernel needs WebAssembly SIMD and sizes that are multiples of 4, so the FFN runs densely (correct, slower).' };
  }
  const fractions = options.forceAllActive || !manifest.predictors
    ? Array<number>(a.layers).fill(1)
    : manifest.predictors.perLayer.map((l) => l.predictedActiveFraction);
  const predictorBytes = predictorLayers.reduce((n, p) => n + Predictor.arenaBytes(p, a.dModel, a.ffnSize), 0);
  const plan = planFlash(manifest, budgetMB(options.memoryBudgetMB) * 2 ** 20, predictorBytes, header.recordBytes, fractions, { forcedNeuronsPerLayer: options.residentNeuronsPerLayer, kernels });

  // The kernels' memory holds the neuron caches, the predictors and the sparse rows of x and y.
  const parts = a.ffnGated ? 3 : 2;
  const arena = new KernelArena(plan.neuronsPerLayer.reduce((n, c) => n + parts * KernelArena.bytesFor(c * a.dModel), 0) + predictorBytes
    + 2 * KernelArena.bytesFor(maxSparseTokens * a.dModel) + KernelArena.bytesFor(a.ffnSize) // x, y, slots
    + parts * KernelArena.bytesFor(plan.prefillChunkNeurons * a.dModel) + KernelArena.bytesFor(Math.max(1, plan.prefillChunkNeurons))); // chunk rows, slots
  const predictors = predictorLayers.map((p) => new Predictor(p, a.dModel, a.ffnSize, arena));
  const caches = plan.neuronsPerLayer.map((n) => new NeuronCache(n, a.ffnSize, a.dModel, a.ffnGated, arena));
  const stats = emptyFlashStats(a.layers);
  if (plan.fullyResident) {
    const all = Int32Array.from({ length: a.ffnSize }, (_, j) => j);
    const preload = new RecordReader(file, header, a.ffnSize, manifest.ffn.file);
    const counters = { bytesRead: 0, reads: 0, neuronsRead: 0 };
    for (let l = 0; l < a.layers; l++) await preload.load(l, all, a.ffnSize, caches[l], 0, counters);
  }
  const reader = new RecordReader(file, header, plan.bytes.staging / header.recordBytes, manifest.ffn.file);
  const windowTokens = options.windowTokens ?? 5;
  const sparseOptions: SparseFfnOptions = {
    windowTokens,
    maxSparseTokens,
    forceAllActive: options.forceAllActive ?? false,
    prefillChunkNeurons: plan.prefillChunkNeurons,
  };
  const chunk = plan.fullyResident ? undefined : new NeuronCache(plan.prefillChunkNeurons, a.ffnSize, a.dModel, a.ffnGated, arena);
  const dense = new DenseStreamFfn(a, graph, caches, reader, chunk, plan.prefillChunkNeurons, stats);
  const step = new SparseFfn(a, dense, caches, chunk, predictors, reader, sparseOptions, stats, arena);
  return { ok: true, flash: { step, plan, stats, windowTokens, caches, dense } };
}

async function loadPredictors(dir: ModelDir): Promise<{ ok: true; layers: PredictorLayer[] } | { ok: false; notice: string }> {
  const entry = dir.manifest.predictors;
  const dense = 'the FFN runs densely (correct, slower)';
  if (!entry) return { ok: false, notice: `this model has no predictors.bin, so ${dense}.` };
  const failed = dir.optionalFileErrors.get(entry.file);
  if (failed) return { ok: false, notice: `${failed.message.replace(/ — .*$/, '')}; ${dense}.` };
  const a = dir.manifest.architecture;
  try {
    return { ok: true, layers: await readPredictors(dir.file(entry.file), { layers: a.layers, dModel: a.dModel, ffnSize: a.ffnSize, ranks: entry.perLayer.map((p) => p.rank) }, entry.file) };
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    return { ok: false, notice: `${e.message.replace(/ — .*$/, '')}; ${dense}.` };
  }
}

