// Time to first streamed text for a FIM prompt of a fixed token length, median of N runs after a
// warm-up, in one process. `npm run bench:ttfs -- --json [--model DIR] [--tokens 1000] [--runs 5]`
import fs from 'node:fs';
import path from 'node:path';
import { loadInProcessEngine } from '../src/engine/local';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const root = path.resolve(__dirname, '..');
const modelDir = arg('model', path.join(root, 'test/fixtures/tiny-model'));
const promptTokens = Number(arg('tokens', '1000'));
const runs = Number(arg('runs', '5'));
const threads = Number(arg('threads', '1'));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const engine = await loadInProcessEngine({ modelDir, threads });
  // Real code as the prefix, cut to exactly promptTokens - 3 (the three FIM control tokens).
  const source = ['src/engine/model.ts', 'src/engine/generate.ts', 'src/engine/weights/ffnFile.ts', 'src/engine/manifest.ts']
    .map((f) => fs.readFileSync(path.join(root, f), 'utf8')).join('\n').repeat(4);
  let lo = 0;
  let hi = source.length;
  while (lo < hi) { // longest prefix of `source` that fits
    const mid = (lo + hi + 1) >> 1;
    if (engine.encode(source.slice(0, mid)).length <= promptTokens - 3) lo = mid; else hi = mid - 1;
  }
  const prefix = source.slice(0, lo);
  const request = { prompt: { kind: 'fim' as const, prefix, suffix: '' }, maxNewTokens: 8, temperature: 0, topP: 1, seed: 0, timeBudgetMs: 60_000 };
  await engine.generate(request); // warm-up: wasm compile, first allocations
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const r = await engine.generate(request);
    samples.push({ ttfsMs: r.ttfsMs, totalMs: r.totalMs, promptTokens: r.promptTokens, generatedTokens: r.generatedTokens });
  }
  const out = {
    model: engine.info.id, threads, runs, promptTokens: samples[0].promptTokens,
    medianTtfsMs: +median(samples.map((s) => s.ttfsMs)).toFixed(1),
    medianTotalMs: +median(samples.map((s) => s.totalMs)).toFixed(1),
    samples,
  };
  await engine.dispose();
  console.log(process.argv.includes('--json') ? JSON.stringify(out) : out);
}
main().catch((e) => { console.error(e); process.exit(1); });
