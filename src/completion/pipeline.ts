// One completion request, top to bottom, each step a stage of its own module: share the model's
// context window out (src/engine/promptBudget) → clip the document around the cursor to it (./clip)
// → skip pointless requests (./prefilter) → serve it from the typed-ahead cache (./typedAheadCache),
// or from the engine call already running when the user typed what it streamed, or else wait out
// the debounce (./debounce) and make a new engine call: its prompt, extra context included
// (./engineRequest), the call (./engineJob, the engine), then post-processing of its output
// (suggestionFrom, src/postprocess) → the closers after the cursor the text replaces → remember
// where accepting the suggestion would leave the cursor and prefetch the suggestion after it
// (afterShown, ./prefetch).
// Latest request wins: each call supersedes the one before it, and a superseded or cancelled call
// resolves to undefined rather than throwing. The engine holds at most one call of ours at a time;
// a request that cannot use the running call aborts it before making its own.

import { delay, unlessAborted } from '../common/abortable';
import { promptBudget, type Engine, type GenerateResult, type PromptBudget } from '../engine';
import { closersReplaced, postprocess, type BlockFinder } from '../postprocess';
import { clipAroundCursor, DEFAULT_CLIP_LIMITS, type ClipLimits } from './clip';
import { requestTiming, startDelayMs } from './debounce';
import { EngineJob, type JobRuntime } from './engineJob';
import { generateRequest, jobInput, type JobInput, type Window } from './engineRequest';
import { acceptedContext, PREFETCH_AFTER_IDLE_MS, PrefetchScheduler, type Shown } from './prefetch';
import { skipReason } from './prefilter';
import { TokenRatios } from './tokenRatio';
import { continuation, cursorKey, DEFAULT_CACHE_ENTRIES, sameCursor, TypedAheadCache, type CursorKey, type Suggestion } from './typedAheadCache';
import type { CompletionRequest, CompletionResult, CompletionSettings, CompletionSource, CursorContext, ExtraContextSource, PipelineStats } from './types';

export interface PipelineOptions {
  /** Upper bounds on the window; the model's context window usually bounds it more tightly. */
  clipLimits?: ClipLimits;
  cacheEntries?: number;
  /** How long an engine call keeps running after the last request waiting on it left, for the
   *  next keystroke's request to take over (ms). 0: aborted at once. */
  abandonedJobGraceMs?: number;
  /** Syntax-aware truncation of suggestions; without it, truncation follows indentation. */
  syntax?: BlockFinder;
  /** Code from outside the window for the prompt, when settings.extraContext asks for it. */
  extraContext?: ExtraContextSource;
}

/** VS Code asks again ~50 ms after a keystroke (its own debounce), and a typist's keystrokes come
 *  100–200 ms apart. */
const DEFAULT_ABANDONED_JOB_GRACE_MS = 250;

type Served = Omit<CompletionResult, 'latencyMs' | 'replacedAfterCursor'>;
/** A call for the request's cursor, or a speculative one for where accepting its suggestion leads. */
type JobKind = 'request' | 'prefetch';

export class CompletionPipeline {
  readonly stats: PipelineStats = { requests: 0, cacheHits: 0, inflightJoins: 0, prefetches: 0, prefetchHits: 0 };
  private readonly clipLimits: ClipLimits;
  private readonly runtime: JobRuntime;
  private readonly syntax: BlockFinder | undefined;
  private readonly extra: ExtraContextSource | undefined;
  private readonly ratios: TokenRatios;
  private readonly cache: TypedAheadCache;
  private readonly prefetches = new PrefetchScheduler();
  private latest: AbortController | undefined;
  /** The engine call made last (running or not). */
  private job: EngineJob | undefined;
  /** Where the cursor would be had the suggestion served last been accepted. */
  private accepted: CursorKey | undefined;

  constructor(private readonly engine: Engine, options: PipelineOptions = {}) {
    this.clipLimits = options.clipLimits ?? DEFAULT_CLIP_LIMITS;
    this.runtime = { engine, graceMs: options.abandonedJobGraceMs ?? DEFAULT_ABANDONED_JOB_GRACE_MS };
    this.syntax = options.syntax;
    this.extra = options.extraContext;
    this.ratios = new TokenRatios((text) => engine.countTokens(text));
    this.cache = new TypedAheadCache(options.cacheEntries ?? DEFAULT_CACHE_ENTRIES);
  }

  /** The suggestion for `request` (its text '' when post-processing dropped it), or undefined when
   *  the request was skipped, superseded or cancelled through `signal`. Rejects only on engine
   *  failures. */
  async complete(request: CompletionRequest, settings: CompletionSettings, signal?: AbortSignal): Promise<CompletionResult | undefined> {
    const startMs = performance.now();
    this.stats.requests++;
    this.prefetches.cancel();
    this.latest?.abort();
    const turn = new AbortController();
    this.latest = turn;
    const cancel = () => turn.abort();
    signal?.addEventListener('abort', cancel);
    try {
      if (signal?.aborted) return undefined;
      const budget = await this.budgetFor(request, settings);
      const context = clipAroundCursor(request.document, request.offset, budget.clip);
      if (turn.signal.aborted || skipReason(context) !== undefined) return undefined;
      const window: Window = { request, context, budget };

      // An explicit request (Trigger Inline Suggestion) asks the model again: the user saw the
      // cached answer and wants another look.
      const served = (settings.explicit ? undefined : this.fromCache(context))
        ?? await this.fromRunningJob(context, turn.signal)
        ?? await this.fromNewJob(window, settings, turn.signal);
      if (!served || turn.signal.aborted) return undefined;

      const shown = { text: served.text, replaced: closersReplaced(served.text, context) };
      this.afterShown(window, shown, settings);
      return { ...served, replacedAfterCursor: shown.replaced, latencyMs: performance.now() - startMs };
    } catch (error) {
      if (turn.signal.aborted) return undefined;
      throw error;
    } finally {
      signal?.removeEventListener('abort', cancel);
      if (this.latest === turn) this.latest = undefined;
    }
  }

  /** Cancels the request in flight and any engine work, prefetch included. */
  cancel(): void {
    this.prefetches.cancel();
    this.latest?.abort();
    this.job?.abort();
  }

  /** Settles when no engine call of this pipeline runs or is about to (a scheduled prefetch
   *  included); for tests and benchmarks. */
  async idle(): Promise<void> {
    await this.prefetches.decided();
    await this.job?.settled;
  }

  private async budgetFor({ document, offset, languageId }: CompletionRequest, settings: CompletionSettings): Promise<PromptBudget> {
    const cursor = Math.min(Math.max(0, Math.trunc(offset) || 0), document.length);
    const charsPerToken = await this.ratios.of(languageId, () => document.slice(Math.max(0, cursor - 3_000), Math.min(document.length, cursor + 1_000)));
    return promptBudget({
      contextTokens: this.engine.info.contextTokens,
      maxNewTokens: settings.maxNewTokens,
      charsPerToken,
      charsAfterCursor: document.length - cursor,
      extraContext: this.extraFor(settings) !== undefined,
    }, this.clipLimits);
  }

  private fromCache(context: CursorContext): Served | undefined {
    const hit = this.cache.lookup(context);
    if (!hit) return undefined;
    this.stats.cacheHits++;
    return this.serve(hit.suggestion, hit.text, 'cache');
  }

  private async fromRunningJob(context: CursorContext, signal: AbortSignal): Promise<Served | undefined> {
    const job = this.job;
    const typed = job?.typedBy(context);
    if (!job || typed === undefined) return undefined;
    const suggestion = await this.waitFor(job, signal);
    const text = suggestion ? continuation(suggestion.text, typed) : undefined;
    if (!suggestion || text === undefined) return undefined;
    this.stats.inflightJoins++;
    return this.serve(suggestion, text, 'inflight');
  }

  private async fromNewJob(window: Window, settings: CompletionSettings, signal: AbortSignal): Promise<Served | undefined> {
    this.job?.abort();
    const { context } = window;
    const timing = requestTiming(context.prefix, this.accepted !== undefined && sameCursor(this.accepted, cursorKey(context)));
    if (!(await delay(startDelayMs(timing, settings.debounceMs ?? 0), signal))) return undefined;
    const suggestion = await this.waitFor(this.startJob(jobInput(window, this.extraFor(settings)), settings, 'request'), signal);
    return suggestion && this.serve(suggestion, suggestion.text, 'engine');
  }

  private startJob(input: JobInput, settings: CompletionSettings, kind: JobKind): EngineJob {
    const request = generateRequest(input, settings);
    const job = new EngineJob(this.runtime, input.context, request, this.job?.settled ?? Promise.resolve(), (result) => this.suggestionFrom(result, input, kind));
    this.job = job;
    job.suggestion.then((s) => { if (s && s.text !== '') this.cache.put(input.context, s); }, noop);
    return job;
  }

  /** Post-processing: the model's raw text cut to what may show at the cursor ('' for nothing). */
  private suggestionFrom(result: GenerateResult, { context, languageId }: JobInput, kind: JobKind): Suggestion {
    return {
      text: postprocess(result.text, { prefix: context.prefix, suffix: context.suffix, languageId, syntax: this.syntax }) ?? '',
      stopReason: result.stopReason,
      ttfsMs: result.ttfsMs,
      promptTokens: result.promptTokens,
      generatedTokens: result.generatedTokens,
      fromPrefetch: kind === 'prefetch',
    };
  }

  private async waitFor(job: EngineJob, signal: AbortSignal): Promise<Suggestion | undefined> {
    job.attach();
    try {
      return await unlessAborted(job.suggestion, signal);
    } finally {
      job.detach();
    }
  }

  private serve(suggestion: Suggestion, text: string, source: CompletionSource): Served {
    if (suggestion.fromPrefetch) this.stats.prefetchHits++;
    const fromEngine = source !== 'cache';
    return {
      text,
      source,
      ttfsMs: fromEngine ? suggestion.ttfsMs : 0,
      promptTokens: fromEngine ? suggestion.promptTokens : 0,
      generatedTokens: fromEngine ? suggestion.generatedTokens : 0,
      stopReason: suggestion.stopReason,
    };
  }

  private afterShown(window: Window, shown: Shown, settings: CompletionSettings): void {
    if (shown.text === '') {
      this.accepted = undefined;
      return;
    }
    const next = acceptedContext(window.context, shown, window.budget.clip);
    this.accepted = cursorKey(next);
    if (!settings.prefetch) return;
    this.prefetches.schedule(
      () => !this.latest && !this.job?.running && !this.cache.has(next),
      () => {
        this.stats.prefetches++;
        this.startJob(jobInput(window, this.extraFor(settings), shown), settings, 'prefetch');
      },
      PREFETCH_AFTER_IDLE_MS,
    );
  }

  /** The extra context source when the settings ask for it. */
  private extraFor(settings: CompletionSettings): ExtraContextSource | undefined {
    return settings.extraContext === true ? this.extra : undefined;
  }
}

function noop(): void {}
