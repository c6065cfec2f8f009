// Plain data that crosses from the editor into the completion pipeline and back. No `vscode` here:
// the host turns a TextDocument into a TextSource and a CancellationToken into an AbortSignal.

import type { StopReason } from '../engine';

// The request is what context gathering reads too; it is declared there, below this folder.
export type { CompletionRequest, ExtraContextSource, TextSource } from '../context/types';

/** `flashcode.completion.mode`: how much a suggestion may cover (./lineMode.ts decides). */
export type CompletionMode = 'auto' | 'singleLine' | 'multiLine';

export const COMPLETION_MODES: readonly CompletionMode[] = ['auto', 'singleLine', 'multiLine'];

/** How a result was served: a new engine call; the typed-ahead cache (no engine work for this
 *  request); or an engine call already running when the request came, which it continued. */
export type CompletionSource = 'engine' | 'cache' | 'inflight';

export interface CompletionResult {
  /** Text to insert at the cursor; '' when post-processing dropped the model's output. */
  text: string;
  /** Characters after the cursor `text` replaces: closers the editor has there already, which
   *  `text` holds too (postprocess/closers.ts closersReplaced). */
  replacedAfterCursor: number;
  source: CompletionSource;
  /** From the pipeline call to the post-processed result. */
  latencyMs: number;
  /** From the engine call to its first streamed text; 0 from the cache. */
  ttfsMs: number;
  /** Of the engine call that produced the text; 0 from the cache. */
  promptTokens: number;
  generatedTokens: number;
  /** Why the engine call that produced the text stopped. */
  stopReason: StopReason;
}

export interface CompletionSettings {
  maxNewTokens: number;
  timeBudgetMs: number;
  /** How long a request typed mid-word waits before it may start an engine call (ms). Default 0. */
  debounceMs?: number;
  /** Compute the next suggestion, as if this one were accepted, while the user reads it. Default
   *  off: one-off callers (CLI, eval) would only waste the work. */
  prefetch?: boolean;
  /** Whether a suggestion may run over several lines (./lineMode). Default auto. */
  mode?: CompletionMode;
  /** Put code from outside the window (imports, enclosing signatures, other files) before the
   *  prefix, when the pipeline has a source for it. Default off. */
  extraContext?: boolean;
  /** The user asked for this suggestion (Trigger Inline Suggestion): the model is asked again
   *  rather than the typed-ahead cache. Default false. */
  explicit?: boolean;
}

/** Running totals of one pipeline, for benchmarks. */
export interface PipelineStats {
  /** Calls to complete(). */
  requests: number;
  cacheHits: number;
  /** Requests served by an engine call that was already running for an earlier cursor. */
  inflightJoins: number;
  /** Speculative engine calls started. */
  prefetches: number;
  /** Requests served (from the cache or by joining) with text a prefetch computed. */
  prefetchHits: number;
}

/** The document around the cursor that the prompt is built from. */
export interface CursorContext {
  prefix: string;
  suffix: string;
}

/** A CursorContext cut from a document, and where in it the prefix starts. */
export interface ClippedContext extends CursorContext {
  /** Document offset (UTF-16) of the prefix's first character. */
  prefixStart: number;
}
