// One completion request, top to bottom: clip the document around the cursor → skip pointless
// requests → wait for the engine to be free → generate a fill-in-the-middle → post-process.
// Latest request wins: each call aborts the one before it, and an aborted call resolves to
// undefined rather than throwing. At most one engine call is outstanding at a time, so however
// fast the user types, the engine's queue holds no more than one run.

import { isAbort, type Engine, type GenerateRequest } from '../engine';
import { postprocess } from '../postprocess';
import { clipAroundCursor, DEFAULT_CLIP_LIMITS, type ClipLimits } from './clip';
import { skipReason } from './prefilter';
import type { CompletionRequest, CompletionResult, CompletionSettings, CursorContext } from './types';

export class CompletionPipeline {
  private latest: AbortController | undefined;
  /** Settles when the engine call made last has settled, however it ended. */
  private engineFree: Promise<void> = Promise.resolve();

  constructor(
    private readonly engine: Engine,
    private readonly clipLimits: ClipLimits = DEFAULT_CLIP_LIMITS,
  ) {}

  /** The suggestion for `request` (its text '' when post-processing dropped it), or undefined when
   *  the request was skipped, superseded or cancelled through `signal`. Rejects only on engine
   *  failures. */
  async complete(request: CompletionRequest, settings: CompletionSettings, signal?: AbortSignal): Promise<CompletionResult | undefined> {
    const startMs = performance.now();
    this.latest?.abort();
    const controller = new AbortController();
    this.latest = controller;
    const cancel = () => controller.abort();
    signal?.addEventListener('abort', cancel);
    try {
      if (signal?.aborted) return undefined;
      const context = clipAroundCursor(request.document, request.offset, this.clipLimits);
      if (skipReason(context) !== undefined) return undefined;

      await this.engineFree;
      if (controller.signal.aborted) return undefined;
      const run = this.engine.generate(generateRequest(context, settings), { signal: controller.signal });
      this.engineFree = run.then(noop, noop);
      const result = await run;
      if (controller.signal.aborted) return undefined;

      return {
        text: postprocess(result.text, context) ?? '',
        latencyMs: performance.now() - startMs,
        ttfsMs: result.ttfsMs,
        promptTokens: result.promptTokens,
        generatedTokens: result.generatedTokens,
        stopReason: result.stopReason,
      };
    } catch (error) {
      if (isAbort(error) || controller.signal.aborted) return undefined;
      throw error;
    } finally {
      signal?.removeEventListener('abort', cancel);
      if (this.latest === controller) this.latest = undefined;
    }
  }

  /** Cancels the request in flight, if any. */
  cancel(): void {
    this.latest?.abort();
  }
}

function generateRequest(context: CursorContext, settings: CompletionSettings): GenerateRequest {
  return {
    prompt: { kind: 'fim', prefix: context.prefix, suffix: context.suffix },
    maxNewTokens: settings.maxNewTokens,
    temperature: 0,
    topP: 1,
    seed: 0,
    timeBudgetMs: settings.timeBudgetMs,
    stopStrings: stopStrings(context),
  };
}

/** In the middle of a line only the rest of that line is wanted; at its end, a block may follow. */
function stopStrings(context: CursorContext): string[] | undefined {
  const newline = context.suffix.indexOf('\n');
  const restOfLine = newline < 0 ? context.suffix : context.suffix.slice(0, newline);
  return restOfLine.trim() === '' ? undefined : ['\n'];
}

function noop(): void {}
