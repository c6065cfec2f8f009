// A small model often "completes" by repeating what already follows the cursor. Inserting that
// would duplicate code, so such suggestions are cut at the echo or dropped.

import type { PostProcessor } from './types';

/** A multi-line suggestion that runs into the next line of the document is cut before it. */
export const cutAtSuffixEcho: PostProcessor = (suggestion, { suffix }) => {
  const next = firstNonBlankLine(suffix);
  if (next === undefined) return suggestion;
  const lines = suggestion.split('\n');
  const echo = lines.findIndex((line, i) => i > 0 && line.trim() === next);
  return echo < 0 ? suggestion : lines.slice(0, echo).join('\n');
};

/** A suggestion that only repeats the text after the cursor (its start, or the next line) is dropped. */
export const dropSuffixEcho: PostProcessor = (suggestion, { suffix }) => {
  const text = suggestion.trim();
  if (text === '') return suggestion;
  if (suffix.trimStart().startsWith(text)) return undefined;
  const next = firstNonBlankLine(suffix);
  return next !== undefined && firstNonBlankLine(suggestion) === next ? undefined : suggestion;
};

/** The first line with something on it, trimmed; undefined when there is none. */
function firstNonBlankLine(text: string): string | undefined {
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf('\n', start);
    const line = text.slice(start, end < 0 ? text.length : end).trim();
    if (line !== '') return line;
    if (end < 0) return undefined;
    start = end + 1;
  }
  return undefined;
}
