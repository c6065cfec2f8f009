// The editor often has the closing bracket, quote or semicolon right after the cursor already
// (auto-closed, or typed before): the suggestion must not end with a second copy of it.

import { unmatchedClosers } from './brackets';
import { firstLine, lastLine } from './lines';
import type { PostProcessor } from './types';

/** Closers, quotes and the separators that follow them, as they may stand right after the cursor. */
const CLOSING_RUN = /^[\s)\]}"'`;,]*/;

/** Where the suggestion ends with what the rest of the cursor's line starts with (spaces before it
 *  aside), and that is made of closers the suggestion did not open itself (plus `;`, `,` and
 *  spaces), it is cut: `f(█)` with `x)` shows `x`; with `g(x)` it stays `g(x)`. A multi-line one
 *  that has the line's closers with more between or after them is cut before them. */
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
  // Past a line end the editor's range cannot keep what comes after the line's closers (see
  // closersReplaced): cut before them, losing a `;` rather than doubling a `)`.
  const inTail = suggestion.includes('\n') ? lineClosersInTail(suggestion, { prefix, suffix }) : undefined;
  return inTail ? suggestion.slice(0, inTail.first).trimEnd() : suggestion;
};

function everyCloserUnmatched(text: string, from: number, unmatched: Set<number>): boolean {
  for (let i = from; i < text.length; i++) {
    if (/[)\]}"'`]/.test(text[i]!) && !unmatched.has(i)) return false;
  }
  return true;
}

/**
 * How many characters after the cursor a single-line suggestion should replace rather than insert
 * before: the closers ending the cursor's line (`)`, `]);`) when the suggestion ends with them in
 * order, with more in between (`points);` over `)`: its `)` is the line's, its `;` is new).
 * Inserted, `points);` gives `points);)`, and cut to `points` it loses the `;`; as the range of the
 * inline item, VS Code shows it as ghost text on both sides of the `)` and Tab gives `points);`.
 * 0 when the rest of the line is more than closers, or the suggestion does not close what they
 * close (a pair it opens and closes itself is its own text, not the line's closer).
 */
export function closersReplaced(suggestion: string, context: { prefix: string; suffix: string }): number {
  if (suggestion.includes('\n')) return 0;
  return lineClosersInTail(suggestion, context)?.run.length ?? 0;
}

/** The line's closers found in order in the suggestion's tail: where the first of them is, and the
 *  run of the line (spaces before it included) they are. */
function lineClosersInTail(suggestion: string, { prefix, suffix }: { prefix: string; suffix: string }): { first: number; run: string } | undefined {
  const line = firstLine(suffix);
  const run = CLOSING_RUN.exec(line)![0].trimEnd();
  if (run.trim() === '' || line.slice(run.length).trim() !== '') return undefined;
  const closers = run.replace(/\s/g, '');
  const unmatched = unmatchedClosers(suggestion, lastLine(prefix));
  let next = 0;
  let first = -1;
  for (let i = suggestion.length - CLOSING_TAIL.exec(suggestion)![0].length; i < suggestion.length && next < closers.length; i++) {
    const c = suggestion[i]!;
    const isCloser = /[)\]}"'`]/.test(c);
    const closesOutside = isCloser && unmatched.has(i);
    if (c === closers[next] && (closesOutside || !isCloser)) {
      if (next++ === 0) first = i;
    } else if (closesOutside) {
      // It closes something before the line's closers come: the line holds them in another order.
      return undefined;
    }
  }
  return next === closers.length ? { first, run } : undefined;
}

/** The closers, separators and spaces a suggestion ends with. */
const CLOSING_TAIL = /[\s)\]}"'`;,]*$/;
