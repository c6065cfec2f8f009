// Truncation by syntax: a window of prefix + suggestion + suffix is parsed together, and the
// suggestion ends where the block the cursor is in ends (its `}`, or Python's dedent).

import type { SuggestionContext } from './types';

/** The window parsed around the cursor, so the parse costs the same in a 10 MB document. */
export const WINDOW_PREFIX_CHARS = 6_000;
export const WINDOW_SUFFIX_CHARS = 2_000;

/**
 * Where the suggestion should end, as an offset into it (its length: nowhere before its end); or
 * undefined when the syntax cannot tell: no grammar or parser ready, a failed or timed-out parse,
 * or a syntax error in the block before the suggestion's end (the parse may have the block wrong).
 */
export function syntaxBlockEnd(suggestion: string, { prefix, suffix, languageId, syntax }: SuggestionContext): number | undefined {
  const content = suggestion.search(/\S/);
  if (!syntax || languageId === undefined || content < 0) return undefined;
  const before = prefixWindow(prefix);
  const cursor = before.length;
  const block = syntax.blockAt(before + suggestion + suffixWindow(suffix), cursor + content, languageId);
  const suggestionEnd = cursor + suggestion.length;
  if (!block || (block.firstErrorAt !== undefined && block.firstErrorAt < suggestionEnd)) return undefined;
  if (block.end >= suggestionEnd) return suggestion.length;
  const end = block.end - cursor;
  // What closes the call or statement around the block goes with its `}`: `});`.
  return end + /^[)\]};,]*/.exec(suggestion.slice(end))![0].length;
}

/** The prefix's last whole lines, from the first of them (before the cursor's line) that is
 *  indented least, so the parse starts at a statement rather than inside one. */
function prefixWindow(prefix: string): string {
  let text = prefix;
  if (text.length > WINDOW_PREFIX_CHARS) {
    text = text.slice(-WINDOW_PREFIX_CHARS);
    text = text.slice(text.indexOf('\n') + 1);
  }
  let best = 0;
  let bestIndent = Infinity;
  for (let start = 0, end = text.indexOf('\n'); end >= 0; start = end + 1, end = text.indexOf('\n', start)) {
    const line = text.slice(start, end);
    const indent = line.search(/\S/);
    if (indent >= 0 && indent < bestIndent && !/^[)\]}]/.test(line.trimStart())) [best, bestIndent] = [start, indent];
    if (bestIndent === 0) break;
  }
  return text.slice(best);
}

function suffixWindow(suffix: string): string {
  if (suffix.length <= WINDOW_SUFFIX_CHARS) return suffix;
  const text = suffix.slice(0, WINDOW_SUFFIX_CHARS);
  const newline = text.lastIndexOf('\n');
  return newline < 0 ? text : text.slice(0, newline + 1);
}
