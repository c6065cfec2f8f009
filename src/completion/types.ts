// Plain data that crosses from the editor into the completion pipeline and back. No `vscode` here:
// the host turns a TextDocument into a TextSource and a CancellationToken into an AbortSignal.

import type { StopReason } from '../engine';
import type { CompletionMode } from './lineMode';

/** Read access to a document by UTF-16 offsets. A plain string satisfies it, and so does a thin
 *  adapter over an editor document, so a multi-MB document is never copied whole. */
export interface TextSource {
  readonly length: number;
  slice(start: number, end: number): string;
}

export interface CompletionRequest {
  document: TextSource;
  /** Cursor position, in UTF-16 code units from the start of the document. */
  offset: number;
  languageId: string;
  fileName: string;
}

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

/** Code from outside the window for the prompt (src/context/extraContext.ts). */
export interface ExtraContextSource {
  /** Code to put before the prefix of a prompt whose window starts at document offset
   *  `windowStart`, at most `maxChars` long ('' for none). It must change only when what it is made
   *  of changes — not on every keystroke — so the engine can reuse the prompt's cached keys and
   *  values. Synchronous and quick: it runs before every new engine call. */
  gather(request: CompletionRequest, windowStart: number, maxChars: number): string;
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
