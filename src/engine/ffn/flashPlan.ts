// How a memory budget is spent (models/FORMAT.md, flashcode.engine.memoryBudgetMB): the resident
// graphs, the predictors and the largest KV cache come first; what is left holds neuron records.
// When every neuron fits, the FFN stays resident and only compute is sparse.
import { FlashBudgetTooSmallError } from '../errors';
import type { Manifest } from '../manifest';

export interface FlashPlan {
  /** Neurons each layer's cache holds (ffnSize when fully resident). */
  residentNeuronsPerLayer: number;
  fullyResident: boolean;
  /** Neurons streamed per chunk when a prefill runs a non-resident layer densely. */
  prefillChunkNeurons: number;
  /** Accounted bytes by category; total ≤ the budget. */
  bytes: { graphs: number; predictors: number; kvCache: number; neuronCache: number; staging: number; total: number };
}

const MIB = 2 ** 20;
const PREFILL_CHUNK_NEURONS = 128;

export function ffnRecordFloats(a: Manifest['architecture']): number {
  return (a.ffnGated ? 3 : 2) * a.dModel;
}

/** Bytes the dense path keeps resident for the same model: graphs, every FFN weight as f32, and the
 *  largest KV cache. The bench's "dense footprint". */
export function denseResidentBytes(manifest: Manifest): number {
  const a = manifest.architecture;
  return graphBytes(manifest) + a.layers * a.ffnSize * ffnRecordFloats(a) * 4 + maxKvBytes(manifest);
}

export function graphBytes(manifest: Manifest): number {
  const g = manifest.graphs;
  return [g.embed, ...g.attention, g.ffn, g.head].reduce((n, name) => n + manifest.files[name].bytes, 0);
}

export function maxKvBytes(manifest: Manifest): number {
  const a = manifest.architecture;
  return manifest.contextTokens * a.layers * 2 * a.kvHeads * a.headDim * 4;
}

/** predictorBytes: resident bytes of the loaded predictors; fileRecordBytes: one record in ffn.bin;
 *  maxPredictedFraction: the largest share of a layer's neurons one token is predicted to need. */
export function planFlash(
  manifest: Manifest, budgetBytes: number, predictorBytes: number, fileRecordBytes: number, maxPredictedFraction: number,
  forcedNeuronsPerLayer?: number, // tests and benchmarks: this many, whatever the budget
): FlashPlan {
  const a = manifest.architecture;
  const graphs = graphBytes(manifest);
  const kvCache = maxKvBytes(manifest);
  const slabPerNeuron = ffnRecordFloats(a) * 4 + 12; // rows + id/slot/last-use entries
  const chunk = Math.min(PREFILL_CHUNK_NEURONS, a.ffnSize);
  const fixed = graphs + predictorBytes + kvCache;
  const full = a.layers * a.ffnSize * slabPerNeuron;
  // A quarter above the largest predicted share: one token's neurons and some room for the window.
  const minNeurons = Math.min(a.ffnSize, Math.max(16, Math.ceil(1.25 * maxPredictedFraction * a.ffnSize)));
  const partialFixed = fixed + chunk * ffnRecordFloats(a) * 4; // + the prefill chunk's rows
  if (forcedNeuronsPerLayer !== undefined) {
    const n = Math.min(a.ffnSize, forcedNeuronsPerLayer);
    return n === a.ffnSize ? plan(n, true, 0, 0) : plan(n, false, chunk, Math.max(n, chunk) * fileRecordBytes);
  }
  if (fixed + full <= budgetBytes) return plan(a.ffnSize, true, 0, 0);
  // One reader stages the reads of one layer at a time: one record's bytes per resident neuron.
  const perLayer = Math.min(a.ffnSize - 1, Math.floor((budgetBytes - partialFixed) / (a.layers * slabPerNeuron + fileRecordBytes)));
  if (perLayer < minNeurons) {
    const minimum = Math.min(fixed + full, partialFixed + minNeurons * (a.layers * slabPerNeuron + fileRecordBytes));
    throw new FlashBudgetTooSmallError(budgetBytes / MIB, Math.ceil(minimum / MIB));
  }
  return plan(perLayer, false, chunk, Math.max(perLayer, chunk) * fileRecordBytes);

  function plan(neurons: number, fullyResident: boolean, prefillChunkNeurons: number, staging: number): FlashPlan {
    const neuronCache = a.layers * neurons * slabPerNeuron + prefillChunkNeurons * ffnRecordFloats(a) * 4;
    const total = graphs + predictorBytes + kvCache + neuronCache + staging;
    return { residentNeuronsPerLayer: neurons, fullyResident, prefillChunkNeurons, bytes: { graphs, predictors: predictorBytes, kvCache, neuronCache, staging, total } };
  }
}
