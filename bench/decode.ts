// Decode speed of one or more models, side by side in one process (A B A B …), greedy, median of N.
// `npm run bench:decode -- --json [--model DIR]... [--runs 7] [--tokens 64] [--threads 1]`
//
// Per run and model: the same real-code text prompt once with 1 new token (prefill + one step) and
// once with --tokens new tokens; decode ms/token = (total_N − total_1) / (generated_N − 1). Prints
// tokens/s and tokens/s × parameters (speed per parameter, for models of different sizes). One token
// per forward pass.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadInProcessEngine } from '../src/engine/local';
import { parseManifest, type Manifest } from '../src/engine/manifest';

const root = path.resolve(__dirname, '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string', multiple: true }, runs: { type: 'string', default: '7' },
    tokens: { type: 'string', default: '64' }, threads: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const modelDirs = values.model ?? [path.join(root, 'dist/models/default'), path.join(root, 'test/fixtures/tiny-model')];
const runs = Number(values.runs);
const newTokens = Number(values.tokens);
const threads = Number(values.threads);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Parameters of a format-v1 model, from its manifest (a tied head counted once). */
function parameters(a: Manifest['architecture']): number {
  const kv = a.kvHeads * a.headDim;
  const attention = a.dModel * (a.heads * a.headDim) * 2 + a.dModel * kv * 2 + 2 * a.dModel;
  const ffn = (a.ffnGated ? 3 : 2) * a.dModel * a.ffnSize;
  const embed = a.vocabSize * a.dModel;
  return a.layers * (attention + ffn) + embed * (a.tiedEmbeddings ? 1 : 2) + a.dModel;
}

async function main() {
  const text = fs.readFileSync(path.join(root, 'src/engine/generate.ts'), 'utf8').slice(0, 1500);
  const models = await Promise.all(modelDirs.map(async (dir) => {
    const manifest = parseManifest(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    return { dir, manifest, engine: await loadInProcessEngine({ modelDir: dir, threads }), msPerToken: [] as number[] };
  }));
  const request = (maxNewTokens: number) => ({ prompt: { kind: 'text' as const, text }, maxNewTokens, temperature: 0, topP: 1, seed: 0, timeBudgetMs: 60_000 });
  for (const m of models) await m.engine.generate(request(newTokens)); // warm-up
  for (let i = 0; i < runs; i++) {
    for (const m of models) {
      const one = await m.engine.generate(request(1));
      const many = await m.engine.generate(request(newTokens));
      if (many.generatedTokens > 1) m.msPerToken.push((many.totalMs - one.totalMs) / (many.generatedTokens - 1));
    }
  }
  const out = {
    threads, runs, newTokens,
    models: models.map((m) => {
      const ms = median(m.msPerToken);
      const params = parameters(m.manifest.architecture);
      return {
        model: m.manifest.id, dir: path.relative(root, m.dir), parameters: params,
        decodeMsPerToken: +ms.toFixed(3), decodeTokensPerSecond: +(1000 / ms).toFixed(1),
        tokensPerSecondTimesMillionParameters: +((1000 / ms) * params / 1e6).toFixed(1),
        samplesMsPerToken: m.msPerToken.map((x) => +x.toFixed(3)),
      };
    }),
  };
  for (const m of models) await m.engine.dispose();
  console.log(values.json ? JSON.stringify(out) : out);
}
main().catch((e) => { console.error(e); process.exit(1); });
