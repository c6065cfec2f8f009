// One engine call for one cursor, and the text it has streamed so far. Requests wait on it: the
// one that started it, and any later one whose typed characters are what the model has already
// streamed. When the last waiting request leaves, the call is aborted after a short grace, in which
// the next keystroke's request may take it over: VS Code cancels a request as soon as the document
// changes, before it asks about the new cursor. What the raw output becomes is the pipeline's
// business (its `finish`: post-processing), done once however many requests wait.

import { isAbort, type Engine, type GenerateRequest, type GenerateResult } from '../engine';
import { cursorKey, typedSince, type CursorKey, type Suggestion } from './typedAheadCache';
import type { CursorContext } from './types';

/** What every job of a pipeline shares. */
export interface JobRuntime {
  engine: Engine;
  /** How long the call keeps running once no request waits on it (ms). */
  graceMs: number;
}

export class EngineJob {
  readonly key: CursorKey;
  /** What `finish` made of the engine's output; undefined when the call was aborted. Rejects on
   *  engine failures. */
  readonly suggestion: Promise<Suggestion | undefined>;
  /** Settles once the engine call has (or, never made, would have): the engine is free again. */
  readonly settled: Promise<void>;
  running = true;
  /** Raw model text streamed so far. */
  private streamed = '';
  private readonly controller = new AbortController();
  private waiters = 0;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;

  /** Makes `request` for the cursor `context` once `engineFree` settles, so the engine never holds
   *  more than one call of ours. `finish` turns the engine's output into the suggestion. */
  constructor(
    private readonly runtime: JobRuntime,
    context: CursorContext,
    request: GenerateRequest,
    engineFree: Promise<void>,
    finish: (result: GenerateResult) => Suggestion,
  ) {
    this.key = cursorKey(context);
    this.suggestion = this.run(request, engineFree, finish);
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

  private async run(request: GenerateRequest, engineFree: Promise<void>, finish: (result: GenerateResult) => Suggestion): Promise<Suggestion | undefined> {
    await engineFree;
    const { signal } = this.controller;
    try {
      if (signal.aborted) return undefined;
      const result = await this.runtime.engine.generate(request, { signal, onText: (delta) => { this.streamed += delta; } });
      return finish(result);
    } catch (error) {
      if (isAbort(error) || signal.aborted) return undefined;
      throw error;
    } finally {
      this.running = false;
      clearTimeout(this.graceTimer);
    }
  }
}

function noop(): void {}
