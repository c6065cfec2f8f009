// One engine call for one cursor, and the text it has streamed so far. Requests wait on it: the
// one that started it, and any later one whose typed characters are what the model has already
// streamed. When the last waiting request leaves, the call is aborted after a short grace, in which
// the next keystroke's request may take it over: VS Code cancels a request as soon as the document
// changes, before it asks about the new cursor.

import { isAbort, type Engine, type GenerateRequest } from '../engine';
import { postprocess, type BlockFinder } from '../postprocess';
import { isMultiLine } from './lineMode';
import { cursorKey, typedSince, type CursorKey, type Suggestion } from './typedAheadCache';
import type { CompletionSettings, CursorContext } from './types';

export type JobKind = 'request' | 'prefetch';

/** What one engine call completes. */
export interface JobInput {
  /** The cursor as requests see it: what identifies the call and its cache entry, and what its
   *  output is post-processed against. */
  context: CursorContext;
  /** VS Code language id of the document ('' when unknown). */
  languageId: string;
  /** What the prompt shows the model: extra context (src/context/extraContext.ts) and the text
   *  before the cursor, and the text after it. */
  prompt: { prefix: string; suffix: string };
}

/** What every job of a pipeline shares. */
export interface JobRuntime {
  engine: Engine;
  /** Syntax-aware truncation of the output; without it, truncation follows indentation. */
  syntax?: BlockFinder;
  /** How long the call keeps running once no request waits on it (ms). */
  graceMs: number;
}

export class EngineJob {
  readonly key: CursorKey;
  /** The post-processed output; undefined when the call was aborted. Rejects on engine failures. */
  readonly suggestion: Promise<Suggestion | undefined>;
  /** Settles once the engine call has (or, never made, would have): the engine is free again. */
  readonly settled: Promise<void>;
  running = true;
  /** Raw model text streamed so far. */
  private streamed = '';
  private readonly controller = new AbortController();
  private waiters = 0;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;

  /** Starts once `engineFree` settles, so the engine never holds more than one call of ours. */
  constructor(
    private readonly runtime: JobRuntime,
    readonly input: JobInput,
    readonly kind: JobKind,
    settings: CompletionSettings,
    engineFree: Promise<void>,
  ) {
    this.key = cursorKey(input.context);
    this.suggestion = this.run(generateRequest(input, settings), engineFree);
    this.settled = this.suggestion.then(noop, noop);
  }

  /** The characters typed at this job's cursor to reach `context`, when the model has streamed
   *  them already (so its output can still serve `context`); undefined otherwise. */
  typedBy(context: CursorContext): string | undefined {
    if (!this.running || this.controller.signal.aborted) return undefined;
    return typedSince(this.key, context, this.streamed);
  }

  attach(): void {
    this.waiters++;
    clearTimeout(this.graceTimer);
  }

  detach(): void {
    if (--this.waiters > 0 || !this.running) return;
    if (this.runtime.graceMs <= 0) this.abort();
    else this.graceTimer = setTimeout(() => this.abort(), this.runtime.graceMs);
  }

  abort(): void {
    clearTimeout(this.graceTimer);
    this.controller.abort();
  }

  private async run(request: GenerateRequest, engineFree: Promise<void>): Promise<Suggestion | undefined> {
    await engineFree;
    const { signal } = this.controller;
    try {
      if (signal.aborted) return undefined;
      const result = await this.runtime.engine.generate(request, { signal, onText: (delta) => { this.streamed += delta; } });
      const { context, languageId } = this.input;
      return {
        text: postprocess(result.text, { prefix: context.prefix, suffix: context.suffix, languageId, syntax: this.runtime.syntax }) ?? '',
        stopReason: result.stopReason,
        ttfsMs: result.ttfsMs,
        promptTokens: result.promptTokens,
        generatedTokens: result.generatedTokens,
        fromPrefetch: this.kind === 'prefetch',
      };
    } catch (error) {
      if (isAbort(error) || signal.aborted) return undefined;
      throw error;
    } finally {
      this.running = false;
      clearTimeout(this.graceTimer);
    }
  }
}

function generateRequest({ context, prompt }: JobInput, settings: CompletionSettings): GenerateRequest {
  return {
    prompt: { kind: 'fim', prefix: prompt.prefix, suffix: prompt.suffix },
    maxNewTokens: settings.maxNewTokens,
    temperature: 0,
    topP: 1,
    seed: 0,
    timeBudgetMs: settings.timeBudgetMs,
    stopStrings: isMultiLine(context, settings.mode ?? 'auto') ? undefined : ['\n'],
  };
}

function noop(): void {}
