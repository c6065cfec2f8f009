// Plain-Node entry point: `node dist/cli.js complete --file F --offset N [...]` runs the completion
// pipeline of the extension on the in-process engine and prints what the extension would show;
// `node dist/cli.js eval [...]` scores that pipeline on fill-in-the-middle tasks (src/eval/);
// `node dist/cli.js import [...]` converts a public checkpoint into a model directory (src/importCommand.ts).

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeError } from './common/describeError';
import { readTextFile } from './common/readTextFile';
import { languageIdForFile, languageIdForName } from './common/languageIds';
import { boundedInteger, SETTINGS, type NumberSetting } from './settingsSchema';
import type { CompletionMode } from './completion/types';
import { CompletionPipeline } from './completion/pipeline';
import { SyntaxService } from './context/syntax';
import { EngineError } from './engine';
import { loadInProcessEngine } from './engine/local';
import type { FlashOptions } from './engine/ffn/loadFlash';
import type { BackendSetting } from './engine/gpu/backendSetting';
import { evaluate, unhurriedSyntax, type EvalOptions } from './eval/command';
import { formatTable } from './eval/report';
import { parseTasks, TaskFileError } from './eval/tasks';
import { CheckpointError } from './engine/import/errors';
import { IMPORT_USAGE, parseImportArgs, runImport } from './importCommand';

const SHARED_OPTIONS = `  --ffn sparse|dense    the FFN path: sparse (predicted neurons, the extension's default when on: ${SETTINGS.sparseFfn.default ? 'on' : 'off'}) or dense
  --memory-budget-mb N  the sparse path's memory budget (default ${SETTINGS.memoryBudgetMB.default}, ${SETTINGS.memoryBudgetMB.minimum}–${SETTINGS.memoryBudgetMB.maximum})
  --mode MODE           ${SETTINGS.completionMode.values.join(' | ')}: how much a suggestion may cover (default ${SETTINGS.completionMode.default})
  --extra-context on|off  imports and enclosing signatures from outside the window (default ${SETTINGS.extraContext.default ? 'on' : 'off'})`;

const COMPLETE_USAGE = `Usage: node dist/cli.js complete --file FILE --offset N [options]

Prints the inline completion Flashcode would show in FILE with the cursor at offset N.

Options:
  --file FILE           the document (read as UTF-8; a leading byte-order mark is dropped, as VS Code does)
  --offset N            cursor position in UTF-16 code units from the start of the text (what
                        JavaScript's string indices and VS Code's document.offsetAt count), 0 … length
  --language ID         VS Code language id (or a name like "ts", "py"; default: from the file's extension)
  --model DIR           model directory (default: the bundled model, dist/models/default)
  --max-tokens N        most tokens to generate (default ${SETTINGS.maxTokens.default}, ${SETTINGS.maxTokens.minimum}–${SETTINGS.maxTokens.maximum})
  --time-budget-ms N    wall-clock budget for the generation (default ${SETTINGS.timeBudgetMs.default})
  --threads N           threads a v2 model's prompt and each generated token are split across;
                        v1 models run on one (default ${SETTINGS.threads.default})
${SHARED_OPTIONS}
  --backend B           ${SETTINGS.backend.values.join(' | ')}: what computes a format-v2 model (default ${SETTINGS.backend.default}; webgpu takes a software adapter too)
  --json                print {"completion", "ttfsMs", "totalMs", "promptTokens", "generatedTokens", "backend", "backendReason"}
  -h, --help            show this help

Exit codes: 0 success (an empty completion included), 1 the model could not be loaded or run,
2 bad arguments.`;

const DEFAULT_TASKS = path.join(__dirname, '..', 'models', 'eval', 'heldout-fim.jsonl');
/** tree-sitter's runtime and grammars, next to the bundle (scripts/build.mjs). */
const SYNTAX_DIR = path.join(__dirname, 'syntaxes');

const EVAL_USAGE = `Usage: node dist/cli.js eval [options]

Runs fill-in-the-middle tasks through the completion pipeline (greedy) and prints exact match and
edit similarity. A single-line task compares the completion's first line, a multi-line task all of
it; whitespace at the ends is ignored.

Options:
  --tasks FILE          JSONL, one task a line: {"language", "prefix", "suffix", "expected"} and
                        optionally "kind" ("single-line" | "multi-line") and "id"
                        (default: models/eval/heldout-fim.jsonl)
  --limit N             only the first N tasks
  --model DIR           model directory (default: the bundled model, dist/models/default)
  --max-tokens N        most tokens to generate (default ${SETTINGS.maxTokens.default})
  --time-budget-ms N    wall-clock budget of one completion (default ${SETTINGS.timeBudgetMs.default})
  --threads N           threads a v2 model's prompt and each generated token are split across;
                        v1 models run on one (default ${SETTINGS.threads.default})
${SHARED_OPTIONS}
  --out FILE            write each task's result as JSONL (id, expected, got, exact, editSimilarity, …)
  --json                print one JSON object: {"tasks", "exactMatch", "editSimilarity", "byLanguage", …}
  -h, --help            show this help

Progress goes to stderr. Exit codes: 0 success, 1 the model could not be loaded or run, 2 bad
arguments or a bad task file.`;

const USAGE = `${COMPLETE_USAGE}\n\n${EVAL_USAGE}\n\n${IMPORT_USAGE}`;

class UsageError extends Error {}

interface CompleteArgs {
  file: string;
  text: string;
  offset: number;
  languageId: string;
  mode: CompletionMode;
  extraContext: boolean;
  modelDir: string;
  maxNewTokens: number;
  timeBudgetMs: number;
  threads: number;
  flash: FlashOptions;
  backend: BackendSetting;
  json: boolean;
}

/** Options both commands take: the model and how it generates, the output form, help. */
const GENERATION_OPTIONS = {
  model: { type: 'string' }, 'max-tokens': { type: 'string' }, 'time-budget-ms': { type: 'string' },
  threads: { type: 'string' }, mode: { type: 'string' }, 'extra-context': { type: 'string' },
  ffn: { type: 'string' }, 'memory-budget-mb': { type: 'string' },
  json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
} as const;

function parseCompleteArgs(argv: string[]): CompleteArgs | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...GENERATION_OPTIONS, file: { type: 'string' }, offset: { type: 'string' }, language: { type: 'string' }, backend: { type: 'string' },
    },
  });
  if (values.help) return 'help';
  if (positionals[0] !== 'complete' || positionals.length > 1) throw new UsageError('expected the command `complete`, `eval` or `import`');
  if (values.file === undefined) throw new UsageError('--file is required');
  if (values.offset === undefined) throw new UsageError('--offset is required');
  const text = readText('--file', values.file);
  const offset = integerArg('--offset', values.offset, { key: '', default: 0, minimum: 0, maximum: text.length });
  return {
    file: values.file,
    text,
    offset,
    languageId: values.language === undefined ? languageIdForFile(values.file) : languageIdForName(values.language),
    mode: modeArg(values.mode),
    extraContext: onOffArg('--extra-context', values['extra-context'], SETTINGS.extraContext.default),
    modelDir: values.model ?? path.join(__dirname, 'models', 'default'),
    maxNewTokens: integerArg('--max-tokens', values['max-tokens'], SETTINGS.maxTokens),
    timeBudgetMs: integerArg('--time-budget-ms', values['time-budget-ms'], SETTINGS.timeBudgetMs),
    threads: integerArg('--threads', values.threads, SETTINGS.threads),
    flash: flashArgs(values.ffn, values['memory-budget-mb']),
    backend: backendArg(values.backend),
    json: values.json,
  };
}

function backendArg(raw: string | undefined): BackendSetting {
  if (raw === undefined) return SETTINGS.backend.default;
  const backend = SETTINGS.backend.values.find((b) => b === raw);
  if (!backend) throw new UsageError(`--backend must be one of ${SETTINGS.backend.values.join(', ')}, got ${JSON.stringify(raw)}`);
  return backend;
}

interface EvalArgs extends EvalOptions {
  json: boolean;
}

function parseEvalArgs(argv: string[]): EvalArgs | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...GENERATION_OPTIONS, tasks: { type: 'string' }, limit: { type: 'string' }, out: { type: 'string' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`eval takes no arguments besides options, got ${JSON.stringify(positionals[0])}`);
  const tasksFile = values.tasks ?? DEFAULT_TASKS;
  const tasks = parseTasks(readText('--tasks', tasksFile), tasksFile);
  const limit = integerArg('--limit', values.limit, { key: '', default: tasks.length, minimum: 1, maximum: 1_000_000 });
  if (values.out !== undefined && !fs.existsSync(path.dirname(path.resolve(values.out)))) {
    throw new UsageError(`cannot write --out ${values.out}: its folder does not exist`);
  }
  return {
    tasks: tasks.slice(0, limit),
    modelDir: values.model ?? path.join(__dirname, 'models', 'default'),
    ortWasmDir: path.join(__dirname, 'ort'),
    threads: integerArg('--threads', values.threads, SETTINGS.threads),
    flash: flashArgs(values.ffn, values['memory-budget-mb']),
    maxNewTokens: integerArg('--max-tokens', values['max-tokens'], SETTINGS.maxTokens),
    timeBudgetMs: integerArg('--time-budget-ms', values['time-budget-ms'], SETTINGS.timeBudgetMs),
    mode: modeArg(values.mode),
    extraContext: onOffArg('--extra-context', values['extra-context'], SETTINGS.extraContext.default),
    syntaxDir: SYNTAX_DIR,
    out: values.out,
    json: values.json,
  };
}

function flashArgs(ffn: string | undefined, budget: string | undefined): FlashOptions {
  if (ffn !== undefined && ffn !== 'sparse' && ffn !== 'dense') throw new UsageError(`--ffn must be sparse or dense, got ${JSON.stringify(ffn)}`);
  const mode = ffn ?? (SETTINGS.sparseFfn.default ? 'sparse' : 'dense');
  return { mode, memoryBudgetMB: integerArg('--memory-budget-mb', budget, SETTINGS.memoryBudgetMB), windowTokens: SETTINGS.neuronWindowTokens.default };
}

function modeArg(raw: string | undefined): CompletionMode {
  if (raw === undefined) return SETTINGS.completionMode.default;
  const mode = SETTINGS.completionMode.values.find((m) => m === raw);
  if (!mode) throw new UsageError(`--mode must be one of ${SETTINGS.completionMode.values.join(', ')}, got ${JSON.stringify(raw)}`);
  return mode;
}

function onOffArg(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  if (raw !== 'on' && raw !== 'off') throw new UsageError(`${name} must be on or off, got ${JSON.stringify(raw)}`);
  return raw === 'on';
}

function integerArg(name: string, raw: string | undefined, bounds: NumberSetting): number {
  if (raw === undefined) return bounds.default;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (boundedInteger(value, bounds) !== value) {
    throw new UsageError(`${name} must be an integer from ${bounds.minimum} to ${bounds.maximum}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function readText(option: string, file: string): string {
  try {
    return readTextFile(file);
  } catch (error) {
    throw new UsageError(`cannot read ${option} ${file}: ${describeError(error)}`);
  }
}

async function complete(args: CompleteArgs): Promise<void> {
  const engine = await loadInProcessEngine({ modelDir: args.modelDir, threads: args.threads, ortWasmDir: path.join(__dirname, 'ort'), flash: args.flash, backend: args.backend });
  if (engine.info.backendWarning) process.stderr.write(`flashcode: ${engine.info.backendWarning}\n`);
  if (engine.info.ffn.notice) process.stderr.write(`flashcode: ${engine.info.ffn.notice}\n`);
  const syntax = await loadSyntax(args.languageId);
  try {
    const startMs = performance.now();
    const request = { document: args.text, offset: args.offset, languageId: args.languageId, fileName: path.resolve(args.file) };
    const pipeline = new CompletionPipeline(engine, syntax ? unhurriedSyntax(syntax) : {});
    const settings = { maxNewTokens: args.maxNewTokens, timeBudgetMs: args.timeBudgetMs, mode: args.mode, extraContext: args.extraContext };
    const result = await pipeline.complete(request, settings);
    const completion = result?.text ?? '';
    if (args.json) {
      const totalMs = result?.latencyMs ?? performance.now() - startMs;
      process.stdout.write(`${JSON.stringify({
        completion,
        ttfsMs: round(result?.ttfsMs ?? totalMs),
        totalMs: round(totalMs),
        promptTokens: result?.promptTokens ?? 0,
        generatedTokens: result?.generatedTokens ?? 0,
        backend: engine.info.backend,
        backendReason: engine.info.backendReason,
      })}\n`);
    } else if (completion !== '') {
      process.stdout.write(`${completion}\n`);
    }
  } finally {
    syntax?.dispose();
    await engine.dispose();
  }
}

/** tree-sitter with `languageId`'s grammar loaded; undefined when it cannot load (the completion is
 *  then truncated by indentation). */
async function loadSyntax(languageId: string): Promise<SyntaxService | undefined> {
  try {
    const syntax = await SyntaxService.load(SYNTAX_DIR);
    await syntax.warm(languageId);
    return syntax;
  } catch (error) {
    process.stderr.write(`flashcode: tree-sitter did not load from ${SYNTAX_DIR} (${describeError(error)})\n`);
    return undefined;
  }
}

async function runEvalCommand(args: EvalArgs): Promise<void> {
  const report = await evaluate(args, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${args.json ? JSON.stringify(report) : formatTable(report)}\n`);
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

async function main(argv: string[]): Promise<number> {
  const isEval = argv[0] === 'eval';
  const isImport = argv[0] === 'import';
  const usage = isEval ? EVAL_USAGE : isImport ? IMPORT_USAGE : USAGE;
  let run: (() => Promise<void>) | 'help';
  try {
    if (isImport) {
      const args = parseImportArgs(argv.slice(1));
      run = args === 'help' ? args : async () => void (await runImport(args));
    } else if (isEval) {
      const args = parseEvalArgs(argv.slice(1));
      run = args === 'help' ? args : () => runEvalCommand(args);
    } else {
      const args = parseCompleteArgs(argv);
      run = args === 'help' ? args : () => complete(args);
    }
  } catch (error) {
    // Everything that fails here is the caller's input: parseArgs' own errors included.
    if (error instanceof TaskFileError) process.stderr.write(`flashcode: ${describeError(error)}\n`);
    else process.stderr.write(`flashcode: ${error instanceof Error ? error.message : String(error)}\n\n${usage}\n`);
    return 2;
  }
  if (run === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  try {
    await run();
    return 0;
  } catch (error) {
    process.stderr.write(`flashcode: ${describeError(error)}\n`);
    const named = error instanceof EngineError || error instanceof CheckpointError;
    if (!named && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
