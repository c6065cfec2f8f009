// Dense vs sparse (flash) FFN on the same model, prompts, threads and greedy decoding, in one
// process, interleaved (dense, sparse, sparse at the small budget, … per prompt), medians of N runs.
// `npm run bench -- --json [--model DIR] [--runs 5] [--prompts 8] [--tokens 64] [--threads 1]
//   [--budget-mb 256] [--small-budget 0.4] [--window 5] [--compare DIR]`
//
// Prompts: the prefixes of held-out FIM tasks (models/eval/heldout-fim.jsonl, code the model never
// trained on), as plain text. Each prompt is prefilled (dense), then `--tokens` tokens are decoded one
// at a time. The sparse engines are fed the dense engine's tokens (teacher forcing), so each step
// compares top-1 on the same context: top1Agreement = steps where sparse's argmax equals dense's.
// Resident memory is measured, not only accounted: each configuration also runs in a child process
// that reports its RSS after loading and decoding minus its RSS with ONNX Runtime initialised alone.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadGraph } from '../src/engine/backend/ort';
import { FlashBudgetTooSmallError } from '../src/engine/errors';
import { denseResidentBytes } from '../src/engine/ffn/flashPlan';
import type { FlashOptions } from '../src/engine/ffn/loadFlash';
import { Model } from '../src/engine/model';
import { FlashRecall } from './flashRecall';
import { openModelDir } from '../src/engine/modelDir';
import { TextTokenizer } from '../src/engine/tokenizer';

const root = path.resolve(__dirname, '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: path.join(root, 'models/flashcode-code-v1') },
    runs: { type: 'string', default: '5' }, prompts: { type: 'string', default: '8' },
    tokens: { type: 'string', default: '64' }, threads: { type: 'string', default: '1' },
    'budget-mb': { type: 'string', default: '256' }, 'small-budget': { type: 'string', default: '0.4' },
    window: { type: 'string', default: '5' },
    'prompt-tokens': { type: 'string', default: '200' }, compare: { type: 'string' },
    child: { type: 'string' }, json: { type: 'boolean', default: false },
  },
});
const modelDir = path.resolve(values.model);
const threads = Number(values.threads);
const decodeTokens = Number(values.tokens);
const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);
const round = (x: number, digits = 3) => +x.toFixed(digits);
const argmax = (a: Float32Array) => { let best = 0; for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i; return best; };

/** modelDir: another directory of the same model (e.g. its ffn.bin in int8, by convert_ffn.py) to
 *  compare with the --model one; its steps are fed the --model dense run's tokens too. */
interface Config { name: string; flash: FlashOptions | undefined; modelDir?: string }

async function promptIds(count: number, maxTokens: number): Promise<number[][]> {
  const tokenizer = await TextTokenizer.load(path.join(modelDir, 'tokenizer.json'));
  const lines = fs.readFileSync(path.join(root, 'models/eval/heldout-fim.jsonl'), 'utf8').trim().split('\n');
  const tasks = lines.map((l) => JSON.parse(l) as { prefix: string }).filter((t) => t.prefix.length > 400);
  const step = Math.max(1, Math.floor(tasks.length / count));
  return Array.from({ length: count }, (_, i) => tokenizer.encode(tasks[(i * step) % tasks.length].prefix).slice(-maxTokens));
}

/** Child mode: RSS of one configuration, after ONNX Runtime alone and after load + one decode, and
 *  at each stage between (what load, prefill and decode each add; `external` counts wasm memory). */
async function child(config: Config, ids: number[]): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const fixture = path.join(root, 'test/fixtures/tiny-model/head.onnx');
  await loadGraph(fs.readFileSync(fixture), threads); // ONNX Runtime's wasm module, initialised
  gc();
  const base = process.memoryUsage();
  const stages: Record<string, { rss: number; external: number; jsHeap: number }> = {};
  const mark = (stage: string) => {
    gc();
    const m = process.memoryUsage();
    stages[stage] = { rss: m.rss - base.rss, external: m.external - base.external, jsHeap: m.heapUsed - base.heapUsed };
  };
  const model = await Model.load(await openModelDir(config.modelDir ?? modelDir), threads, undefined, config.flash);
  mark('afterLoad');
  const kv = model.newCache();
  let logits = await model.forward(ids, kv);
  mark('afterPrefill');
  for (let i = 0; i < decodeTokens; i++) logits = await model.forward([argmax(logits)], kv);
  mark('afterDecode');
  process.stdout.write(JSON.stringify({ rssBytes: stages.afterDecode.rss, stages }));
}

interface RssSample { rssBytes: number; stages: Record<string, { rss: number; external: number; jsHeap: number }> }

/** The child run with the median RSS of `runs`. */
function measureRss(config: Config, runs: number): RssSample {
  const samples: RssSample[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, '--child', JSON.stringify(config), '--model', modelDir,
      '--tokens', String(decodeTokens), '--threads', String(threads), '--prompt-tokens', values['prompt-tokens']!], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`memory child for ${config.name} failed: ${r.stderr}`);
    samples.push(JSON.parse(r.stdout.trim().split('\n').pop()!) as RssSample);
  }
  return samples.sort((a, b) => a.rssBytes - b.rssBytes)[Math.floor(samples.length / 2)];
}

type Stage = keyof Model['stageMs'];
const STAGES: Stage[] = ['embed', 'attention', 'ffn', 'head'];
interface Run { config: Config; model: Model; msPerToken: number[]; stageMsPerToken: Record<Stage, number[]>; ttftMs: number[]; agree: number; steps: number; bytesSteady: number; steadyTokens: number }

async function main() {
  const prompts = await promptIds(Number(values.prompts), Number(values['prompt-tokens']));
  if (values.child) return child(JSON.parse(values.child) as Config, prompts[0]);

  const dir = await openModelDir(modelDir);
  const dense = denseResidentBytes(dir.manifest, Model.kernelFootprint(dir.manifest));
  const smallBudgetMB = (dense * Number(values['small-budget'])) / 2 ** 20;
  const sparse = (memoryBudgetMB: number): FlashOptions => ({ mode: 'sparse', memoryBudgetMB, windowTokens: Number(values.window) });
  const configs: Config[] = [
    { name: 'dense', flash: undefined },
    { name: 'sparse', flash: sparse(Number(values['budget-mb'])) },
    { name: 'sparseSmallBudget', flash: sparse(smallBudgetMB) },
  ];
  if (values.compare) {
    const other = path.resolve(values.compare);
    configs.push({ name: 'compareDense', flash: undefined, modelDir: other }, { name: 'compareSparse', flash: sparse(Number(values['budget-mb'])), modelDir: other });
  }
  const start = async (config: Config): Promise<Run> => {
    const model = await Model.load(config.modelDir ? await openModelDir(config.modelDir) : dir, threads, undefined, config.flash);
    if (config.flash && !model.flash) throw new Error(model.flashNotice);
    return { config, model, msPerToken: [], stageMsPerToken: { embed: [], attention: [], ffn: [], head: [] }, ttftMs: [], agree: 0, steps: 0, bytesSteady: 0, steadyTokens: 0 };
  };
  const runs: Run[] = [];
  const refused: Record<string, string> = {};
  const startOrAtMinimum = async (config: Config) => {
    try {
      runs.push(await start(config));
    } catch (e) {
      refused[config.name] = (e as Error).message;
      // A budget below the model's minimum: measure at the minimum instead, and say so.
      if (e instanceof FlashBudgetTooSmallError && config.flash) {
        const atMinimum = { ...config, name: `${config.name}AtMinimum`, flash: { ...config.flash, memoryBudgetMB: e.minimumMB } };
        runs.push(await start(atMinimum));
      }
    }
  };
  for (const config of configs) await startOrAtMinimum(config);

  const repetitions = Number(values.runs);
  for (let rep = -1; rep < repetitions; rep++) { // rep -1 warms up and is not counted
    for (const ids of prompts) {
      let forced: number[] = [];
      for (const run of runs) {
        const kv = run.model.newCache();
        const t0 = performance.now();
        let logits = await run.model.forward(ids, kv);
        const ttft = performance.now() - t0;
        const tokens: number[] = [];
        const stage0 = { ...run.model.stageMs };
        const t1 = performance.now();
        for (let i = 0; i < decodeTokens; i++) {
          const top = argmax(logits);
          if (run.config.name === 'dense') tokens.push(top); // every other configuration is fed dense's tokens
          else if (rep >= 0) { run.steps++; if (top === forced[i]) run.agree++; }
          const stats = run.model.flash?.stats;
          const before = stats?.bytesRead ?? 0;
          logits = await run.model.forward([run.config.name === 'dense' ? top : forced[i]], kv);
          if (rep >= 0 && stats && i >= (run.model.flash?.windowTokens ?? 0)) { run.bytesSteady += stats.bytesRead - before; run.steadyTokens++; }
        }
        const ms = (performance.now() - t1) / decodeTokens;
        if (run.config.name === 'dense') forced = tokens;
        if (rep >= 0) { run.msPerToken.push(ms); for (const k of STAGES) run.stageMsPerToken[k].push((run.model.stageMs[k] - stage0[k]) / decodeTokens); run.ttftMs.push(ttft); }
      }
    }
  }

  // Online recall, on a fresh sparse model that checks every row (not timed).
  const recall = await Model.load(dir, threads, undefined, sparse(Number(values['budget-mb'])));
  const recallCheck = recall.flash ? new FlashRecall(recall.flash, recall.arch.dModel, recall.arch.ffnSize) : undefined;
  if (recall.flash) recall.flash.step.observer = recallCheck!.observe;
  for (const ids of prompts) {
    const kv = recall.newCache();
    let logits = await recall.forward(ids, kv);
    for (let i = 0; i < 16; i++) logits = await recall.forward([argmax(logits)], kv);
  }

  const ffnFileBytes = dir.manifest.files[dir.manifest.ffn.file].bytes;
  const report = (run: Run) => {
    const flash = run.model.flash;
    const s = flash?.stats;
    const perLayer = s?.layers.map((l, i) => ({
      layer: i,
      predictedPerToken: round(l.predicted / Math.max(1, l.tokens), 1),
      nonZeroPerToken: round(l.nonZero / Math.max(1, l.tokens), 1),
      hitRate: round(l.hits / Math.max(1, l.hits + l.misses)),
      uncachedPerToken: round(l.uncached / Math.max(1, l.tokens), 1),
      onlineRecall: recallCheck ? round(recallCheck.recall(i), 4) : null,
    }));
    const hits = s ? s.layers.reduce((n, l) => n + l.hits, 0) : 0;
    const misses = s ? s.layers.reduce((n, l) => n + l.misses, 0) : 0;
    return {
      decodeMsPerToken: round(median(run.msPerToken)), decodeTokensPerSecond: round(1000 / median(run.msPerToken), 1),
      ffnMsPerToken: round(median(run.stageMsPerToken.ffn)),
      // Where a decoded token's time goes (embed; attention with its norms and KV; the FFN step; the head).
      stageMsPerToken: Object.fromEntries(STAGES.map((k) => [k, round(median(run.stageMsPerToken[k]))])),
      prefillMs: round(median(run.ttftMs), 2),
      memoryBudgetMB: run.config.flash ? round(run.config.flash.memoryBudgetMB, 2) : null,
      fullyResident: flash?.plan.fullyResident ?? true,
      neuronsPerLayer: flash?.plan.neuronsPerLayer ?? null,
      accountedResidentBytes: flash ? flash.plan.bytes : { total: dense },
      ...((rss) => ({ measuredRssBytes: rss.rssBytes, measuredRssStages: rss.stages }))(measureRss(run.config, 3)),
      bytesReadPerToken: s ? round(run.bytesSteady / Math.max(1, run.steadyTokens), 0) : 0,
      cacheHitRate: s ? round(hits / Math.max(1, hits + misses)) : null,
      top1Agreement: run.config.name === 'dense' ? 1 : round(run.agree / Math.max(1, run.steps), 4),
      decodedTokens: run.config.name === 'dense' ? prompts.length * decodeTokens * repetitions : run.steps,
      perLayer,
    };
  };
  const results = Object.fromEntries(runs.map((r) => [r.config.name, report(r)]));
  const d = results.dense;
  const ratiosOf = (name: string) => {
    const r = results[name];
    if (!r || !d) return null;
    return {
      decodeSpeedup: round(d.decodeMsPerToken / r.decodeMsPerToken),
      ffnSpeedup: round(d.ffnMsPerToken / r.ffnMsPerToken),
      residentMemory: round(r.measuredRssBytes / d.measuredRssBytes),
      residentMemoryAccounted: round(r.accountedResidentBytes.total / dense),
      bytesReadPerTokenOverFfnBytes: round(r.bytesReadPerToken / ffnFileBytes, 4),
      top1Agreement: r.top1Agreement,
    };
  };
  const out = {
    model: dir.manifest.id, threads, runs: repetitions, prompts: prompts.length, decodeTokensPerPrompt: decodeTokens,
    windowTokens: Number(values.window), ffnFileBytes, denseResidentBytesAccounted: dense,
    smallBudgetFraction: Number(values['small-budget']), refused,
    ...results,
    ratios: ratiosOf('sparse'),
    ...Object.fromEntries(Object.keys(results).filter((n) => n.startsWith('sparseSmallBudget') || n.startsWith('compare')).map((n) => [`ratios${n[0].toUpperCase()}${n.slice(1)}`, ratiosOf(n)])),
    compareModelDir: values.compare ?? null,
  };
  console.log(values.json ? JSON.stringify(out, null, 2) : out);
  for (const r of runs) await r.model.dispose();
  await recall.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
