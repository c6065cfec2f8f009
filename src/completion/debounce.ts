// How long a request waits before it may start an engine call. Typing inside a word sends a request
// per keystroke and the next one usually follows within a moment: such a request waits, and is
// dropped if a newer one arrives meanwhile (latest wins). Where the user tends to pause — at the
// start of a line, right after accepting a suggestion — the request goes at once, and so does one
// after punctuation or a space, where a suggestion is most often wanted.

export type RequestTiming = 'line-start' | 'after-accept' | 'mid-word' | 'other';

export function requestTiming(prefix: string, afterAccept: boolean): RequestTiming {
  if (afterAccept) return 'after-accept';
  if (atLineStart(prefix)) return 'line-start';
  return afterIdentifierChar(prefix) ? 'mid-word' : 'other';
}

export function startDelayMs(timing: RequestTiming, debounceMs: number): number {
  return timing === 'mid-word' ? Math.max(0, debounceMs) : 0;
}

/** Only whitespace between the start of the cursor's line and the cursor. */
function atLineStart(prefix: string): boolean {
  return prefix.slice(prefix.lastIndexOf('\n') + 1).trim() === '';
}

/** A letter, digit, `_` or `$` (in any script) right before the cursor. */
function afterIdentifierChar(prefix: string): boolean {
  return /[\p{L}\p{N}\p{Mn}\p{Mc}_$]$/u.test(prefix.slice(-2)); // 2 code units: one code point
}
