// A format-v2 model directory (models/FORMAT.md §M, §W, §F) → ModelV2: weights.bin's tensors read
// straight into the kernels' memory, ffn.bin's records split into the FFN matrices. The KV cache
// holds at most MAX_CONTEXT_TOKENS positions whatever the checkpoint allows: at f32 it costs
// layers × 2 × kvHeads × headDim × 4 bytes a position (46 KB for SmolLM2-135M).
import fs from 'node:fs/promises';
import { ModelFileCorruptError, ModelTooLargeError } from '../errors';
import type { ManifestV2 } from '../manifestV2';
import type { ModelDir } from '../modelDir';
import { checkFfnMatchesV2, readFfnHeader, readFfnLayerRaw } from '../weights/ffnFile';
import { readTensorInto, readWeightsHeader } from '../weights/weightsFile';
import { ModelV2 } from './modelV2';
import { arenaBytes, loadWeightsV2, type TensorSource } from './weightsV2';

export const MAX_CONTEXT_TOKENS = 2048;

/** The largest WebAssembly memory the kernels can have (wasm32: 65,536 pages of 64 KiB). */
export const WASM_MEMORY_LIMIT_BYTES = 4 * 1024 ** 3;

export async function loadModelV2(dir: ModelDir & { manifest: ManifestV2 }): Promise<ModelV2> {
  const { manifest } = dir;
  const arch = manifest.architecture;
  const contextTokens = Math.min(manifest.contextTokens, MAX_CONTEXT_TOKENS);
  const weights = await fs.open(dir.file(manifest.weights.file), 'r');
  const ffn = await fs.open(dir.file(manifest.ffn.file), 'r');
  try {
    const header = await readWeightsHeader(weights, manifest.weights.file, manifest);
    const ffnHeader = await readFfnHeader(ffn, manifest.ffn.file);
    checkFfnMatchesV2(ffnHeader, manifest);
    const source: TensorSource = {
      has: (name) => header.tensors.has(name),
      read: async (name, dst) => {
        const t = header.tensors.get(name);
        if (!t) throw new ModelFileCorruptError(manifest.weights.file, `tensor ${name} is missing`);
        await readTensorInto(weights, manifest.weights.file, t, dst);
      },
      ffnLayer: (l) => readFfnLayerRaw(ffn, ffnHeader, l, manifest.ffn.file),
      ffnGatedRecords: ffnHeader.gated,
    };
    const bytes = arenaBytes(arch, contextTokens, source);
    if (bytes > WASM_MEMORY_LIMIT_BYTES) {
      throw new ModelTooLargeError(bytes, WASM_MEMORY_LIMIT_BYTES);
    }
    const thresholds = manifest.sparsity && 'gateThresholds' in manifest.sparsity ? manifest.sparsity.gateThresholds : [];
    return new ModelV2(arch, contextTokens, await loadWeightsV2(arch, contextTokens, source, thresholds));
  } finally {
    await weights.close();
    await ffn.close();
  }
}
