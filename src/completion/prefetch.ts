// Speculative work while the user reads a suggestion: the suggestion that would follow it if it were
// accepted, computed ahead and left in the typed-ahead cache, so that accepting with Tab shows the
// next one at once. It must never delay a real request: it starts only once the user has paused
// after the suggestion and nothing else wants the engine, and any real request that cannot use it
// aborts it (one that can, joins it).

import { clipAroundCursor, type ClipLimits } from './clip';
import type { ClippedContext } from './types';

/** A suggestion as shown: its text, over the `replaced` characters after the cursor. */
export interface Shown {
  text: string;
  replaced: number;
}

/** The cursor context right after `shown` is accepted at `context`'s cursor, clipped as a request
 *  there would clip it. */
export function acceptedContext(context: ClippedContext, shown: Shown, limits: ClipLimits): ClippedContext {
  const prefix = context.prefix + shown.text;
  return clipAroundCursor(prefix + context.suffix.slice(shown.replaced), prefix.length, limits, context.prefixStart);
}

/** How long the user must leave a suggestion alone before its prefetch starts. Typing goes on at
 *  60–120 ms a key, so while the user types, no prefetch runs. Started at once, one ran after every
 *  suggestion shown, and each moved the engine's cached prompt away from the one the next keystroke
 *  needed (its prompt holds the suggestion, so its window can start elsewhere), which cost that
 *  keystroke a re-prefill: in `npm run bench:latency -- --json` it ran ~140 times a run for 7–9 Tab
 *  accepts, 6 % of keystroke requests went unanswered before the next key and a keystroke cost
 *  28 ms of CPU; with this wait, 1–2 % and 9–15 ms, as with `--prefetch off`. */
export const PREFETCH_AFTER_IDLE_MS = 150;

/** One pending prefetch at a time: the latest scheduled replaces any earlier one not yet started. */
export class PrefetchScheduler {
  private pending: { timer: ReturnType<typeof setTimeout>; done: () => void; decided: Promise<void> } | undefined;

  /** Calls `start` after `delayMs` (at least a later turn of the event loop: the caller gets its
   *  result first), if `wanted()` still says so then and nothing cancelled it before. */
  schedule(wanted: () => boolean, start: () => void, delayMs = 0): void {
    this.cancel();
    let done = noop;
    const decided = new Promise<void>((resolve) => { done = resolve; });
    const timer = setTimeout(() => {
      this.pending = undefined;
      if (wanted()) start();
      done();
    }, delayMs);
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
