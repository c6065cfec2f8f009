// A small model often "completes" by repeating what already follows the cursor. Inserting that
// would duplicate code, so such suggestions are cut at the echo or dropped.

import { unmatchedClosers } from './brackets';
import { firstLine, firstNonBlankLine, lastLine, leadingWhitespace } from './lines';
import type { PostProcessor } from './types';

/**
 * A multi-line suggestion that runs into the next line of the document is cut before it. A line
 * that starts with a closing bracket is that next line only if it closes something opened before
 * the suggestion, with the same bracket and indentation: the `}` of the suggestion's own `if` is
 * not the function's `}` below the cursor.
 */
export const cutAtSuffixEcho: PostProcessor = (suggestion, { prefix, suffix }) => {
  const next = firstNonBlankLine(suffix);
  if (next === undefined) return suggestion;
  let unmatched: Set<number> | undefined;
  const closesOutside = (at: number) => (unmatched ??= unmatchedClosers(suggestion, lastLine(prefix))).has(at);
  for (let start = suggestion.indexOf('\n') + 1; start > 0; start = suggestion.indexOf('\n', start) + 1) {
    const line = firstLine(suggestion.slice(start));
    const body = line.trim();
    if (body === '') continue;
    const echo = /^[)\]}]/.test(body)
      ? body[0] === next.trim()[0] && leadingWhitespace(line) === leadingWhitespace(next) && closesOutside(start + line.indexOf(body[0]!))
      : body === next.trim();
    if (echo) return suggestion.slice(0, start).trimEnd();
  }
  return suggestion;
};

/** A suggestion that only repeats what follows the cursor is dropped: the start of the rest of the
 *  cursor's line, or (when that is blank) the next line with code, whatever its indentation. */
export const dropSuffixEcho: PostProcessor = (suggestion, { prefix, suffix }) => {
  const text = suggestion.trim();
  if (text === '') return suggestion;
  const rest = firstLine(suffix);
  if (rest.trim() !== '') return rest.trimStart().startsWith(text) ? undefined : suggestion;
  const next = firstNonBlankLine(suffix);
  return next !== undefined && shownFirstLine(suggestion, prefix).trim() === next.trim() ? undefined : suggestion;
};

/** The first line the suggestion shows with code on it, with what precedes the cursor on its line. */
function shownFirstLine(suggestion: string, prefix: string): string {
  const first = firstLine(suggestion);
  return first.trim() === '' ? firstNonBlankLine(suggestion) ?? '' : lastLine(prefix) + first;
}
