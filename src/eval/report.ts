// Task results → the numbers `npm run eval` prints: means overall, per language and per kind,
// time per task, and why generation stopped (time-budget stops make a score depend on the machine).

import type { CompletionMode } from '../completion/types';
import type { TaskResult } from './run';

export interface Scores {
  tasks: number;
  /** Share of tasks matched exactly, 0–1. */
  exactMatch: number;
  /** Mean edit similarity, 0–1. */
  editSimilarity: number;
}

export interface RunInfo {
  model: string;
  modelDir: string;
  threads: number;
  /** The FFN path the engine ran: sparse (flash) or dense. */
  ffn: 'sparse' | 'dense';
  maxTokens: number;
  timeBudgetMs: number;
  /** flashcode.completion.mode and .extraContext as the run had them. */
  mode: CompletionMode;
  extraContext: boolean;
  /** Wall-clock time of all scored tasks (not the model load or the warm-up). */
  totalMs: number;
}

export interface EvalReport extends Scores, RunInfo {
  byLanguage: Record<string, Scores>;
  byKind: Record<string, Scores>;
  msPerTask: { p50: number; p95: number };
  stopReasons: Record<string, number>;
}

export function buildReport(results: readonly TaskResult[], run: RunInfo): EvalReport {
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  return {
    ...scores(results),
    byLanguage: grouped(results, (r) => r.language),
    byKind: grouped(results, (r) => r.kind),
    ...run,
    totalMs: round(run.totalMs, 1),
    msPerTask: { p50: round(percentile(ms, 0.5), 1), p95: round(percentile(ms, 0.95), 1) },
    stopReasons: counts(results.map((r) => r.stopReason)),
  };
}

export function formatTable(report: EvalReport): string {
  const row = (name: string, s: Scores) =>
    `${name.padEnd(16)} ${String(s.tasks).padStart(6)} ${s.exactMatch.toFixed(3).padStart(11)} ${s.editSimilarity.toFixed(3).padStart(15)}`;
  return [
    `model ${report.model} (${report.modelDir}), ${report.threads} thread(s), ${report.ffn} FFN, max ${report.maxTokens} tokens, budget ${report.timeBudgetMs} ms, mode ${report.mode}, extra context ${report.extraContext ? 'on' : 'off'}`,
    '',
    `${'group'.padEnd(16)} ${'tasks'.padStart(6)} ${'exact match'.padStart(11)} ${'edit similarity'.padStart(15)}`,
    row('all', report),
    ...Object.entries(report.byLanguage).map(([language, s]) => row(language, s)),
    ...Object.entries(report.byKind).map(([kind, s]) => row(kind, s)),
    '',
    `${(report.totalMs / 1000).toFixed(1)} s in all; per task p50 ${report.msPerTask.p50} ms, p95 ${report.msPerTask.p95} ms`,
    `stopped by: ${Object.entries(report.stopReasons).map(([reason, n]) => `${reason} ${n}`).join(', ')}`,
  ].join('\n');
}

function scores(results: readonly TaskResult[]): Scores {
  const n = results.length;
  const mean = (f: (r: TaskResult) => number) => (n === 0 ? 0 : round(results.reduce((sum, r) => sum + f(r), 0) / n, 4));
  return { tasks: n, exactMatch: mean((r) => r.exact), editSimilarity: mean((r) => r.editSimilarity) };
}

function grouped(results: readonly TaskResult[], key: (r: TaskResult) => string): Record<string, Scores> {
  const groups = new Map<string, TaskResult[]>();
  for (const r of results) {
    const group = groups.get(key(r));
    if (group) group.push(r);
    else groups.set(key(r), [r]);
  }
  return Object.fromEntries([...groups.keys()].sort().map((k) => [k, scores(groups.get(k) ?? [])]));
}

function counts(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** Nearest-rank percentile of ascending `sorted`; 0 when empty. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
