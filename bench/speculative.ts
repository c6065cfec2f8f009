// Speculative decoding by prompt lookup against plain greedy decoding, side by side in one process:
// two engines per model (one with EngineOptions.speculativeLookup), multi-line FIM completions of
// code that repeats itself (and one that does not), A B B A … over N runs, medians.
// `npx tsx bench/speculative.ts --json [--model DIR]... [--runs 5] [--tokens 96] [--threads 1]`
//
// Each prompt runs once per engine as a warm-up, so every timed run reuses its prompt's KV cache and
// prefills one token: totalMs is decode time. Also: the cost of one forward pass of T tokens (the
// sampled token and T − 1 drafts) after ~300 tokens of context, against T = 1.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { GenerateRequest, GenerateResult } from '../src/engine';
import { loadInProcessEngine } from '../src/engine/local';
import { Model } from '../src/engine/model';
import { openModelDir } from '../src/engine/modelDir';

const root = path.resolve(__dirname, '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string', multiple: true }, runs: { type: 'string', default: '5' },
    tokens: { type: 'string', default: '96' }, threads: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const modelDirs = values.model ?? [path.join(root, 'dist/models/default'), path.join(root, 'test/fixtures/tiny-model')];
const runs = Number(values.runs);
const maxNewTokens = Number(values.tokens);
const threads = Number(values.threads);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r2 = (x: number) => +x.toFixed(2);

const prompts: { name: string; prefix: string; suffix: string }[] = [
  {
    name: 'next case of a switch (TS)',
    prefix: [
      'export function tokenKindName(kind: TokenKind): string {',
      '  switch (kind) {',
      '    case TokenKind.Identifier:',
      '      return "identifier";',
      '    case TokenKind.Keyword:',
      '      return "keyword";',
      '    case TokenKind.StringLiteral:',
      '      return "string literal";',
      '    case TokenKind.NumberLiteral:',
      '      return "number literal";',
      '    case TokenKind.',
    ].join('\n'),
    suffix: '\n    default:\n      return "unknown";\n  }\n}\n',
  },
  {
    name: 'next similar line (TS options)',
    prefix: [
      'export function readOptions(raw: Partial<Options>): Options {',
      '  const width = typeof raw.width === "number" ? raw.width : DEFAULTS.width;',
      '  const height = typeof raw.height === "number" ? raw.height : DEFAULTS.height;',
      '  const depth = typeof raw.depth === "number" ? raw.depth : DEFAULTS.depth;',
      '  const margin = typeof raw.margin === "number" ? raw.margin : DEFAULTS.margin;',
      '  const ',
    ].join('\n'),
    suffix: '\n  return { width, height, depth, margin, padding, border };\n}\n',
  },
  {
    name: 'next elif branch (Python)',
    prefix: [
      'def describe(node):',
      '    if isinstance(node, ast.FunctionDef):',
      '        return f"function {node.name} at line {node.lineno}"',
      '    elif isinstance(node, ast.ClassDef):',
      '        return f"class {node.name} at line {node.lineno}"',
      '    elif isinstance(node, ast.AsyncFunctionDef):',
      '        return f"async function {node.name} at line {node.lineno}"',
      '    elif isinstance(node, ast.',
    ].join('\n'),
    suffix: '\n    return "other"\n',
  },
  {
    name: 'next table-driven test row (JS)',
    prefix: [
      'const cases = [',
      "  { input: 'a,b,c', separator: ',', expected: ['a', 'b', 'c'] },",
      "  { input: 'a;b;c', separator: ';', expected: ['a', 'b', 'c'] },",
      "  { input: 'a|b|c', separator: '|', expected: ['a', 'b', 'c'] },",
      "  { input: 'a b c', separator: ' ', expected: ['a', 'b', 'c'] },",
      '  { input: ',
    ].join('\n'),
    suffix: '\n];\nfor (const c of cases) test(c.input, () => expect(split(c.input, c.separator)).toEqual(c.expected));\n',
  },
  {
    name: 'code that does not repeat (Python)',
    prefix: [
      'import json',
      'import sys',
      'from pathlib import Path',
      '',
      '',
      'def load_config(path):',
      '    """Read a JSON config file, falling back to defaults for missing keys."""',
      '    text = Path(path).read_text(encoding="utf-8")',
      '    ',
    ].join('\n'),
    suffix: '\n\n\nif __name__ == "__main__":\n    print(load_config(sys.argv[1]))\n',
  },
];

/** Median ms of one forward pass of T tokens after `contextTokens` of context, for each T, interleaved. */
async function passCosts(dir: string, ts: number[], contextTokens: number, reps: number): Promise<Record<string, number>> {
  const model = await Model.load(await openModelDir(dir), threads);
  try {
    const kv = model.newCache();
    const ids = Array.from({ length: contextTokens + Math.max(...ts) }, (_, i) => 300 + (i * 7) % 200);
    await model.forward(ids.slice(0, contextTokens), kv);
    const samples = new Map<number, number[]>(ts.map((t) => [t, []]));
    for (let rep = 0; rep < reps; rep++) {
      for (const t of rep % 2 ? [...ts].reverse() : ts) {
        const started = performance.now();
        await model.forwardAll(ids.slice(contextTokens, contextTokens + t), kv);
        samples.get(t)!.push(performance.now() - started);
        kv.truncate(contextTokens);
      }
    }
    return Object.fromEntries(ts.map((t) => [`T=${t}`, +median(samples.get(t)!).toFixed(3)]));
  } finally {
    await model.dispose();
  }
}

async function benchModel(dir: string) {
  const plain = await loadInProcessEngine({ modelDir: dir, threads });
  const speculative = await loadInProcessEngine({ modelDir: dir, threads, speculativeLookup: true });
  const request = (p: (typeof prompts)[number]): GenerateRequest =>
    ({ prompt: { kind: 'fim', prefix: p.prefix, suffix: p.suffix }, maxNewTokens, temperature: 0, topP: 1, seed: 0, timeBudgetMs: 60_000 });
  const results = prompts.map(() => ({ plain: [] as GenerateResult[], speculative: [] as GenerateResult[] }));
  for (const p of prompts) { // warm-up: leaves each prompt in its engine's cache
    await plain.generate(request(p));
    await speculative.generate(request(p));
  }
  for (let i = 0; i < runs; i++) {
    for (const [k, p] of prompts.entries()) {
      // A B, then B A: neither goes first every time.
      const order = (i + k) % 2 ? (['speculative', 'plain'] as const) : (['plain', 'speculative'] as const);
      for (const which of order) {
        // The engine's cache holds the previous prompt: one untimed token first, so the timed run
        // prefills one token.
        const engine = which === 'plain' ? plain : speculative;
        await engine.generate({ ...request(p), maxNewTokens: 1 });
        results[k][which].push(await engine.generate(request(p)));
      }
    }
  }
  const loadAfter = os.loadavg()[0];
  await plain.dispose();
  await speculative.dispose();

  const perPrompt = prompts.map((p, k) => {
    const a = results[k].plain;
    const b = results[k].speculative;
    const drafted = b.reduce((n, r) => n + (r.draftTokens ?? 0), 0);
    const accepted = b.reduce((n, r) => n + (r.acceptedDraftTokens ?? 0), 0);
    const generated = b[0].generatedTokens;
    const plainMs = median(a.map((r) => r.totalMs));
    const specMs = median(b.map((r) => r.totalMs));
    return {
      name: p.name, generatedTokens: generated, prefilledPromptTokens: b[0].prefilledPromptTokens,
      sameTokens: a.every((r, i) => r.tokenIds.join() === b[i].tokenIds.join()),
      plain: { medianMs: r2(plainMs), tokensPerSecond: +(generated / plainMs * 1000).toFixed(1) },
      speculative: {
        medianMs: r2(specMs), tokensPerSecond: +(generated / specMs * 1000).toFixed(1),
        draftTokensPerRun: drafted / b.length, acceptedDraftTokensPerRun: accepted / b.length,
        acceptanceRate: drafted ? r2(accepted / drafted) : 0,
        // Each verification pass gives one token plus the drafts it accepts.
        tokensPerPass: r2(generated / (generated - accepted / b.length)),
      },
      speedup: r2(plainMs / specMs),
      text: b[0].text,
      samplesMs: a.map((r, i) => [r2(r.totalMs), r2(b[i].totalMs)]),
    };
  });
  const drafted = perPrompt.reduce((n, p) => n + p.speculative.draftTokensPerRun, 0);
  const accepted = perPrompt.reduce((n, p) => n + p.speculative.acceptedDraftTokensPerRun, 0);
  return {
    model: plain.info.id, dir: path.relative(root, dir) || dir, loadAverageAfter: r2(loadAfter),
    acceptanceRate: drafted ? r2(accepted / drafted) : 0,
    medianSpeedup: median(perPrompt.map((p) => p.speedup)),
    passMs: await passCosts(dir, [1, 2, 3, 5, 9], 300, 4 * runs + 1),
    prompts: perPrompt,
  };
}

async function main() {
  const loadBefore = os.loadavg()[0];
  const models = [];
  for (const dir of modelDirs) {
    if (!fs.existsSync(path.join(dir, 'manifest.json'))) throw new Error(`${dir}/manifest.json is missing`);
    models.push(await benchModel(dir));
  }
  const out = { threads, runs, maxNewTokens, cpus: os.cpus().length, loadAverageBefore: r2(loadBefore), models };
  console.log(values.json ? JSON.stringify(out) : JSON.stringify(out, null, 1));
}
main().catch((e) => { console.error(e); process.exit(1); });
