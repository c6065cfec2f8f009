// A v2 model under memory budgets, side by side in one process: all resident, then each budget (a
// share of the model's file bytes, or the minimum the engine accepts), the same prompt and greedy
// tokens, interleaved, median of --runs. Prints decode ms/token and its ratio to resident, the
// prefill ratio, bytes read from disk per token, what each plan keeps in memory; then, each budget
// in a child process of its own, peak RSS; and with --cold, once per budget, the page cache dropped
// (root only: `echo 1 > /proc/sys/vm/drop_caches`; the JSON says when it was refused) before the
// load and the first tokens.
// --threads: the engine's (default: flashcode.engine.threads' default); with more than one, a
// decoded token's streamed slices are split across them as its resident matrices are.
// `npm run -s bench:flash-v2 -- --json --model DIR [--budgets 1.0,0.5,min] [--runs 3] [--tokens 16] [--threads N] [--cold]`
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { FlashBudgetTooSmallError } from '../src/engine/errors';
import type { ManifestV2 } from '../src/engine/manifestV2';
import { openModelDir } from '../src/engine/modelDir';
import { argmax } from '../src/engine/sampling';
import { loadModelV2 } from '../src/engine/v2/loadV2';
import type { ModelV2 } from '../src/engine/v2/modelV2';
import { SETTINGS } from '../src/settingsSchema';

const { values } = parseArgs({
  options: {
    model: { type: 'string' }, budgets: { type: 'string', default: '1.0,0.5,min' }, runs: { type: 'string', default: '3' },
    tokens: { type: 'string', default: '16' }, json: { type: 'boolean', default: false }, cold: { type: 'boolean', default: false },
    threads: { type: 'string', default: String(SETTINGS.threads.default) },
    child: { type: 'string' }, // internal: one budget (MB, or 'resident') in this process, for its peak RSS
    'child-cold': { type: 'boolean', default: false },
  },
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const MIB = 2 ** 20;
const PROMPT = Array.from({ length: 64 }, (_, i) => 200 + ((i * 97) % 3000));
type Dir = Awaited<ReturnType<typeof openModelDir>> & { manifest: ManifestV2 };

async function load(dir: Dir, budgetMB: number | 'resident'): Promise<ModelV2> {
  const threads = Number(values.threads);
  return budgetMB === 'resident' ? loadModelV2(dir, undefined, threads) : loadModelV2(dir, { mode: 'sparse', memoryBudgetMB: budgetMB }, threads);
}

async function run(model: ModelV2, tokens: number): Promise<{ prefillMs: number; msPerToken: number; ids: number[] }> {
  const kv = model.newCache();
  let start = performance.now();
  let logits = await model.forward(PROMPT, kv);
  const prefillMs = performance.now() - start;
  const ids: number[] = [];
  start = performance.now();
  for (let t = 0; t < tokens; t++) {
    ids.push(argmax(logits));
    logits = await model.forward([ids[t]], kv);
  }
  return { prefillMs, msPerToken: (performance.now() - start) / tokens, ids };
}

/** Drops the page cache (root only); the reason when it cannot. */
function dropPageCache(): string | undefined {
  try {
    execFileSync('sync');
    fs.writeFileSync('/proc/sys/vm/drop_caches', '1');
    return undefined;
  } catch (e) {
    return `dropping the page cache was refused: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** In a child: one budget alone, for its peak RSS (and, cold, the first tokens after the page cache is dropped). */
async function child(dir: Dir, budget: string, tokens: number, cold: boolean) {
  const refused = cold ? dropPageCache() : undefined;
  let start = performance.now();
  const model = await load(dir, budget === 'resident' ? 'resident' : Number(budget));
  const loadMs = performance.now() - start;
  const first = await run(model, tokens);
  start = performance.now();
  const warm = await run(model, tokens);
  const out = {
    loadMs: +loadMs.toFixed(0), prefillMs: +first.prefillMs.toFixed(0), decodeMsPerToken: +first.msPerToken.toFixed(2),
    warmPrefillMs: +warm.prefillMs.toFixed(0), warmDecodeMsPerToken: +warm.msPerToken.toFixed(2),
    peakRssMB: Math.round((process.resourceUsage().maxRSS * 1024) / MIB), ...(refused ? { coldRefused: refused } : {}),
  };
  await model.dispose();
  console.log(JSON.stringify(out));
}

function inChild(budget: number | 'resident', tokens: number, cold: boolean): Record<string, unknown> {
  const args = ['--import', 'tsx', process.argv[1], '--model', values.model!, '--child', String(budget), '--tokens', String(tokens), '--threads', values.threads!, ...(cold ? ['--child-cold'] : [])];
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

async function main() {
  if (!values.model) throw new Error('--model DIR (a format-v2 model) is required');
  const dir = await openModelDir(values.model) as Dir;
  const tokens = Number(values.tokens);
  if (values.child) return child(dir, values.child, tokens, values['child-cold']);
  const modelBytes = Object.entries(dir.manifest.files).filter(([n]) => n !== 'tokenizer.json').reduce((n, [, f]) => n + f.bytes, 0);
  const resident = await load(dir, 'resident');
  let minimumMB = 0;
  try {
    await load(dir, 0.001);
  } catch (e) {
    if (!(e instanceof FlashBudgetTooSmallError)) throw e;
    minimumMB = e.minimumMB;
  }
  const configs: { name: string; budgetMB: number; model: ModelV2 }[] = [];
  const refused: { name: string; budgetMB: number }[] = [];
  for (const b of values.budgets.split(',')) {
    const budgetMB = b === 'min' ? minimumMB : +((Number(b) * modelBytes) / MIB).toFixed(1);
    if (budgetMB < minimumMB) { refused.push({ name: b, budgetMB }); continue; }
    configs.push({ name: b, budgetMB, model: await load(dir, budgetMB) });
  }
  const before = new Map(configs.map((c) => [c.name, { weights: c.model.streamStats.bytesRead, ffn: c.model.ffnStats.bytesRead }]));
  const times = new Map<string, { decode: number[]; prefill: number[] }>([['resident', { decode: [], prefill: [] }], ...configs.map((c): [string, { decode: number[]; prefill: number[] }] => [c.name, { decode: [], prefill: [] }])]);
  let agree = 0, compared = 0;
  for (let r = 0; r < Number(values.runs); r++) {
    const base = await run(resident, tokens);
    times.get('resident')!.decode.push(base.msPerToken);
    times.get('resident')!.prefill.push(base.prefillMs);
    for (const c of configs) {
      const got = await run(c.model, tokens);
      times.get(c.name)!.decode.push(got.msPerToken);
      times.get(c.name)!.prefill.push(got.prefillMs);
      compared += tokens;
      agree += got.ids.filter((id, i) => id === base.ids[i]).length;
    }
  }
  const residentMs = median(times.get('resident')!.decode), residentPrefill = median(times.get('resident')!.prefill);
  const passes = Number(values.runs) * (tokens + 1);
  const results = configs.map((c) => {
    const plan = c.model.memoryPlan!;
    const ms = median(times.get(c.name)!.decode), prefill = median(times.get(c.name)!.prefill);
    const was = before.get(c.name)!;
    const s = c.model.ffnStats;
    return {
      budget: c.name, budgetMB: c.budgetMB, budgetShareOfModel: +((c.budgetMB * MIB) / modelBytes).toFixed(3),
      residentMB: +(plan.residentBytes / MIB).toFixed(1), streamedMB: +(plan.streamedBytes / MIB).toFixed(1), plan: plan.summary,
      decodeMsPerToken: +ms.toFixed(2), decodeTokensPerSecond: +(1000 / ms).toFixed(1), decodeVsResident: +(residentMs / ms).toFixed(3),
      prefillMs: +prefill.toFixed(0), prefillVsResident: +(residentPrefill / prefill).toFixed(3),
      // per forward pass (prompt and tokens alike: a dense pass reads every streamed matrix once)
      bytesReadPerPass: Math.round((c.model.streamStats.bytesRead - was.weights + s.bytesRead - was.ffn) / passes),
      ffnHitRate: +(s.hits / Math.max(1, s.hits + s.misses)).toFixed(3),
    };
  });
  const residentDecode = { decodeMsPerToken: +residentMs.toFixed(2), decodeTokensPerSecond: +(1000 / residentMs).toFixed(1), prefillMs: +residentPrefill.toFixed(0), residentMB: +(resident.residentBytes / MIB).toFixed(1) };
  for (const c of configs) await c.model.dispose();
  await resident.dispose();
  // each alone in a process of its own: peak RSS; cold once (page cache dropped) when asked
  const alone: Record<string, unknown> = { resident: inChild('resident', tokens, false) };
  for (const c of configs) alone[c.name] = inChild(c.budgetMB, tokens, false);
  const cold: Record<string, unknown> = {};
  if (values.cold) for (const c of [{ name: 'resident', budgetMB: 'resident' as const }, ...configs]) cold[c.name] = inChild(c.budgetMB, tokens, true);
  const out = {
    model: dir.manifest.id, modelBytes, modelMB: +(modelBytes / MIB).toFixed(1), minimumBudgetMB: minimumMB, promptTokens: PROMPT.length, decodeTokens: tokens, runs: Number(values.runs), threads: Number(values.threads),
    resident: residentDecode, results, refused, greedyAgreementWithResident: +(agree / Math.max(1, compared)).toFixed(4),
    aloneInAProcess: alone, ...(values.cold ? { cold } : {}),
    loadAverage: os.loadavg().map((l) => +l.toFixed(2)), machine: `${os.cpus().length} cores, shared: compare ratios, not absolute times`,
  };
  console.log(values.json ? JSON.stringify(out, null, 1) : out);
}

void main();
