// Speculative work while the user reads a suggestion: the suggestion that would follow it if it were
// accepted, computed ahead and left in the typed-ahead cache, so that accepting with Tab shows the
// next one at once. It must never delay a real request: it starts only once nothing else wants the
// engine, and any real request that cannot use it aborts it (one that can, joins it).

import { clipAroundCursor, type ClipLimits } from './clip';
import type { ClippedContext } from './types';

/** The cursor context right after `text` is inserted at `context`'s cursor, clipped as a request
 *  there would clip it. */
export function acceptedContext(context: ClippedContext, text: string, limits: ClipLimits): ClippedContext {
  const prefix = context.prefix + text;
  return clipAroundCursor(prefix + context.suffix, prefix.length, limits, context.prefixStart);
}

/** One pending prefetch at a time: the latest scheduled replaces any earlier one not yet started. */
export class PrefetchScheduler {
  private pending: { timer: ReturnType<typeof setTimeout>; done: () => void; decided: Promise<void> } | undefined;

  /** Calls `start` on a later turn of the event loop (the caller gets its result first), if
   *  `wanted()` still says so then. */
  schedule(wanted: () => boolean, start: () => void): void {
    this.cancel();
    let done = noop;
    const decided = new Promise<void>((resolve) => { done = resolve; });
    const timer = setTimeout(() => {
      this.pending = undefined;
      if (wanted()) start();
      done();
    }, 0);
    this.pending = { timer, done, decided };
  }

  cancel(): void {
    if (!this.pending) return;
    clearTimeout(this.pending.timer);
    this.pending.done();
    this.pending = undefined;
  }

  /** Settles once the prefetch scheduled last has started or been dropped. */
  decided(): Promise<void> {
    return this.pending?.decided ?? Promise.resolve();
  }
}

function noop(): void {}
