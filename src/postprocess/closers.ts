// The editor often has the closing bracket, quote or semicolon right after the cursor already
// (auto-closed, or typed before): the suggestion must not end with a second copy of it.

import { unmatchedClosers } from './brackets';
import { firstLine, lastLine } from './lines';
import type { PostProcessor } from './types';

/** Closers, quotes and the separators that follow them, as they may stand right after the cursor. */
const CLOSING_RUN = /^[\s)\]}"'`;,]*/;

/** Where the suggestion ends with what the rest of the cursor's line starts with (spaces before it
 *  aside), and that is made of closers the suggestion did not open itself (plus `;`, `,` and
 *  spaces), it is cut: `f(█)` with `x)` shows `x`; with `g(x)` it stays `g(x)`. */
export const dedupeClosers: PostProcessor = (suggestion, { prefix, suffix }) => {
  const run = CLOSING_RUN.exec(firstLine(suffix).trimStart())![0].trimEnd();
  if (run === '') return suggestion;
  let unmatched: Set<number> | undefined;
  for (let length = Math.min(run.length, suggestion.length); length > 0; length--) {
    const overlap = run.slice(0, length);
    if (overlap.trim() === '' || !suggestion.endsWith(overlap)) continue;
    const start = suggestion.length - length;
    unmatched ??= unmatchedClosers(suggestion, lastLine(prefix));
    if (everyCloserUnmatched(suggestion, start, unmatched)) return suggestion.slice(0, start).trimEnd();
  }
  return suggestion;
};

function everyCloserUnmatched(text: string, from: number, unmatched: Set<number>): boolean {
  for (let i = from; i < text.length; i++) {
    if (/[)\]}"'`]/.test(text[i]!) && !unmatched.has(i)) return false;
  }
  return true;
}
