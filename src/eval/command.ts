// `node dist/cli.js eval`: load the model and tree-sitter, run the tasks (see ./run), write each
// task's result as it comes (--out), report progress about every tenth of the way, and return the
// report to print.

import fs from 'node:fs';
import { describeError } from '../common/describeError';
import { languageIdForName } from '../common/languageIds';
import type { CompletionMode } from '../completion/types';
import type { PipelineOptions } from '../completion/pipeline';
import { ExtraContext } from '../context/extraContext';
import { SyntaxService } from '../context/syntax';
import type { FlashOptions } from '../engine/ffn/loadFlash';
import { loadInProcessEngine } from '../engine/local';
import { buildReport, type EvalReport } from './report';
import { runEval, type TaskResult } from './run';
import type { EvalTask } from './tasks';

export interface EvalOptions {
  tasks: readonly EvalTask[];
  modelDir: string;
  /** Where ONNX Runtime's wasm lies when running from the bundle. */
  ortWasmDir?: string;
  threads: number;
  /** The FFN path (sparse or dense) and its memory budget. */
  flash: FlashOptions;
  maxNewTokens: number;
  timeBudgetMs: number;
  mode: CompletionMode;
  extraContext: boolean;
  /** tree-sitter's runtime and grammars (dist/syntaxes); without it, no syntax-aware truncation
   *  and no header from the file. */
  syntaxDir?: string;
  /** JSONL file for per-task results. */
  out?: string;
}

/** `progress` gets one line at a time, for stderr. */
export async function evaluate(options: EvalOptions, progress: (line: string) => void): Promise<EvalReport> {
  const out = options.out === undefined ? undefined : openOut(options.out);
  try {
    const engine = await loadInProcessEngine({ modelDir: options.modelDir, threads: options.threads, ortWasmDir: options.ortWasmDir, flash: options.flash });
    if (engine.info.ffn.notice) progress(`eval: ${engine.info.ffn.notice}`);
    const syntax = options.syntaxDir === undefined ? undefined : await loadSyntax(options.syntaxDir, options.tasks, progress);
    try {
      const total = options.tasks.length;
      const every = Math.max(1, Math.ceil(total / 10));
      let exact = 0;
      let elapsedMs = 0;
      const onResult = (result: TaskResult, done: number) => {
        exact += result.exact;
        elapsedMs += result.ms;
        if (out !== undefined) fs.writeSync(out, `${JSON.stringify(outRecord(result))}\n`);
        if (done % every === 0 || done === total) {
          progress(`eval: ${done}/${total} tasks, ${(elapsedMs / 1000).toFixed(1)} s, exact match so far ${(exact / done).toFixed(3)}`);
        }
      };
      const { maxNewTokens, timeBudgetMs, mode, extraContext } = options;
      const pipelineOptions = syntax ? unhurriedSyntax(syntax) : {};
      const results = await runEval(engine, options.tasks, { maxNewTokens, timeBudgetMs, mode, extraContext }, onResult, pipelineOptions);
      return buildReport(results, {
        model: engine.info.id,
        modelDir: options.modelDir,
        threads: engine.info.threads,
        ffn: engine.info.ffn.mode,
        maxTokens: maxNewTokens,
        timeBudgetMs,
        mode,
        extraContext,
        totalMs: results.reduce((sum, r) => sum + r.ms, 0),
      });
    } finally {
      syntax?.dispose();
      await engine.dispose();
    }
  } finally {
    if (out !== undefined) fs.closeSync(out);
  }
}

/** Parses as the extension makes them, without its time budgets: a score must not depend on how
 *  busy the machine is. */
export function unhurriedSyntax(syntax: SyntaxService): PipelineOptions {
  return {
    syntax: { blockAt: (text, offset, languageId) => syntax.blockAt(text, offset, languageId, UNHURRIED_PARSE_MS) },
    extraContext: new ExtraContext({ outlines: syntax, outlineBudgetMs: UNHURRIED_PARSE_MS }),
  };
}

const UNHURRIED_PARSE_MS = 10_000;

/** tree-sitter with the grammars of the tasks' languages loaded; undefined (and a line on stderr)
 *  when it cannot load: the tasks still run, truncated by indentation. */
async function loadSyntax(dir: string, tasks: readonly EvalTask[], progress: (line: string) => void): Promise<SyntaxService | undefined> {
  try {
    const syntax = await SyntaxService.load(dir, { log: progress });
    for (const languageId of new Set(tasks.map((t) => languageIdForName(t.language)))) await syntax.warm(languageId);
    return syntax;
  } catch (error) {
    progress(`eval: tree-sitter did not load from ${dir} (${describeError(error)}); truncating by indentation`);
    return undefined;
  }
}

function openOut(file: string): number {
  try {
    return fs.openSync(file, 'w');
  } catch (error) {
    throw new Error(`cannot write --out ${file}: ${describeError(error)}`);
  }
}

function outRecord(r: TaskResult) {
  return {
    id: r.id, language: r.language, kind: r.kind, expected: r.expected, got: r.got, completion: r.completion,
    exact: r.exact, editSimilarity: Math.round(r.editSimilarity * 10_000) / 10_000,
    ms: Math.round(r.ms * 10) / 10, generatedTokens: r.generatedTokens, stopReason: r.stopReason,
  };
}
