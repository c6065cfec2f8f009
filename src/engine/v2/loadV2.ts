// A format-v2 model directory (models/FORMAT.md §M, §W, §F) → ModelV2: weights.bin's tensors read
// straight into the kernels' memory, ffn.bin's records split into the FFN matrices. The KV cache
// holds at most MAX_CONTEXT_TOKENS positions whatever the checkpoint allows: in 8 bits it costs
// layers × 2 × kvHeads × (headDim + 4) bytes a position (12 KB for SmolLM2-135M; f32: 46 KB).
import fs from 'node:fs/promises';
import { FlashBudgetTooSmallError, KernelsUnsupportedError, ModelFileCorruptError, ModelTooLargeError } from '../errors';
import type { FlashOptions } from '../ffn/loadFlash';
import { budgetMB } from '../memoryBudget';
import type { Architecture } from '../manifest';
import type { ManifestV2 } from '../manifestV2';
import type { ModelDir } from '../modelDir';
import { checkFfnMatchesV2, readFfnHeader, readFfnLayerRaw } from '../weights/ffnFile';
import { readTensorInto, readWeightsHeader } from '../weights/weightsFile';
import { ModelV2, type MemoryPlanV2 } from './modelV2';
import { recordBytesV2 } from './ffnStore';
import { arenaBytes, loadWeightsV2, type FfnPlan, type TensorSource } from './weightsV2';

// 1,024: a first completion on a file prefills up to this many tokens before its first character,
// which took 40–70 s at 2,048 on this (shared) 2-core machine; Explain of a 5–15-line function
// fits easily.
export const MAX_CONTEXT_TOKENS = 1024;

/** The largest WebAssembly memory the kernels can have (wasm32: 65,536 pages of 64 KiB). */
export const WASM_MEMORY_LIMIT_BYTES = 4 * 1024 ** 3;

/** Fewest neurons per layer the flash cache may hold: below it, the cache thrashes on every token. */
export const MIN_CACHED_NEURONS = 64;

const MIB = 2 ** 20;

/** flash: with mode 'sparse', a model larger than memoryBudgetMB keeps within it what is worth most
 *  per byte and reads the rest from disk as it is used (planMemory); a silu model's FFN goes behind
 *  the neuron cache, its decoding running only the neurons its gate thresholds keep (all, where
 *  they are 0). Otherwise every weight is resident.
 *  threads: the prompt's chunks (by tokens) and each decoded token (by rows) are split across this
 *  many threads. */
export async function loadModelV2(dir: ModelDir & { manifest: ManifestV2 }, flash?: FlashOptions, threads = 1): Promise<ModelV2> {
  const { manifest } = dir;
  const arch = manifest.architecture;
  const contextTokens = Math.min(manifest.contextTokens, MAX_CONTEXT_TOKENS);
  if (arch.headDim % 8 !== 0 || arch.headDim > 256) throw new KernelsUnsupportedError(`a head size of ${arch.headDim} (the 8-bit KV cache's attention takes multiples of 8 up to 256)`);
  const weights = await fs.open(dir.file(manifest.weights.file), 'r');
  const ffn = await fs.open(dir.file(manifest.ffn.file), 'r');
  const keepOpen: fs.FileHandle[] = [];
  try {
    const header = await readWeightsHeader(weights, manifest.weights.file, manifest);
    const ffnHeader = await readFfnHeader(ffn, manifest.ffn.file);
    checkFfnMatchesV2(ffnHeader, manifest);
    const source: TensorSource = {
      has: (name) => header.tensors.has(name),
      dtype: (name) => header.tensors.get(name)?.dtype,
      read: async (name, dst) => {
        const t = header.tensors.get(name);
        if (!t) throw new ModelFileCorruptError(manifest.weights.file, `tensor ${name} is missing`);
        await readTensorInto(weights, manifest.weights.file, t, dst);
      },
      ffnLayer: (l) => readFfnLayerRaw(ffn, ffnHeader, l, manifest.ffn.file),
      ffnGatedRecords: ffnHeader.gated,
      file: { fd: weights.fd, name: manifest.weights.file, offset: (name) => header.tensors.get(name)!.offset },
    };
    const thresholds = manifest.sparsity && 'gateThresholds' in manifest.sparsity ? manifest.sparsity.gateThresholds : [];
    const budget = budgetMB(flash?.memoryBudgetMB ?? 0);
    const sparse = arch.ffnActivation === 'silu' && thresholds.some((t) => t > 0);
    // the neurons a decoded token keeps in a layer, at most (the calibration's least skipping layer)
    const kept = sparse && manifest.sparsity && 'measuredSkip' in manifest.sparsity ? Math.ceil(arch.ffnSize * (1 - Math.min(...manifest.sparsity.measuredSkip))) : 0;
    const memory: Plan = flash?.mode === 'sparse'
      ? planMemory(arch, contextTokens, source, flash.streamEverything ? 0 : budget, ffn.fd, ffnHeader.sections, sparse, flash.residentNeuronsPerLayer, flash.streamEverything, threads, kept)
      : { streamed: new Set<string>(), ffn: { kind: 'resident' } };
    const bytes = arenaBytes(arch, contextTokens, source, memory.ffn, memory.streamed, threads);
    if (bytes > WASM_MEMORY_LIMIT_BYTES) throw new ModelTooLargeError(bytes, WASM_MEMORY_LIMIT_BYTES);
    const model = new ModelV2(arch, contextTokens, await loadWeightsV2(arch, contextTokens, source, thresholds, memory.ffn, memory.streamed, threads), threads);
    model.memoryPlan = describePlan(arch, header.tensors, memory, budget, bytes);
    if (memory.ffn.kind !== 'resident') keepOpen.push(ffn); // the neuron cache or the streamed layers read it until dispose
    if (memory.streamed.size > 0) keepOpen.push(weights); // so do the streamed matrices
    model.onDispose = async () => { for (const f of keepOpen) await f.close(); };
    return model;
  } finally {
    if (!keepOpen.includes(weights)) await weights.close();
    if (!keepOpen.includes(ffn)) await ffn.close();
  }
}

/** What the budget gives up, least value per byte first: an untied embedding (one row a token);
 *  a sparse silu model's FFN ('ffn': behind the neuron cache, which keeps the neurons its gate
 *  keeps choosing); then what a dense decode reads whole for every token, equal in value per byte,
 *  small units first so that no more is streamed than the budget needs: each layer's gate, out and
 *  qkv from the last layer to the first, the head (tied: the embedding too), and a dense silu
 *  model's FFN layers last ('ffn.<l>': read whole when they run, which costs a split besides). */
function streamOrder(arch: Architecture, sparse: boolean): string[] {
  const order = arch.tiedEmbeddings ? [] : ['embed'];
  if (sparse) order.push('ffn');
  for (let l = arch.layers - 1; l >= 0; l--) {
    if (arch.ffnActivation === 'silu') order.push(`layers.${l}.ffn_gate`);
    order.push(`layers.${l}.out`, `layers.${l}.qkv`);
  }
  order.push(arch.tiedEmbeddings ? 'embed' : 'head');
  if (!sparse && arch.ffnActivation === 'silu') for (let l = arch.layers - 1; l >= 0; l--) order.push(`ffn.${l}`);
  return order;
}

type Plan = { streamed: Set<string>; ffn: FfnPlan };

/** Within `budget` MB: everything resident when it fits; otherwise what streamOrder lists left on
 *  disk one by one (the neuron cache shrunk for 'ffn' to the `kept` neurons a decoded token keeps,
 *  else to MIN_CACHED_NEURONS) until the rest fits, the neuron cache then as large as the budget
 *  allows. Below what fits with all of it on disk:
 *  FlashBudgetTooSmallError with that minimum and what the whole model needs. */
function planMemory(arch: Architecture, contextTokens: number, source: TensorSource, budget: number, fd: number, sections: readonly { offset: number }[], sparse: boolean, forcedNeurons?: number, everything = false, threads = 1, kept = 0): Plan {
  const F = arch.ffnSize;
  const flash = (capacity: number): FfnPlan => ({ kind: 'flash', capacity, fd, sections });
  const planOf = (units: Set<string>, capacity: number): Plan => {
    const layers = new Set([...units].filter((u) => u.startsWith('ffn.')).map((u) => Number(u.slice(4))));
    const streamed = new Set([...units].filter((u) => !u.startsWith('ffn.')));
    return { streamed, ffn: capacity < F ? flash(capacity) : layers.size > 0 ? { kind: 'layers', streamed: layers, fd, sections } : { kind: 'resident' } };
  };
  const cost = (units: Set<string>, capacity: number) => {
    const p = planOf(units, capacity);
    return arenaBytes(arch, contextTokens, source, p.ffn, p.streamed, threads);
  };
  const units = new Set<string>();
  if (forcedNeurons !== undefined && arch.ffnActivation === 'silu') return planOf(units, Math.min(F, forcedNeurons));
  const limit = budget * MIB;
  if (cost(units, F) <= limit) return planOf(units, F);
  let capacity = F;
  let fewest = cost(units, F); // the least any step below needs: streaming can cost more than it saves on a small model
  const largestCache = (): number | undefined => { // neurons per layer within the budget, if ≥ the fewest
    if (cost(units, F) <= limit) return F;
    const base = cost(units, 0), perNeuron = (cost(units, F - 1) - base) / (F - 1); // F − 1: still the flash cache's cost
    const n = Math.min(F - 1, Math.floor((limit - base) / perNeuron));
    return n >= capacity ? n : undefined;
  };
  if (everything) return planOf(new Set(streamOrder(arch, false).filter((u) => u !== 'ffn')), F);
  // First with a cache that holds what a token keeps (smaller, every kept neuron would be read again
  // each token, in turns: the calibrated SmolLM2 at half its bytes decoded at 0.41 of resident with
  // 74 neurons cached, 0.62–0.67 with its matrices streamed and 1,402 cached, bench:flash-v2); if
  // no plan fits so, with the fewest worth caching.
  for (const least of new Set([Math.max(MIN_CACHED_NEURONS, Math.min(kept, F - 1)), MIN_CACHED_NEURONS])) {
    units.clear();
    capacity = F;
    for (const unit of streamOrder(arch, sparse)) {
      if (unit === 'ffn') capacity = least;
      else units.add(unit);
      const fits = capacity < F ? largestCache() : cost(units, F) <= limit ? F : undefined;
      if (fits !== undefined) return planOf(units, fits);
      fewest = Math.min(fewest, cost(units, capacity));
    }
  }
  const minimum = Math.ceil(fewest / MIB), whole = Math.ceil(cost(new Set(), F) / MIB);
  throw new FlashBudgetTooSmallError(budget, minimum, 'its KV cache, scratch rows, norms and read buffers, every matrix read from disk as it is used', whole, fewest);
}

function describePlan(arch: Architecture, tensors: Map<string, { bytes: number }>, memory: Plan, budget: number, arena: number): MemoryPlanV2 {
  const { ffnSize: F, dModel: d, layers } = arch;
  const cached = memory.ffn.kind === 'flash' ? memory.ffn.capacity : F;
  const streamedLayers = memory.ffn.kind === 'layers' ? memory.ffn.streamed.size : 0;
  const streamedMatrices = [...memory.streamed].reduce((n, name) => n + tensors.get(name)!.bytes, 0);
  const ffnStreamed = (layers * (F - cached) + streamedLayers * F) * recordBytesV2(d);
  const residentBytes = arena;
  const mb = (bytes: number) => (bytes / MIB).toFixed(1);
  const layerMatrices = [...memory.streamed].filter((n) => n.startsWith('layers.')).length;
  const parts = [
    ...['embed', 'head'].filter((n) => memory.streamed.has(n)).map((n) => (n === 'embed' && arch.tiedEmbeddings ? 'embedding/head' : n)),
    ...(layerMatrices > 0 ? [`${layerMatrices} layer matrices (qkv, out, gate)`] : []),
    ...(cached < F ? [`the FFN beyond ${cached} of ${F} neurons cached per layer`] : []),
    ...(streamedLayers > 0 ? [`the FFN of ${streamedLayers} of ${layers} layers`] : []),
  ];
  const summary = parts.length === 0
    ? `memory budget ${budget} MB: the whole model in memory (${mb(residentBytes)} MB)`
    : `memory budget ${budget} MB: ${mb(residentBytes)} MB in memory, ${mb(streamedMatrices + ffnStreamed)} MB of weights read from disk as used (${parts.join('; ')})`;
  return { budgetMB: budget, residentBytes, streamedBytes: streamedMatrices + ffnStreamed, streamed: [...memory.streamed], ffnCachedNeurons: cached, summary };
}
