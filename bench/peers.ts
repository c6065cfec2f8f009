// npm run bench:peers -- [--json] [--quick] [--models a,b] [--reps N] [--prompt N] [--decode N]
// Flashcode against llama.cpp (node-llama-cpp 3.x, prebuilt CPU binary) on the same weights
// (bench/peers/models.ts): prefill and decode tokens/s, time to first token, load time and peak RSS,
// each run in its own child process (bench/peers/child.ts: VmHWM of that process, node included
// on both sides), runtimes interleaved within each repetition, medians over repetitions; both at 1
// and 2 threads (Flashcode splits the prompt's chunks across its threads and decodes on one).
// Top-1 agreement: Flashcode teacher-forced on llama.cpp's greedy tokens where both compute the same
// function. Generated models live under .cache/peers/.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TextTokenizer } from '../src/engine/tokenizer';
import { CACHE, prepareModels, ROOT, type PeerModel } from './peers/models';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false }, quick: { type: 'boolean', default: false },
    models: { type: 'string' }, reps: { type: 'string' }, prompt: { type: 'string' }, decode: { type: 'string' },
    'agree-steps': { type: 'string' }, 'skip-agreement': { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const REPS = Number(values.reps ?? (quick ? 1 : 3));
const PROMPT = Number(values.prompt ?? (quick ? 32 : 256));
const DECODE = Number(values.decode ?? (quick ? 8 : 64));
const AGREE_STEPS = Number(values['agree-steps'] ?? (quick ? 16 : 128));
const log = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

// Code prompts (Python, TypeScript, JavaScript) for the real model's agreement and speed runs.
const CODE_FILES = ['models/pipeline/convert_v2.py', 'src/engine/kvCache.ts', 'scripts/build.mjs', 'src/engine/sampling.ts'];

function child(args: string[]): Record<string, number | number[] | boolean> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'peers/child.ts'), ...args], { cwd: ROOT, maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.toString().trim().split('\n').at(-1)!);
}

async function promptIds(m: PeerModel, length: number, file: string): Promise<number[]> {
  if (!m.name.startsWith('smollm2')) {
    // random and bundled-shape models: any ids of the vocabulary (deterministic)
    return Array.from({ length }, (_, i) => 300 + (i * 7919) % 3700);
  }
  const tok = await TextTokenizer.load(path.join(m.v2Dir, 'tokenizer.json'));
  return tok.encode(fs.readFileSync(path.join(ROOT, file), 'utf8')).slice(0, length);
}

async function main() {
  const models = await prepareModels(values.models?.split(','), log);
  const work = path.join(CACHE, 'run');
  fs.mkdirSync(work, { recursive: true });
  const runners = [['flashcode', 1], ['flashcode', 2], ['llamacpp', 1], ['llamacpp', 2]] as const;
  type Run = Record<string, number | number[] | boolean>;
  const runs = new Map<string, Run[]>();
  for (let rep = 0; rep < REPS; rep++) {
    for (const m of models) {
      const promptFile = path.join(work, `${m.name}.prompt.json`);
      fs.writeFileSync(promptFile, JSON.stringify(await promptIds(m, PROMPT, CODE_FILES[1])));
      for (const [runtime, threads] of runners) {
        const key = `${m.name}|${runtime}|${threads}`;
        log(`rep ${rep + 1}/${REPS} ${key}`);
        const r = runtime === 'flashcode'
          ? child(['flashcode', m.v2Dir, promptFile, String(DECODE), String(threads)])
          : child(['llamacpp', m.gguf, promptFile, String(DECODE), String(threads)]);
        runs.set(key, [...(runs.get(key) ?? []), r]);
      }
    }
  }
  const agreement: Record<string, unknown> = {};
  for (const m of models.filter((x) => x.sameFunction && !values['skip-agreement'])) {
    const files = m.name.startsWith('smollm2') ? CODE_FILES : [CODE_FILES[0]];
    const prompts = await Promise.all(files.map((f) => promptIds(m, 64, f)));
    const promptsFile = path.join(work, `${m.name}.agree-prompts.json`), greedyFile = path.join(work, `${m.name}.greedy.json`);
    fs.writeFileSync(promptsFile, JSON.stringify(prompts));
    log(`agreement ${m.name}: llama.cpp greedy, ${prompts.length} prompts × ${AGREE_STEPS} steps`);
    fs.writeFileSync(greedyFile, execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'peers/child.ts'), 'greedy', m.gguf, promptsFile, String(AGREE_STEPS)], { cwd: ROOT, maxBuffer: 1 << 28 }));
    agreement[m.name] = child(['agree', m.v2Dir, greedyFile]);
  }
  const results: Record<string, unknown> = {};
  const ratios: Record<string, Record<string, number>> = {};
  const med = (key: string, field: string) => median((runs.get(key) ?? []).map((r) => r[field] as number));
  for (const m of models) {
    const row: Record<string, unknown> = { gguf: path.relative(ROOT, m.gguf), llamaCppQuant: m.ggufQuant, flashcode: 'q8_32 (v2)', note: m.note };
    const fields = ['prefillTokS', 'decodeTokS', 'ttftS', 'loadS', 'peakRssMb'];
    const fc = Object.fromEntries([1, 2].map((t) => [`threads${t}`, Object.fromEntries([...fields, 'sparseDecodeTokS', 'sparseSkippedShare'].map((f) => [f, +med(`${m.name}|flashcode|${t}`, f).toFixed(3)]))]));
    const fcRun = runs.get(`${m.name}|flashcode|1`)![0];
    row.flashcode = { ...fc, sparse: fcRun.sparseIsDense ? 'ReLU: the dense decode already skips exact zeros' : fcRun.thresholdsCalibratedOnPrompt ? 'gate thresholds calibrated at 50 % on the prompt' : 'the manifest\'s gate thresholds' };
    const llama = Object.fromEntries([1, 2].map((t) => [`threads${t}`, Object.fromEntries(fields.map((f) => [f, +med(`${m.name}|llamacpp|${t}`, f).toFixed(3)]))]));
    row.llamaCpp = llama;
    row.sameGreedyTokens = (runs.get(`${m.name}|flashcode|1`)![0].ids as number[]).filter((id, i) => id === (runs.get(`${m.name}|llamacpp|1`)![0].ids as number[])[i]).length / DECODE;
    if (agreement[m.name]) row.agreement = agreement[m.name];
    results[m.name] = row;
    // each runtime at its best thread count for the figure; peak RSS at the one that decodes best
    const best = (f: string) => Math.max(llama.threads1[f], llama.threads2[f]);
    const fcBest = (f: string) => Math.max(fc.threads1[f], fc.threads2[f]);
    const bestThreads = llama.threads1.decodeTokS >= llama.threads2.decodeTokS ? llama.threads1 : llama.threads2;
    const fcBestThreads = fc.threads1.decodeTokS >= fc.threads2.decodeTokS ? fc.threads1 : fc.threads2;
    ratios[m.name] = {
      decodeVsLlamaCpp: +(fcBest('decodeTokS') / best('decodeTokS')).toFixed(3),
      prefillVsLlamaCpp: +(fcBest('prefillTokS') / best('prefillTokS')).toFixed(3),
      peakRssVsLlamaCpp: +(fcBestThreads.peakRssMb / bestThreads.peakRssMb).toFixed(3),
      sparseDecodeVsLlamaCpp: +(fcBest('sparseDecodeTokS') / best('decodeTokS')).toFixed(3),
    };
  }
  const report = {
    machine: `${os.cpus().length} CPU cores shared with other agents' jobs (not idle): absolute figures are noisy, ratios come from interleaved runs`,
    method: `prompt ${PROMPT} tokens, ${DECODE} greedy tokens decoded, medians of ${REPS} interleaved repetitions, each runtime in its own child process (peak RSS = its VmHWM, node included on both sides; Flashcode's taken before any calibration). ttftS = the prompt's forward pass and the first token's argmax; load = model (and context) load, not the runtime's start. Ratios: Flashcode at its best of 1 and 2 threads over llama.cpp at its best of 1 and 2 threads on the GGUF named (peak RSS: each at the thread count that decodes faster); for smollm2-135m-q4_1 that GGUF is Q4_1, for every other model Q8_0.`,
    quick,
    results,
    ratios,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 1)}\n`);
  else {
    for (const [name, r] of Object.entries(results) as [string, { flashcode: Record<string, Record<string, number>>; llamaCpp: Record<string, Record<string, number>>; agreement?: unknown }][]) {
      log(`\n${name}`);
      for (const t of ['threads1', 'threads2']) log(`  flashcode ${t.slice(-1)}t  ${JSON.stringify(r.flashcode[t])}`);
      for (const t of ['threads1', 'threads2']) log(`  llama.cpp ${t.slice(-1)}t ${JSON.stringify(r.llamaCpp[t])}`);
      if (r.agreement) log(`  agreement ${JSON.stringify(r.agreement)}`);
      log(`  ratios ${JSON.stringify(ratios[name])}`);
    }
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
