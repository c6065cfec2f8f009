// Speculative decoding by prompt lookup against plain greedy decoding, side by side in one process:
// two engines per model (EngineOptions.speculativeLookup on and off), A B B A … over N runs, medians.
// Three prompt sets of FIM completions: `repeating`, code written to repeat itself (the next case of
// a switch, the next similar line; and one that does not), multi-line, --tokens new tokens;
// `heldoutMultiLine`, the first --tasks multi-line tasks per language of the held-out FIM task set
// (real code, cut anywhere), likewise; `heldoutSingleLine`, as many single-line tasks, as the
// completion pipeline asks for them (stop at a newline, 32 tokens).
// `npx tsx bench/speculative.ts --json [--model DIR]... [--runs 5] [--tokens 96] [--tasks 8] [--threads 1] [--ffn sparse|dense]`
// (--ffn: the FFN path, sparse at the default memory budget by default, as the extension loads it).
//
// Each prompt runs once per engine as a warm-up, so every timed run reuses its prompt's KV cache and
// prefills one token: totalMs is decode time. Also: the cost of one forward pass of T tokens (the
// sampled token and T − 1 drafts) after ~300 tokens of context, against T = 1.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { GenerateRequest, GenerateResult } from '../src/engine';
import { loadInProcessEngine, type InProcessEngine } from '../src/engine/local';
import { SETTINGS } from '../src/settingsSchema';
import type { FlashOptions } from '../src/engine/ffn/loadFlash';
import { Model } from '../src/engine/model';
import { openModelDir } from '../src/engine/modelDir';

const root = path.resolve(__dirname, '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string', multiple: true }, runs: { type: 'string', default: '5' },
    tokens: { type: 'string', default: '96' }, threads: { type: 'string', default: '1' },
    tasks: { type: 'string', default: '8' }, 'task-file': { type: 'string' }, ffn: { type: 'string', default: 'sparse' },
    json: { type: 'boolean', default: false },
  },
});
const modelDirs = values.model ?? [path.join(root, 'dist/models/default'), path.join(root, 'test/fixtures/tiny-model')];
const runs = Number(values.runs);
const maxNewTokens = Number(values.tokens);
const threads = Number(values.threads);
const tasksPerLanguage = Number(values.tasks);
const taskFile = values['task-file'] ?? path.join(root, 'models/eval/heldout-fim.jsonl');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r2 = (x: number) => +x.toFixed(2);

interface Prompt { name: string; prefix: string; suffix: string }
interface Limits { maxNewTokens: number; stopStrings?: string[] }

const repeating: Prompt[] = [
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

function heldoutTasks(kind: 'single-line' | 'multi-line'): Prompt[] {
  const perLanguage = new Map<string, number>();
  const tasks: Prompt[] = [];
  for (const line of fs.readFileSync(taskFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const t = JSON.parse(line) as { id: string; language: string; kind: string; prefix: string; suffix: string };
    if (t.kind !== kind || (perLanguage.get(t.language) ?? 0) >= tasksPerLanguage) continue;
    perLanguage.set(t.language, (perLanguage.get(t.language) ?? 0) + 1);
    tasks.push({ name: t.id, prefix: t.prefix, suffix: t.suffix });
  }
  return tasks;
}

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

type Engines = { plain: InProcessEngine; speculative: InProcessEngine };

async function compare(engines: Engines, prompts: Prompt[], limits: Limits) {
  const request = (p: Prompt, tokens = limits.maxNewTokens): GenerateRequest => ({
    prompt: { kind: 'fim', prefix: p.prefix, suffix: p.suffix }, maxNewTokens: tokens, stopStrings: limits.stopStrings,
    temperature: 0, topP: 1, seed: 0, timeBudgetMs: 60_000,
  });
  const results = prompts.map(() => ({ plain: [] as GenerateResult[], speculative: [] as GenerateResult[] }));
  for (let i = -1; i < runs; i++) { // run -1: warm-up
    for (const [k, p] of prompts.entries()) {
      // A B, then B A: neither goes first every time.
      const order = (i + k) % 2 ? (['speculative', 'plain'] as const) : (['plain', 'speculative'] as const);
      for (const which of order) {
        // The engine's cache holds the previous prompt: one untimed token first, so the timed run
        // prefills one token and times decoding.
        await engines[which].generate(request(p, 1));
        const r = await engines[which].generate(request(p));
        if (i >= 0) results[k][which].push(r);
      }
    }
  }
  const perPrompt = prompts.map((p, k) => {
    const a = results[k].plain;
    const b = results[k].speculative;
    const drafted = b.reduce((n, r) => n + (r.draftTokens ?? 0), 0) / runs;
    const accepted = b.reduce((n, r) => n + (r.acceptedDraftTokens ?? 0), 0) / runs;
    const generated = b[0].generatedTokens;
    const plainMs = median(a.map((r) => r.totalMs));
    const specMs = median(b.map((r) => r.totalMs));
    return {
      name: p.name, generatedTokens: generated, prefilledPromptTokens: b[0].prefilledPromptTokens,
      sameTokens: a.every((r, i) => r.tokenIds.join() === b[i].tokenIds.join()),
      plainMs: r2(plainMs), speculativeMs: r2(specMs), speedup: r2(plainMs / specMs),
      draftTokens: drafted, acceptedDraftTokens: accepted, acceptanceRate: drafted ? r2(accepted / drafted) : 0,
      // Each pass gives one token plus the drafts it accepts.
      tokensPerPass: r2(generated / (generated - accepted)),
      text: b[0].text,
      samplesMs: a.map((r, i) => [r2(r.totalMs), r2(b[i].totalMs)]),
    };
  });
  // The whole set per run (sum over prompts), then the median over runs.
  const sum = (which: 'plain' | 'speculative', run: number) => results.reduce((n, r) => n + r[which][run].totalMs, 0);
  const runIndexes = Array.from({ length: runs }, (_, i) => i);
  const plainMs = median(runIndexes.map((i) => sum('plain', i)));
  const specMs = median(runIndexes.map((i) => sum('speculative', i)));
  const tokens = perPrompt.reduce((n, p) => n + p.generatedTokens, 0);
  const drafted = perPrompt.reduce((n, p) => n + p.draftTokens, 0);
  const accepted = perPrompt.reduce((n, p) => n + p.acceptedDraftTokens, 0);
  return {
    ...limits, prompts: prompts.length, generatedTokens: tokens, sameTokens: perPrompt.every((p) => p.sameTokens),
    plain: { medianMs: r2(plainMs), tokensPerSecond: +(tokens / plainMs * 1000).toFixed(1) },
    speculative: { medianMs: r2(specMs), tokensPerSecond: +(tokens / specMs * 1000).toFixed(1) },
    speedup: r2(plainMs / specMs),
    speedupPerPrompt: { min: Math.min(...perPrompt.map((p) => p.speedup)), median: median(perPrompt.map((p) => p.speedup)), max: Math.max(...perPrompt.map((p) => p.speedup)) },
    acceptanceRate: drafted ? r2(accepted / drafted) : 0,
    tokensPerPass: r2(tokens / (tokens - accepted)),
    perPrompt,
  };
}

const flash: FlashOptions | undefined = values.ffn === 'sparse'
  ? { mode: 'sparse', memoryBudgetMB: SETTINGS.memoryBudgetMB.default, windowTokens: SETTINGS.neuronWindowTokens.default }
  : undefined;

async function benchModel(dir: string) {
  const engines: Engines = {
    plain: await loadInProcessEngine({ modelDir: dir, threads, speculativeLookup: false, flash }),
    speculative: await loadInProcessEngine({ modelDir: dir, threads, speculativeLookup: true, flash }),
  };
  try {
    return {
      model: engines.plain.info.id, dir: path.relative(root, dir) || dir,
      repeating: await compare(engines, repeating, { maxNewTokens }),
      heldoutMultiLine: tasksPerLanguage > 0 ? await compare(engines, heldoutTasks('multi-line'), { maxNewTokens }) : undefined,
      heldoutSingleLine: tasksPerLanguage > 0 ? await compare(engines, heldoutTasks('single-line'), { maxNewTokens: 32, stopStrings: ['\n'] }) : undefined,
      passMs: await passCosts(dir, [1, 2, 3, 5, 9], 300, 4 * runs + 1),
      loadAverageAfter: r2(os.loadavg()[0]),
    };
  } finally {
    await engines.plain.dispose();
    await engines.speculative.dispose();
  }
}

async function main() {
  const loadBefore = os.loadavg()[0];
  const models = [];
  for (const dir of modelDirs) {
    if (!fs.existsSync(path.join(dir, 'manifest.json'))) throw new Error(`${dir}/manifest.json is missing`);
    models.push(await benchModel(dir));
  }
  const out = { threads, ffn: values.ffn, runs, maxNewTokens, tasksPerLanguage, cpus: os.cpus().length, loadAverageBefore: r2(loadBefore), models };
  console.log(values.json ? JSON.stringify(out) : JSON.stringify(out, null, 1));
}
main().catch((e) => { console.error(e); process.exit(1); });
