import assert from 'node:assert/strict';
import { buildReport, formatTable } from '../../../src/eval/report';
import type { TaskResult } from '../../../src/eval/run';

function result(language: string, exact: 0 | 1, editSimilarity: number, ms: number, kind: TaskResult['kind'] = 'single-line'): TaskResult {
  return { id: 'x', language, kind, expected: 'e', got: 'g', completion: 'g', exact, editSimilarity, ms, generatedTokens: 1, stopReason: 'max-tokens' };
}

const run = { model: 'm', modelDir: '/m', threads: 1, ffn: 'dense' as const, maxTokens: 32, timeBudgetMs: 1500, mode: 'auto' as const, extraContext: true, totalMs: 1234.56 };

describe('eval report', () => {
  it('averages overall, per language and per kind, with time percentiles and stop reasons', () => {
    const results = [
      result('python', 1, 1, 10), result('python', 0, 0.5, 20), result('typescript', 0, 0.25, 30, 'multi-line'),
      { ...result('go', 0, 0, 40), stopReason: 'time-budget' as const },
    ];
    const report = buildReport(results, run);
    assert.deepEqual(report, {
      tasks: 4, exactMatch: 0.25, editSimilarity: 0.4375,
      byLanguage: {
        go: { tasks: 1, exactMatch: 0, editSimilarity: 0 },
        python: { tasks: 2, exactMatch: 0.5, editSimilarity: 0.75 },
        typescript: { tasks: 1, exactMatch: 0, editSimilarity: 0.25 },
      },
      byKind: {
        'multi-line': { tasks: 1, exactMatch: 0, editSimilarity: 0.25 },
        'single-line': { tasks: 3, exactMatch: 0.3333, editSimilarity: 0.5 },
      },
      ...run, totalMs: 1234.6,
      msPerTask: { p50: 20, p95: 40 },
      stopReasons: { 'max-tokens': 3, 'time-budget': 1 },
    });
  });

  it('prints a table with a row per group', () => {
    const table = formatTable(buildReport([result('python', 1, 1, 10)], run));
    assert.match(table, /^all\s+1\s+1\.000\s+1\.000$/m);
    assert.match(table, /^python\s+1\s+1\.000\s+1\.000$/m);
    assert.match(table, /^single-line\s+1\s+1\.000\s+1\.000$/m);
  });
});
