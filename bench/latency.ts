// Time to a suggestion while typing real code, through the whole completion pipeline on the worker
// engine, as the extension runs them: its default settings (debounce, prefetch, typed-ahead cache,
// extra context), tree-sitter for truncation and the file header, and the ring of code recently
// edited in other files, fed as each file is left. Per file: open it at a cursor in the middle (the
// first request), then re-type the file's next lines at 60–120 ms a key, Tab when the suggestion
// shown is what comes next (./typingSession.ts). The whole session runs N times, files in turn
// (A B C D A B C D …), each run on a fresh pipeline and ring over the same worker and tree-sitter;
// medians over runs.
// `npm run bench:latency -- --json [--model DIR] [--runs 3] [--threads 1] [--lines 3] [--debounce-ms N] [--prefetch on|off]`
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { threadCpuMs } from '../src/common/heartbeat';
import { SETTINGS } from '../src/settingsSchema';
import { CompletionPipeline, type PipelineOptions } from '../src/completion/pipeline';
import type { CompletionSettings, CompletionSource, PipelineStats } from '../src/completion/types';
import { ExtraContext } from '../src/context/extraContext';
import { CHUNK_LINES, RecentChunks } from '../src/context/recentChunks';
import { SyntaxService } from '../src/context/syntax';
import { isAbort, startWorkerEngine, type Engine, type GenerateResult } from '../src/engine';
import { isExcluded } from '../src/privacy/exclude';
import { keyIntervals, sessionCursor, typeSession, type SessionFile, type SessionResult } from './typingSession';

const root = path.resolve(__dirname, '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: path.join(root, 'dist/models/default') },
    runs: { type: 'string', default: '3' }, threads: { type: 'string', default: String(SETTINGS.threads.default) },
    lines: { type: 'string', default: '3' }, json: { type: 'boolean', default: false },
    'debounce-ms': { type: 'string', default: String(SETTINGS.debounceMs.default) },
    prefetch: { type: 'string', default: SETTINGS.prefetch.default ? 'on' : 'off' },
  },
});
const runs = Number(values.runs);
const threads = Number(values.threads);

/** Real code in several languages, 200–3,000 lines; LARGE_FILE is the ~2,000-line one. */
const FILES: { path: string; languageId: string }[] = [
  { path: '/usr/lib/python3.11/difflib.py', languageId: 'python' },
  { path: 'src/cli.ts', languageId: 'typescript' },
  { path: 'node_modules/eslint/lib/linter/linter.js', languageId: 'javascript' },
  { path: '/usr/share/doc/zlib1g-dev/examples/gzlog.c', languageId: 'c' },
];
const LARGE_FILE = '/usr/lib/python3.11/difflib.py';

/** What the inline provider (src/host/inlineProvider.ts) passes with the default settings. The
 *  pipeline is built below as src/extension.ts builds it: keep the two alike. */
const settings: CompletionSettings = {
  maxNewTokens: SETTINGS.maxTokens.default, timeBudgetMs: SETTINGS.timeBudgetMs.default,
  debounceMs: Number(values['debounce-ms']), prefetch: values.prefetch === 'on', // --debounce-ms, --prefetch to try others
  mode: SETTINGS.completionMode.default, extraContext: SETTINGS.extraContext.default,
};

const TARGETS = { incrementalP50Ms: 100, incrementalP95Ms: 250, firstRequestLargeFileP50Ms: 1000 };

/** Nearest-rank percentile of `xs` among `n` samples, where the `n - xs.length` others are
 *  slower than all of `xs` (requests a newer keystroke cancelled before their answer): null when
 *  the percentile falls among those. */
function percentile(xs: number[], p: number, n = xs.length): number | null {
  const rank = Math.max(1, Math.ceil(p * n));
  if (xs.length === 0 || rank > xs.length) return null;
  return [...xs].sort((a, b) => a - b)[rank - 1];
}
/** Median, a null counting as larger than any number. */
function median(xs: (number | null)[]): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => (a ?? Infinity) - (b ?? Infinity));
  return sorted[Math.ceil(sorted.length / 2) - 1];
}
const round = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? null : +x.toFixed(digits));

/** p50 and p95 of each run's samples (`unanswered` more counted as slower than all), the median of
 *  each over runs; n counts the samples of all runs. */
function latency(perRun: { ms: number[]; unanswered?: number }[]) {
  const ran = perRun.filter((r) => r.ms.length + (r.unanswered ?? 0) > 0);
  const at = (p: number) => round(median(ran.map((r) => percentile(r.ms, p, r.ms.length + (r.unanswered ?? 0)))));
  return { p50Ms: at(0.5), p95Ms: at(0.95), n: perRun.reduce((n, r) => n + r.ms.length + (r.unanswered ?? 0), 0) };
}

/** `engine`, recording the result of every call that finishes and counting the aborted ones. */
function observed(engine: Engine, calls: { results: GenerateResult[]; aborted: number }): Engine {
  return {
    get info() { return engine.info; },
    generate: (request, callbacks) => engine.generate(request, callbacks).then(
      (result) => { calls.results.push(result); return result; },
      (error: unknown) => { if (isAbort(error)) calls.aborted++; throw error; },
    ),
    countTokens: (text) => engine.countTokens(text),
    dispose: () => engine.dispose(),
  };
}

const processCpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

interface RunResult {
  sessions: (SessionResult & { file: string })[];
  stats: PipelineStats;
  calls: { results: GenerateResult[]; aborted: number };
  cpu: { mainMs: number | undefined; totalMs: number; keystrokes: number };
}

/** As src/extension.ts builds them for EngineHost. */
function pipelineOptions(syntax: SyntaxService, recent: RecentChunks): PipelineOptions {
  return { syntax, extraContext: new ExtraContext({ outlines: syntax, recent }) };
}

/** What src/host/recentCode.ts puts in the ring when the user leaves a file: the lines around the
 *  one last edited (here, the last line typed). */
function leave(recent: RecentChunks, file: SessionFile): void {
  const lines = file.text.split('\n');
  const edited = file.text.slice(0, file.end).split('\n').length - 1;
  const start = Math.max(0, edited - CHUNK_LINES / 2);
  recent.add(file.path, lines.slice(start, start + CHUNK_LINES).map((line) => `${line}\n`).join(''));
}

async function run(engine: Engine, syntax: SyntaxService, files: SessionFile[]): Promise<RunResult> {
  const calls = { results: [] as GenerateResult[], aborted: 0 };
  const recent = new RecentChunks((fileName) => isExcluded(fileName, SETTINGS.cloudExclude.default));
  const pipeline = new CompletionPipeline(observed(engine, calls), pipelineOptions(syntax, recent));
  const cpu = { mainMs: 0 as number | undefined, totalMs: 0, keystrokes: 0 };
  const sessions: RunResult['sessions'] = [];
  for (const file of files) {
    const [main0, total0] = [threadCpuMs({ coarse: true }), processCpuMs()];
    const session = await typeSession(pipeline, file, settings, keyIntervals(1234));
    const main1 = threadCpuMs({ coarse: true });
    cpu.mainMs = main0 === undefined || main1 === undefined || cpu.mainMs === undefined ? undefined : cpu.mainMs + main1 - main0;
    cpu.totalMs += processCpuMs() - total0;
    cpu.keystrokes += session.keystrokes;
    sessions.push({ ...session, file: file.path });
    leave(recent, file);
  }
  return { sessions, stats: { ...pipeline.stats }, calls, cpu };
}

function loadFiles(lines: number): { files: SessionFile[]; missing: string[] } {
  const files: SessionFile[] = [];
  const missing: string[] = [];
  for (const f of FILES) {
    const abs = path.resolve(root, f.path);
    if (!fs.existsSync(abs)) missing.push(f.path);
    else {
      const text = fs.readFileSync(abs, 'utf8');
      files.push({ ...f, text, ...sessionCursor(text, lines) });
    }
  }
  return { files, missing };
}

async function main() {
  const { files, missing } = loadFiles(Number(values.lines));
  const loadAverage1m = +os.loadavg()[0].toFixed(2);
  const engine = await startWorkerEngine({
    modelDir: path.resolve(values.model), threads, workerScript: path.join(root, 'dist/engineWorker.js'), ortWasmDir: path.join(root, 'dist/ort'),
    // The FFN path as the extension's defaults load it (src/extension.ts).
    flash: { mode: SETTINGS.sparseFfn.default ? 'sparse' : 'dense', memoryBudgetMB: SETTINGS.memoryBudgetMB.default, windowTokens: SETTINGS.neuronWindowTokens.default },
  });
  // The extension loads tree-sitter at activation and a grammar when an editor of its language opens.
  const syntax = await SyntaxService.load(path.join(root, 'dist/syntaxes'));
  await Promise.all([...new Set(files.map((f) => f.languageId))].map((languageId) => syntax.warm(languageId)));
  // Warm-up on other text: wasm compilation and first allocations are not a file's first request.
  await new CompletionPipeline(engine).complete({ document: 'def warm_up(x):\n    return ', offset: 27, languageId: 'python', fileName: 'warm.py' }, settings);

  const results: RunResult[] = [];
  for (let i = 0; i < runs; i++) results.push(await run(engine, syntax, files));
  await engine.dispose();
  syntax.dispose();

  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const firsts = (r: RunResult, file?: string) => ({
    ms: r.sessions.filter((s) => !file || s.file === file).flatMap((s) => (s.first ? [s.first.ms] : [])),
  });
  /** Keystroke requests; `source` keeps the answered ones served that way, none unanswered. */
  const keystrokes = (r: RunResult, source?: CompletionSource) => ({
    ms: r.sessions.flatMap((s) => s.incremental.filter((t) => !source || t.source === source).map((t) => t.ms)),
    unanswered: source ? 0 : sum(r.sessions.map((s) => s.superseded)),
  });
  const perRun = results.map((r) => {
    const calls = r.calls.results;
    const prompt = sum(calls.map((c) => c.promptTokens));
    const typing = keystrokes(r);
    return {
      firstRequestMs: Object.fromEntries(r.sessions.map((s) => [s.file, round(s.first?.ms)])),
      incrementalP50Ms: round(percentile(typing.ms, 0.5, typing.ms.length + typing.unanswered)),
      incrementalP95Ms: round(percentile(typing.ms, 0.95, typing.ms.length + typing.unanswered)),
      keystrokes: r.cpu.keystrokes,
      answered: typing.ms.length,
      accepts: sum(r.sessions.map((s) => s.accepts)),
      cacheHitRate: r.stats.requests ? r.stats.cacheHits / r.stats.requests : 0,
      prefixReuseRate: prompt ? sum(calls.map((c) => c.reusedPromptTokens)) / prompt : 0,
      engineCalls: { completed: calls.length, aborted: r.calls.aborted, promptTokens: prompt, prefilledTokens: sum(calls.map((c) => c.prefilledPromptTokens)) },
      pipeline: r.stats,
      cpuMainMs: r.cpu.mainMs === undefined ? null : r.cpu.mainMs / r.cpu.keystrokes,
      cpuTotalMs: r.cpu.totalMs / r.cpu.keystrokes,
    };
  });
  type PerRun = (typeof perRun)[number];
  const med = (pick: (r: PerRun) => number | null, digits = 3) => round(median(perRun.map(pick)), digits);

  const incremental = latency(results.map((r) => keystrokes(r)));
  const large = latency(results.map((r) => firsts(r, LARGE_FILE)));
  const cpuMain = med((r) => r.cpuMainMs, 2);
  const cpuTotal = med((r) => r.cpuTotalMs, 2);
  const met = (measured: number | null, target: number) => ({ target, measured, met: measured !== null && measured <= target });
  const out = {
    model: engine.info.id, modelDir: path.relative(root, path.resolve(values.model)) || values.model, threads, runs,
    machine: { cpus: os.cpus().length, loadAverage1m, node: process.version },
    settings,
    files: files.map((f) => ({
      path: f.path, languageId: f.languageId, lines: f.text.split('\n').length, cursorLine: f.cursorLine, typedChars: f.end - f.start,
    })),
    missingFiles: missing,
    firstRequest: latency(results.map((r) => firsts(r))),
    firstRequestLargeFile: { file: LARGE_FILE, ...large },
    // A keystroke request that the next keystroke cancelled before its answer counts as slower
    // than every answered one: the percentiles are upper bounds, null when they fall among those.
    incremental: { ...incremental, answeredRate: med((r) => r.answered / r.keystrokes) },
    // The same keystrokes without the cancelled ones: how long a suggestion takes when it is waited for.
    incrementalAnswered: latency(results.map((r) => ({ ms: keystrokes(r).ms }))),
    bySource: Object.fromEntries((['engine', 'inflight', 'cache'] as const).map((source) =>
      [source, latency(results.map((r) => keystrokes(r, source)))])),
    // Engine calls that ran to the end (a prefetch included): what one costs.
    engineCall: {
      ...latency(results.map((r) => ({ ms: r.calls.results.map((c) => c.totalMs) }))),
      prefilledTokensP50: round(median(results.map((r) => percentile(r.calls.results.map((c) => c.prefilledPromptTokens), 0.5))), 0),
      prefilledTokensP95: round(median(results.map((r) => percentile(r.calls.results.map((c) => c.prefilledPromptTokens), 0.95))), 0),
      promptTokensP50: round(median(results.map((r) => percentile(r.calls.results.map((c) => c.promptTokens), 0.5))), 0),
    },
    cacheHitRate: med((r) => r.cacheHitRate),
    prefixReuseRate: med((r) => r.prefixReuseRate),
    cpuMsPerKeystroke: {
      mainThread: cpuMain, worker: cpuMain === null || cpuTotal === null ? null : round(cpuTotal - cpuMain, 2), total: cpuTotal,
      how: 'total: process.cpuUsage(), every thread of the process; mainThread: this thread (process.threadCpuUsage, else '
        + '/proc/thread-self/stat in 10 ms ticks), including this bench\'s typist; worker: total - mainThread, the inference '
        + 'worker plus V8 and libuv helper threads (the worker protocol reports no CPU time of its own)',
    },
    targets: {
      incrementalP50Ms: met(incremental.p50Ms, TARGETS.incrementalP50Ms),
      incrementalP95Ms: met(incremental.p95Ms, TARGETS.incrementalP95Ms),
      firstRequestLargeFileP50Ms: met(large.p50Ms, TARGETS.firstRequestLargeFileP50Ms),
    },
    perRun: perRun.map((r) => ({
      ...r, cacheHitRate: round(r.cacheHitRate, 3), prefixReuseRate: round(r.prefixReuseRate, 3),
      cpuMainMs: round(r.cpuMainMs, 2), cpuTotalMs: round(r.cpuTotalMs, 2),
    })),
  };
  console.log(values.json ? JSON.stringify(out) : out);
}

main().catch((e) => { console.error(e); process.exit(1); });
