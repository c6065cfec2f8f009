// Time to first streamed text for a FIM prompt of a fixed token length, in one process, after a
// warm-up: cold (the whole prompt prefilled) and, interleaved with it, the same prompt reached by
// typing a few characters at the end of the prefix right after the untyped prompt ran (KV-prefix
// reuse: only the tokens from the edit on are prefilled). Medians of N runs of each.
// `npm run bench:ttfs -- --json [--model DIR] [--tokens 1000] [--runs 5] [--threads 1] [--typed count]`
import fs from 'node:fs';
import path from 'node:path';
import type { GenerateRequest, GenerateResult } from '../src/engine';
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
const typed = arg('typed', 'count');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => +x.toFixed(1);

async function main() {
  // Two engines on the same model: one keeps no KV cache, so each of its runs is cold.
  const cold = await loadInProcessEngine({ modelDir, threads, maxCachedKvBytes: 0 });
  const reusing = await loadInProcessEngine({ modelDir, threads });
  // Real code as the prefix, cut so that prefix + typed is exactly promptTokens - 3 (the three FIM
  // control tokens).
  const source = ['src/engine/model.ts', 'src/engine/generate.ts', 'src/engine/weights/ffnFile.ts', 'src/engine/manifest.ts']
    .map((f) => fs.readFileSync(path.join(root, f), 'utf8')).join('\n').repeat(4);
  let lo = 0;
  let hi = source.length;
  while (lo < hi) { // longest prefix of `source` that fits
    const mid = (lo + hi + 1) >> 1;
    if (cold.encode(source.slice(0, mid) + typed).length <= promptTokens - 3) lo = mid; else hi = mid - 1;
  }
  const request = (prefix: string): GenerateRequest =>
    ({ prompt: { kind: 'fim', prefix, suffix: '' }, maxNewTokens: 8, temperature: 0, topP: 1, seed: 0, timeBudgetMs: 60_000 });
  const before = request(source.slice(0, lo));
  const after = request(source.slice(0, lo) + typed);

  const timeCold = () => cold.generate(after);
  const timeReuse = async () => {
    await reusing.generate(before); // the keystroke before: leaves its prompt in the cache
    return reusing.generate(after);
  };
  await timeCold(); // warm-up: wasm compile, first allocations
  await timeReuse();
  const samples: { cold: GenerateResult; reuse: GenerateResult }[] = [];
  for (let i = 0; i < runs; i++) samples.push({ cold: await timeCold(), reuse: await timeReuse() }); // A B A B …

  const c = samples.map((s) => s.cold);
  const r = samples.map((s) => s.reuse);
  const out = {
    model: cold.info.id, threads, runs, promptTokens: c[0].promptTokens,
    // Cold: the whole prompt prefilled.
    medianTtfsMs: ms(median(c.map((x) => x.ttfsMs))),
    medianTotalMs: ms(median(c.map((x) => x.totalMs))),
    reuse: {
      typed,
      reusedPromptTokens: r[0].reusedPromptTokens,
      prefilledPromptTokens: r[0].prefilledPromptTokens,
      medianTtfsMs: ms(median(r.map((x) => x.ttfsMs))),
      medianTotalMs: ms(median(r.map((x) => x.totalMs))),
    },
    coldOverReuseTtfs: +(median(c.map((x) => x.ttfsMs)) / median(r.map((x) => x.ttfsMs))).toFixed(2),
    sameTokens: samples.every((s) => s.cold.tokenIds.join() === s.reuse.tokenIds.join()),
    samples: samples.map((s) => ({
      coldTtfsMs: ms(s.cold.ttfsMs), coldTotalMs: ms(s.cold.totalMs), reuseTtfsMs: ms(s.reuse.ttfsMs), reuseTotalMs: ms(s.reuse.totalMs),
    })),
  };
  await cold.dispose();
  await reusing.dispose();
  console.log(process.argv.includes('--json') ? JSON.stringify(out) : out);
}

main().catch((e) => { console.error(e); process.exit(1); });
