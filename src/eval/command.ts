// `node dist/cli.js eval`: load the model, run the tasks (see ./run), write each task's result as
// it comes (--out), report progress about every tenth of the way, and return the report to print.

import fs from 'node:fs';
import { describeError } from '../common/describeError';
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
  maxNewTokens: number;
  timeBudgetMs: number;
  /** JSONL file for per-task results. */
  out?: string;
}

/** `progress` gets one line at a time, for stderr. */
export async function evaluate(options: EvalOptions, progress: (line: string) => void): Promise<EvalReport> {
  const out = options.out === undefined ? undefined : openOut(options.out);
  try {
    const engine = await loadInProcessEngine({ modelDir: options.modelDir, threads: options.threads, ortWasmDir: options.ortWasmDir });
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
      const settings = { maxNewTokens: options.maxNewTokens, timeBudgetMs: options.timeBudgetMs };
      const results = await runEval(engine, options.tasks, settings, onResult);
      return buildReport(results, {
        model: engine.info.id,
        modelDir: options.modelDir,
        threads: options.threads,
        maxTokens: options.maxNewTokens,
        timeBudgetMs: options.timeBudgetMs,
        totalMs: results.reduce((sum, r) => sum + r.ms, 0),
      });
    } finally {
      await engine.dispose();
    }
  } finally {
    if (out !== undefined) fs.closeSync(out);
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
