// Training-free activation sparsity for SwiGLU checkpoints (issue: real code models): their
// activations silu(gate·x) are never exactly zero, but most are small. Per layer, the threshold
// below which a neuron is skipped at decode is the quantile of |silu(gate·x)| at the target share,
// measured by running the model densely over a code sample.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ManifestV2 } from '../manifestV2';
import { openModelDir, type ModelDir } from '../modelDir';
import { TextTokenizer } from '../tokenizer';
import { CALIBRATION_SAMPLE } from './calibrationSample';
import { loadModelV2 } from './loadV2';
import type { ModelV2 } from './modelV2';

export interface GateCalibration {
  gateThresholds: number[];
  targetSkip: number;
  /** Share of the sample's activations at or below each layer's threshold. */
  measuredSkip: number[];
  /** Tokens the thresholds were measured on. */
  tokens: number;
}

/** Tokens taken from each calibration text at import: enough for stable quantiles (≈ 1,000 tokens
 *  in all), few enough that calibrating adds seconds, not minutes, to an import. */
const CALIBRATION_TOKENS_PER_TEXT = 200;

/** At most this many activations per layer are kept to take the quantile from (a stride sample). */
const SAMPLE_PER_LAYER = 1 << 19;

export async function calibrateGateThresholds(model: ModelV2, sequences: readonly number[][], targetSkip: number): Promise<GateCalibration> {
  if (!(targetSkip >= 0 && targetSkip < 1)) throw new RangeError(`targetSkip ${targetSkip} must be in [0, 1)`);
  const layers = model.arch.layers;
  const total = sequences.reduce((n, s) => n + s.length, 0);
  const stride = Math.max(1, Math.ceil((total * model.arch.ffnSize) / SAMPLE_PER_LAYER));
  const samples: number[][] = Array.from({ length: layers }, () => []);
  model.gateObserver = (layer, activations) => {
    const into = samples[layer];
    for (let i = 0; i < activations.length; i += stride) into.push(Math.abs(activations[i]));
  };
  try {
    for (const ids of sequences) {
      const kv = model.newCache();
      await model.forward(ids.slice(0, model.contextTokens), kv);
    }
  } finally {
    model.gateObserver = undefined;
  }
  const gateThresholds: number[] = [];
  const measuredSkip: number[] = [];
  for (const values of samples) {
    const sorted = Float32Array.from(values).sort();
    const threshold = targetSkip === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(targetSkip * sorted.length))];
    let skipped = 0;
    for (const v of sorted) if (v <= threshold && targetSkip > 0) skipped++;
    gateThresholds.push(threshold);
    measuredSkip.push(sorted.length ? skipped / sorted.length : 0);
  }
  return { gateThresholds, targetSkip, measuredSkip, tokens: total };
}

/** Calibrates a v2 directory's gate thresholds at `targetSkip` on the calibration sample and writes
 *  them into its manifest (manifest.json carries no checksum of its own). */
export async function calibrateModelDir(dir: string, targetSkip: number): Promise<GateCalibration> {
  const model = await loadModelV2(await openModelDir(dir) as ModelDir & { manifest: ManifestV2 });
  try {
    const tokenizer = await TextTokenizer.load(path.join(dir, 'tokenizer.json'));
    const sample = CALIBRATION_SAMPLE.map((text) => tokenizer.encode(text).slice(0, CALIBRATION_TOKENS_PER_TEXT));
    const calibration = await calibrateGateThresholds(model, sample, targetSkip);
    const file = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(await fs.readFile(file, 'utf8')) as ManifestV2;
    manifest.sparsity = {
      gateThresholds: calibration.gateThresholds, targetSkip, measuredSkip: calibration.measuredSkip,
      measuredOn: `|silu(gate·x)| over ${calibration.tokens} tokens of the calibration sample (src/engine/v2/calibrationSample.ts), dense forward pass`,
    };
    await fs.writeFile(file, `${JSON.stringify(manifest, null, 2)}\n`);
    return calibration;
  } finally {
    await model.dispose();
  }
}
