// Decode of a v2 SwiGLU model under memory budgets, side by side in one process: all resident, then
// each budget (a share of the model's bytes, or the minimum the engine accepts), the same prompt and
// teacher-forced tokens, median of --runs. Prints decode ms/token, the ratio to resident, bytes read
// from ffn.bin per token and the cache's hit rate.
// `npm run -s bench:flash-v2 -- --json --model DIR [--budgets 0.5,0.75,min] [--runs 3] [--tokens 32]`
import { parseArgs } from 'node:util';
import { FlashBudgetTooSmallError } from '../src/engine/errors';
import type { ManifestV2 } from '../src/engine/manifestV2';
import { openModelDir } from '../src/engine/modelDir';
import { argmax } from '../src/engine/sampling';
import { loadModelV2 } from '../src/engine/v2/loadV2';
import type { ModelV2 } from '../src/engine/v2/modelV2';

const { values } = parseArgs({
  options: {
    model: { type: 'string' }, budgets: { type: 'string', default: '0.5,0.75,min' }, runs: { type: 'string', default: '3' },
    tokens: { type: 'string', default: '32' }, json: { type: 'boolean', default: false },
  },
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function decodeMs(model: ModelV2, prompt: number[], tokens: number): Promise<{ msPerToken: number; ids: number[] }> {
  const kv = model.newCache();
  let logits = await model.forward(prompt, kv);
  const ids: number[] = [];
  const start = performance.now();
  for (let t = 0; t < tokens; t++) {
    ids.push(argmax(logits));
    logits = await model.forward([ids[t]], kv);
  }
  return { msPerToken: (performance.now() - start) / tokens, ids };
}

async function main() {
  if (!values.model) throw new Error('--model DIR (a format-v2 silu model) is required');
  const dir = await openModelDir(values.model) as Awaited<ReturnType<typeof openModelDir>> & { manifest: ManifestV2 };
  const modelBytes = Object.entries(dir.manifest.files).filter(([n]) => n !== 'tokenizer.json').reduce((n, [, f]) => n + f.bytes, 0);
  const prompt = Array.from({ length: 64 }, (_, i) => 200 + ((i * 97) % 3000));
  const tokens = Number(values.tokens);
  const resident = await loadModelV2(dir);
  const configs: { name: string; budgetMB: number; model: ModelV2 }[] = [];
  let minimumMB = 0;
  try {
    await loadModelV2(dir, { mode: 'sparse', memoryBudgetMB: 1 });
  } catch (e) {
    if (!(e instanceof FlashBudgetTooSmallError)) throw e;
    minimumMB = e.minimumMB;
  }
  const refused: { name: string; budgetMB: number }[] = [];
  for (const b of values.budgets.split(',')) {
    const budgetMB = b === 'min' ? minimumMB : Math.round((Number(b) * modelBytes) / 2 ** 20);
    if (budgetMB < minimumMB) { refused.push({ name: b, budgetMB }); continue; }
    configs.push({ name: b, budgetMB, model: await loadModelV2(dir, { mode: 'sparse', memoryBudgetMB: budgetMB }) });
  }
  const times = new Map<string, number[]>([['resident', []], ...configs.map((c): [string, number[]] => [c.name, []])]);
  let reference: number[] = [];
  let agree = 0, compared = 0;
  for (let r = 0; r < Number(values.runs); r++) {
    const base = await decodeMs(resident, prompt, tokens);
    times.get('resident')!.push(base.msPerToken);
    reference = base.ids;
    for (const c of configs) {
      const before = { ...c.model.ffnStats };
      const run = await decodeMs(c.model, prompt, tokens);
      times.get(c.name)!.push(run.msPerToken);
      compared += tokens;
      agree += run.ids.filter((id, i) => id === reference[i]).length;
      void before;
    }
  }
  const residentMs = median(times.get('resident')!);
  const results = configs.map((c) => {
    const s = c.model.ffnStats;
    const ms = median(times.get(c.name)!);
    return {
      budget: c.name, budgetMB: c.budgetMB, budgetShareOfModel: +((c.budgetMB * 2 ** 20) / modelBytes).toFixed(3),
      decodeMsPerToken: +ms.toFixed(2), decodeVsResident: +(residentMs / ms).toFixed(3),
      ffnBytesReadPerToken: Math.round(s.bytesRead / Math.max(1, s.tokens)), hitRate: +(s.hits / Math.max(1, s.hits + s.misses)).toFixed(3),
    };
  });
  const out = { model: dir.manifest.id, modelBytes, minimumBudgetMB: minimumMB, residentDecodeMsPerToken: +residentMs.toFixed(2), results, refused, greedyAgreementWithResident: +(agree / Math.max(1, compared)).toFixed(4), machine: 'shared 2-core machine: compare ratios, not absolute times' };
  console.log(values.json ? JSON.stringify(out, null, 1) : out);
  for (const c of configs) await c.model.dispose();
  await resident.dispose();
}

void main();
