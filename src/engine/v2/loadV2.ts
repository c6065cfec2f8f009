// A format-v2 model directory (models/FORMAT.md §M, §W, §F) → ModelV2: weights.bin's tensors read
// straight into the kernels' memory, ffn.bin's records split into the FFN matrices. The KV cache
// holds at most MAX_CONTEXT_TOKENS positions whatever the checkpoint allows: at f32 it costs
// layers × 2 × kvHeads × headDim × 4 bytes a position (46 KB for SmolLM2-135M).
import fs from 'node:fs/promises';
import { FlashBudgetTooSmallError, ModelFileCorruptError, ModelTooLargeError } from '../errors';
import type { FlashOptions } from '../ffn/loadFlash';
import { budgetMB } from '../memoryBudget';
import type { ManifestV2 } from '../manifestV2';
import type { ModelDir } from '../modelDir';
import { checkFfnMatchesV2, readFfnHeader, readFfnLayerRaw } from '../weights/ffnFile';
import { readTensorInto, readWeightsHeader } from '../weights/weightsFile';
import { ModelV2 } from './modelV2';
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

/** flash: with mode 'sparse', a silu model larger than memoryBudgetMB keeps up and down in ffn.bin
 *  and a neuron cache within the budget holds what decoding reads; decoding runs only the neurons
 *  its gate thresholds keep (all, where they are 0). Otherwise every weight is resident.
 *  threads: the prompt's chunks are split across this many threads (decode runs on one). */
export async function loadModelV2(dir: ModelDir & { manifest: ManifestV2 }, flash?: FlashOptions, threads = 1): Promise<ModelV2> {
  const { manifest } = dir;
  const arch = manifest.architecture;
  const contextTokens = Math.min(manifest.contextTokens, MAX_CONTEXT_TOKENS);
  const weights = await fs.open(dir.file(manifest.weights.file), 'r');
  const ffn = await fs.open(dir.file(manifest.ffn.file), 'r');
  let keepOpen: fs.FileHandle | undefined;
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
    };
    const thresholds = manifest.sparsity && 'gateThresholds' in manifest.sparsity ? manifest.sparsity.gateThresholds : [];
    let plan: FfnPlan = { kind: 'resident' };
    // A budget below the whole model puts up and down behind the flash cache (silu models: their
    // gate stays resident to choose the neurons), whether or not the gate skips any.
    const sparse = flash?.mode === 'sparse' && arch.ffnActivation === 'silu';
    const budget = budgetMB(flash?.memoryBudgetMB ?? 0);
    if (sparse && (flash.residentNeuronsPerLayer !== undefined || arenaBytes(arch, contextTokens, source, undefined, threads) > budget * 2 ** 20)) {
      const flashPlan = (capacity: number): FfnPlan => ({ kind: 'flash', capacity, fd: ffn.fd, sections: ffnHeader.sections });
      const fixed = arenaBytes(arch, contextTokens, source, flashPlan(0), threads) + arch.ffnSize * recordBytesV2(arch.dModel); // + the read staging
      const perNeuron = (arenaBytes(arch, contextTokens, source, flashPlan(1000), threads) - arenaBytes(arch, contextTokens, source, flashPlan(0), threads)) / 1000;
      const capacity = Math.min(arch.ffnSize, flash.residentNeuronsPerLayer ?? Math.floor((budget * 2 ** 20 - fixed) / perNeuron));
      if (capacity < MIN_CACHED_NEURONS && flash.residentNeuronsPerLayer === undefined) throw new FlashBudgetTooSmallError(budget, Math.ceil((fixed + MIN_CACHED_NEURONS * perNeuron) / 2 ** 20));
      plan = flashPlan(capacity);
    }
    const bytes = arenaBytes(arch, contextTokens, source, plan, threads);
    if (bytes > WASM_MEMORY_LIMIT_BYTES) throw new ModelTooLargeError(bytes, WASM_MEMORY_LIMIT_BYTES);
    const model = new ModelV2(arch, contextTokens, await loadWeightsV2(arch, contextTokens, source, thresholds, plan, threads), threads);
    if (plan.kind === 'flash') {
      keepOpen = ffn; // the neuron cache reads from it until dispose
      model.onDispose = () => ffn.close();
    }
    return model;
  } finally {
    await weights.close();
    if (!keepOpen) await ffn.close();
  }
}
