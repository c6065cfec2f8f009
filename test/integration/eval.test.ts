// The fill-in-the-middle evaluation on the real engine and the fixture model (random weights, so
// the scores themselves mean nothing: the tests pin the structure and that the comparison is real).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SETTINGS } from '../../src/settingsSchema';
import { CompletionPipeline } from '../../src/completion/pipeline';
import type { InProcessEngine } from '../../src/engine/inProcessEngine';
import { loadInProcessEngine } from '../../src/engine/local';
import { buildReport } from '../../src/eval/report';
import { requestFor, runEval } from '../../src/eval/run';
import { firstLine } from '../../src/eval/score';
import { parseTasks, type EvalTask } from '../../src/eval/tasks';
import { distDir, fixtureModelDir, repoRoot } from '../helpers/fixture';

const tasksFile = path.join(repoRoot, 'test/fixtures/eval/tasks.jsonl');
// Generous, so a busy machine never cuts a completion short and changes what is compared.
const settings = { maxNewTokens: 16, timeBudgetMs: 30_000 };

function inUnit(x: number) {
  assert.ok(x >= 0 && x <= 1, `${x} in [0, 1]`);
}

describe('eval on the fixture model', () => {
  let engine: InProcessEngine;
  let tasks: EvalTask[];
  before(async () => {
    engine = await loadInProcessEngine({ modelDir: fixtureModelDir });
    tasks = parseTasks(fs.readFileSync(tasksFile, 'utf8'), tasksFile);
  });
  after(() => engine?.dispose());

  it('scores every task of the fixture file, per language and per kind', async () => {
    const results = await runEval(engine, tasks, settings);
    const report = buildReport(results, {
      model: engine.info.id, modelDir: fixtureModelDir, threads: 1, ffn: 'dense' as const, maxTokens: 16, timeBudgetMs: 30_000, mode: 'auto', extraContext: false, totalMs: 0,
    });
    assert.equal(report.tasks, tasks.length);
    for (const s of [report, ...Object.values(report.byLanguage), ...Object.values(report.byKind)]) {
      inUnit(s.exactMatch);
      inUnit(s.editSimilarity);
    }
    const count = (key: (t: EvalTask) => string) =>
      Object.fromEntries([...new Set(tasks.map(key))].sort().map((k) => [k, tasks.filter((t) => key(t) === k).length]));
    assert.deepEqual(Object.fromEntries(Object.entries(report.byLanguage).map(([k, s]) => [k, s.tasks])), count((t) => t.language));
    assert.deepEqual(Object.fromEntries(Object.entries(report.byKind).map(([k, s]) => [k, s.tasks])), count((t) => t.kind));
    assert.deepEqual(results.map((r) => r.id), tasks.map((t) => t.id));
    for (const r of results) assert.equal(r.got, (r.kind === 'single-line' ? firstLine(r.completion) : r.completion).trim(), r.id);
  });

  it('scores 1 where the expected text is what the pipeline completes, and less where it is not', async () => {
    // What the extension would show for each fixture task.
    const pipeline = new CompletionPipeline(engine);
    const shown: Array<{ task: EvalTask; text: string }> = [];
    for (const task of tasks) shown.push({ task, text: (await pipeline.complete(requestFor(task), settings))?.text ?? '' });
    const source = shown.find((s) => firstLine(s.text).trim() !== '' && s.text.includes('\n')) ?? shown.find((s) => firstLine(s.text).trim() !== '');
    assert.ok(source, 'some fixture task gets a non-empty first line');

    const line = firstLine(source.text).trim();
    const variants: EvalTask[] = [
      { ...source.task, id: 'first line', kind: 'single-line', expected: `  ${line}\n` },
      { ...source.task, id: 'all of it', kind: 'multi-line', expected: source.text },
      { ...source.task, id: 'one character off', kind: 'single-line', expected: `${line};` },
    ];
    const [first, all, off] = await runEval(engine, variants, settings);
    assert.deepEqual([first.exact, first.editSimilarity, first.got], [1, 1, line]);
    assert.deepEqual([all.exact, all.editSimilarity], [1, 1]);
    assert.equal(off.exact, 0);
    assert.ok(off.editSimilarity < 1 && off.editSimilarity > 0.5, String(off.editSimilarity));
  });
});

describe('cli: eval', () => {
  const cli = path.join(distDir, 'cli.js');
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flashcode-eval-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function run(...args: string[]) {
    if (!fs.existsSync(cli)) throw new Error(`${cli} is missing — run npm run build first (npm test does).`);
    const child = spawnSync(process.execPath, [cli, 'eval', ...args], { encoding: 'utf8', timeout: 120_000 });
    return { code: child.status, stdout: child.stdout, stderr: child.stderr };
  }

  it('prints one JSON object, writes per-task results and reports progress on stderr', () => {
    const out = path.join(dir, 'results.jsonl');
    const result = run('--json', '--tasks', tasksFile, '--model', fixtureModelDir, '--max-tokens', '8', '--time-budget-ms', '10000', '--out', out);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trimEnd().split('\n').length, 1, 'one line on stdout');
    const report = JSON.parse(result.stdout);
    assert.deepEqual(Object.keys(report), [
      'tasks', 'exactMatch', 'editSimilarity', 'byLanguage', 'byKind', 'model', 'modelDir', 'threads', 'ffn', 'maxTokens',
      'timeBudgetMs', 'mode', 'extraContext', 'totalMs', 'msPerTask', 'stopReasons',
    ]);
    assert.equal(report.tasks, 6);
    assert.equal(report.ffn, 'sparse', 'the fixture has predictors, and sparse is the default as in the extension');
    assert.deepEqual(Object.keys(report.byLanguage), ['javascript', 'python', 'typescript']);
    assert.equal(report.model, engineId());
    assert.deepEqual([report.threads, report.maxTokens, report.timeBudgetMs], [1, 8, 10_000]);
    assert.ok(report.msPerTask.p50 > 0 && report.msPerTask.p95 >= report.msPerTask.p50);
    assert.match(result.stderr, /^eval: 6\/6 tasks, /m);

    const lines = fs.readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 6);
    assert.deepEqual(lines.map((l) => l.id), ['ts-clamp', 'ts-sum-loop', 'js-debounce', 'js-read-json', 'py-word-count', 'py-read-lines']);
    for (const l of lines) {
      for (const key of ['id', 'language', 'expected', 'got', 'exact', 'editSimilarity']) assert.ok(key in l, key);
    }
    assert.equal(report.exactMatch, Math.round((lines.reduce((sum, l) => sum + l.exact, 0) / 6) * 10_000) / 10_000);
  });

  it('reports the mode and extra context it ran with, the settings\' defaults unless given', () => {
    const defaults = JSON.parse(run('--json', '--tasks', tasksFile, '--model', fixtureModelDir, '--limit', '1', '--max-tokens', '2').stdout);
    assert.deepEqual([defaults.mode, defaults.extraContext], [SETTINGS.completionMode.default, SETTINGS.extraContext.default]);
    const given = JSON.parse(run('--json', '--tasks', tasksFile, '--model', fixtureModelDir, '--limit', '1', '--max-tokens', '2', '--mode', 'singleLine', '--extra-context', 'off').stdout);
    assert.deepEqual([given.mode, given.extraContext], ['singleLine', false]);
    const bad = run('--tasks', tasksFile, '--mode', 'lines');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--mode must be one of auto, singleLine, multiLine/);
  });

  it('prints a table without --json and honours --limit', () => {
    const result = run('--tasks', tasksFile, '--model', fixtureModelDir, '--limit', '2', '--max-tokens', '4');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^all\s+2\s/m);
    assert.match(result.stdout, /^typescript\s+2\s/m);
  });

  it('exits 2 naming the line of a bad task, before loading the model', () => {
    const bad = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(bad, `${fs.readFileSync(tasksFile, 'utf8').split('\n')[0]}\n{"language": "go", "prefix": "x", "suffix": ""}\n`);
    const result = run('--json', '--tasks', bad, '--model', '/nonexistent');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^flashcode: TaskFileError: .*bad\.jsonl line 2: "expected" is missing/);
    assert.equal(result.stdout, '');
  });

  it('exits 2 when the task file cannot be read', () => {
    const result = run('--tasks', path.join(dir, 'none.jsonl'));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /cannot read --tasks .*none\.jsonl/);
    assert.match(result.stderr, /Usage: node dist\/cli\.js eval/);
  });

  it('exits 2 when --out cannot be written', () => {
    const result = run('--tasks', tasksFile, '--out', path.join(dir, 'no-such-folder', 'results.jsonl'));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /cannot write --out .*its folder does not exist/);
  });

  it('exits 1 with the named error when the model directory is broken', () => {
    const result = run('--tasks', tasksFile, '--model', dir);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^flashcode: Model\w+Error: .*manifest\.json/m);
    assert.equal(result.stdout, '');
  });
});

function engineId(): string {
  return (JSON.parse(fs.readFileSync(path.join(fixtureModelDir, 'manifest.json'), 'utf8')) as { id: string }).id;
}
