// How a memory budget is spent (models/FORMAT.md, flashcode.engine.memoryBudgetMB): the resident
// graphs, the layer kernels' weights (embedding, head, decode attention), the predictors and the
// largest KV cache come first; what is left holds neuron records.
// When every neuron fits, the FFN stays resident and only compute is sparse.
import { FlashBudgetTooSmallError } from '../errors';
import type { Manifest } from '../manifest';

export interface FlashPlan {
  /** Neurons each layer's cache holds (ffnSize when the layer is fully resident). */
  neuronsPerLayer: number[];
  fullyResident: boolean;
  /** Neurons streamed per chunk when a prefill runs a non-resident layer densely. */
  prefillChunkNeurons: number;
  /** Accounted bytes by category; total ≤ the budget. */
  bytes: { graphs: number; kernels: number; predictors: number; kvCache: number; neuronCache: number; staging: number; total: number };
}

const MIB = 2 ** 20;
const PREFILL_CHUNK_NEURONS = 128;
/** The smallest cache: a quarter above a layer's mean predicted share, room for one token's
 *  neurons and a little of the window. */
const MIN_SCALE = 1.25;

export function ffnRecordFloats(a: Manifest['architecture']): number {
  return (a.ffnGated ? 3 : 2) * a.dModel;
}

/** What the layer kernels (model.ts) keep resident, and the graphs they make it unnecessary to load. */
export interface KernelFootprint {
  bytes: number;
  graphsNotLoaded: readonly string[];
}

const NO_KERNELS: KernelFootprint = { bytes: 0, graphsNotLoaded: [] };

/** Bytes the dense path keeps resident for the same model: graphs, the layer kernels, every FFN
 *  weight as f32, and the largest KV cache. The bench's "dense footprint". */
export function denseResidentBytes(manifest: Manifest, kernels = NO_KERNELS): number {
  const a = manifest.architecture;
  return graphBytes(manifest, kernels.graphsNotLoaded) + kernels.bytes + a.layers * a.ffnSize * ffnRecordFloats(a) * 4 + maxKvBytes(manifest);
}

export interface PlanOptions {
  /** Tests and benchmarks: this many neurons in every layer, whatever the budget. */
  forcedNeuronsPerLayer?: number;
  /** The layer kernels' resident bytes (their KV cache is the kvCache category) and the graphs
   *  not loaded because of them. Default none. */
  kernels?: KernelFootprint;
}

export function graphBytes(manifest: Manifest, notLoaded: readonly string[] = []): number {
  if (manifest.formatVersion !== 1) return 0; // v2 has no ONNX graphs
  const g = manifest.graphs;
  return [g.embed, ...g.attention, g.ffn, g.head].filter((name) => !notLoaded.includes(name)).reduce((n, name) => n + manifest.files[name].bytes, 0);
}

export function maxKvBytes(manifest: Manifest): number {
  const a = manifest.architecture;
  return manifest.contextTokens * a.layers * 2 * a.kvHeads * a.headDim * 4;
}

/** predictorBytes: resident bytes of the loaded predictors; fileRecordBytes: one record in ffn.bin;
 *  predictedFractions: per layer, the mean share of neurons a token is predicted to need (the
 *  manifest's predictedActiveFraction; 1 for the all-active control). A partial plan splits the
 *  neurons it can afford between layers in proportion to that share, so a layer that needs few
 *  neurons does not hold room another needs. */
export function planFlash(
  manifest: Manifest, budgetBytes: number, predictorBytes: number, fileRecordBytes: number, predictedFractions: readonly number[],
  { forcedNeuronsPerLayer, kernels = NO_KERNELS }: PlanOptions = {},
): FlashPlan {
  const a = manifest.architecture;
  const graphs = graphBytes(manifest, kernels.graphsNotLoaded);
  const kvCache = maxKvBytes(manifest);
  const slabPerNeuron = ffnRecordFloats(a) * 4 + 12; // rows + id/slot/last-use entries
  const chunk = Math.min(PREFILL_CHUNK_NEURONS, a.ffnSize);
  const all = Array<number>(a.layers).fill(a.ffnSize);
  if (forcedNeuronsPerLayer !== undefined) return plan(Array<number>(a.layers).fill(Math.min(a.ffnSize, forcedNeuronsPerLayer)));
  const full = plan(all);
  if (full.bytes.total <= budgetBytes) return full;
  // `scale` × a layer's predicted share of neurons, at least 16, at most all of them.
  const sized = (scale: number) => predictedFractions.map((f) => Math.min(a.ffnSize, Math.max(16, Math.ceil(scale * f * a.ffnSize))));
  const minimum = plan(sized(MIN_SCALE));
  if (minimum.bytes.total > budgetBytes) {
    throw new FlashBudgetTooSmallError(budgetBytes / MIB, Math.ceil(Math.min(minimum.bytes.total, full.bytes.total) / MIB));
  }
  let lo = MIN_SCALE, hi = 1 / Math.max(1e-6, Math.min(...predictedFractions.filter((f) => f > 0), 1));
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (plan(sized(mid)).bytes.total <= budgetBytes) lo = mid; else hi = mid;
  }
  return plan(sized(lo));

  function plan(neuronsPerLayer: number[]): FlashPlan {
    const fullyResident = neuronsPerLayer.every((n) => n === a.ffnSize);
    const prefillChunkNeurons = fullyResident ? 0 : chunk;
    // A reader stages one layer's reads at a time: up to its largest cache's records.
    const staging = fullyResident ? 0 : Math.max(chunk, ...neuronsPerLayer) * fileRecordBytes;
    const neuronCache = neuronsPerLayer.reduce((n, c) => n + c, 0) * slabPerNeuron + prefillChunkNeurons * ffnRecordFloats(a) * 4;
    const total = graphs + kernels.bytes + predictorBytes + kvCache + neuronCache + staging;
    return { neuronsPerLayer, fullyResident, prefillChunkNeurons, bytes: { graphs, kernels: kernels.bytes, predictors: predictorBytes, kvCache, neuronCache, staging, total } };
  }
}
