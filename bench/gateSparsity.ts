// What training-free gate sparsity costs a SwiGLU model (v2 directory), per target share of neurons
// skipped at decode: thresholds calibrated on the calibration sample (calibrate.ts), then on
// held-out code, token by token as decoding runs, the sparse and the dense pass side by side:
// perplexity of each, top-1 agreement of sparse with dense, the share skipped, decode ms/token.
// `npm run -s bench:gate-sparsity -- --json --model DIR [--targets 0.4,0.5,0.6,0.7] [--texts 8] [--tokens 128]`
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ManifestV2 } from '../src/engine/manifestV2';
import { openModelDir } from '../src/engine/modelDir';
import { argmax } from '../src/engine/sampling';
import { TextTokenizer } from '../src/engine/tokenizer';
import { calibrateGateThresholds } from '../src/engine/v2/calibrate';
import { CALIBRATION_SAMPLE } from '../src/engine/v2/calibrationSample';
import { loadModelV2 } from '../src/engine/v2/loadV2';

const root = path.resolve(__dirname, '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string' }, targets: { type: 'string', default: '0.4,0.5,0.6,0.7' },
    texts: { type: 'string', default: '8' }, tokens: { type: 'string', default: '128' }, json: { type: 'boolean', default: false },
  },
});
if (!values.model) throw new Error('--model DIR (a format-v2 directory of a silu model) is required');

function logSoftmaxAt(logits: Float32Array, id: number): number {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  return logits[id] - max - Math.log(sum);
}

async function main() {
  const dir = await openModelDir(values.model!);
  if (dir.manifest.formatVersion !== 2) throw new Error(`${values.model} is not a format-v2 directory`);
  const model = await loadModelV2(dir as typeof dir & { manifest: ManifestV2 });
  const tokenizer = await TextTokenizer.load(dir.file('tokenizer.json'));
  const sample = CALIBRATION_SAMPLE.map((t) => tokenizer.encode(t));
  // Held-out code: whole files of the held-out packages, as the eval tasks reconstruct them.
  const tasks = fs.readFileSync(path.join(root, 'models/eval/heldout-fim.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { source: string; prefix: string; expected: string; suffix: string });
  const seen = new Set<string>();
  const texts: number[][] = [];
  for (const t of tasks) {
    const file = t.source.replace(/:\d+$/, '');
    if (seen.has(file)) continue;
    seen.add(file);
    texts.push(tokenizer.encode(t.prefix + t.expected + t.suffix).slice(0, Number(values.tokens)));
    if (texts.length === Number(values.texts)) break;
  }
  const results = [];
  for (const target of values.targets.split(',').map(Number)) {
    const calibration = await calibrateGateThresholds(model, sample, target);
    let nllSparse = 0, nllDense = 0, steps = 0, agree = 0, sparseMs = 0;
    model.ffnCounts.computed = model.ffnCounts.skipped = 0;
    for (const ids of texts) {
      const sparseKv = model.newCache(), denseKv = model.newCache();
      for (let t = 0; t + 1 < ids.length; t++) {
        model.gateThresholds = calibration.gateThresholds;
        const started = performance.now();
        const sparse = await model.forward([ids[t]], sparseKv);
        sparseMs += performance.now() - started;
        model.gateThresholds = [];
        const dense = await model.forward([ids[t]], denseKv);
        nllSparse -= logSoftmaxAt(sparse, ids[t + 1]);
        nllDense -= logSoftmaxAt(dense, ids[t + 1]);
        if (argmax(sparse) === argmax(dense)) agree++;
        steps++;
      }
    }
    const { computed, skipped } = model.ffnCounts;
    results.push({
      targetSkip: target, skippedAtDecode: +(skipped / (computed + skipped)).toFixed(4),
      perplexitySparse: +Math.exp(nllSparse / steps).toFixed(3), perplexityDense: +Math.exp(nllDense / steps).toFixed(3),
      top1AgreementWithDense: +(agree / steps).toFixed(4), steps, sparseDecodeMsPerToken: +(sparseMs / steps).toFixed(2),
      gateThresholds: calibration.gateThresholds.map((x) => +x.toPrecision(4)),
    });
    if (!values.json) console.log(results.at(-1));
  }
  if (values.json) console.log(JSON.stringify({ model: dir.manifest.id, calibrationTokens: sample.flat().length, texts: texts.length, results }, null, 1));
  await model.dispose();
}

void main();
