// Prefill cost by prompt length, the layer kernels (attention, embedding and head in WebAssembly)
// against every layer on the ONNX Runtime graphs, the same model and calls, interleaved, medians of
// --runs: whether the graphs are still faster anywhere. Each call prefills T tokens of held-out code
// on a fresh KV cache; the FFN runs as the extension loads it (sparse at the default budget: prompts
// of more than 16 tokens densely, on its graph, in both).
// `npm run -s bench:prefill -- --json [--model DIR] [--runs 7] [--threads 1] [--lengths 8,16,32,64,128,200,400]`
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SETTINGS } from '../src/common/settingsSchema';
import { Model } from '../src/engine/model';
import { openModelDir } from '../src/engine/modelDir';
import { TextTokenizer } from '../src/engine/tokenizer';

const root = path.resolve(__dirname, '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: path.join(root, 'models/flashcode-code-v1') },
    runs: { type: 'string', default: '7' }, threads: { type: 'string', default: '1' },
    lengths: { type: 'string', default: '8,16,32,64,128,200,400' }, json: { type: 'boolean', default: false },
  },
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number) => +x.toFixed(2);

async function main() {
  const dir = await openModelDir(path.resolve(values.model));
  const tokenizer = await TextTokenizer.load(dir.file('tokenizer.json'));
  const lengths = values.lengths.split(',').map(Number);
  const tasks = fs.readFileSync(path.join(root, 'models/eval/heldout-fim.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { prefix: string });
  const ids = tokenizer.encode(tasks.map((t) => t.prefix).join('\n')).slice(0, Math.max(...lengths));
  const flash = { mode: 'sparse', memoryBudgetMB: SETTINGS.memoryBudgetMB.default } as const;
  const models = {
    kernel: await Model.load(dir, Number(values.threads), undefined, flash, 'wasm'),
    graph: await Model.load(dir, Number(values.threads), undefined, flash, 'ort'),
  };
  if (!models.kernel.decodeAttention) throw new Error('the attention kernel did not load (no WebAssembly SIMD?)');
  const samples = lengths.map(() => ({ kernel: { total: [] as number[], attention: [] as number[] }, graph: { total: [] as number[], attention: [] as number[] } }));
  for (let run = -1; run < Number(values.runs); run++) { // run -1 warms up
    for (const [i, T] of lengths.entries()) {
      for (const name of ['kernel', 'graph'] as const) {
        const model = models[name];
        const attention0 = model.stageMs.attention;
        const start = performance.now();
        await model.forward(ids.slice(0, T), model.newCache());
        if (run < 0) continue;
        samples[i][name].total.push(performance.now() - start);
        samples[i][name].attention.push(model.stageMs.attention - attention0);
      }
    }
  }
  const out = {
    model: dir.manifest.id, threads: Number(values.threads), runs: Number(values.runs),
    byPromptTokens: lengths.map((T, i) => ({
      tokens: T,
      kernel: { prefillMs: round(median(samples[i].kernel.total)), attentionMs: round(median(samples[i].kernel.attention)) },
      graph: { prefillMs: round(median(samples[i].graph.total)), attentionMs: round(median(samples[i].graph.attention)) },
      attentionGraphOverKernel: round(median(samples[i].graph.attention) / median(samples[i].kernel.attention)),
    })),
  };
  console.log(values.json ? JSON.stringify(out, null, 2) : out);
  await models.kernel.dispose();
  await models.graph.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
