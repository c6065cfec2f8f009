// Truncation by indentation, for languages without a grammar and for parses that cannot be
// trusted: the block the cursor is in ends at the first line indented less than it.

import { indentWidth } from './lines';

/** A line that closes a block: a bracket, or a keyword of the languages that close with one. */
const CLOSES = /^([)\]}]|(end|fi|done|esac)\b)/;
/** …and opens the next one, like `} else {`: the block goes on. */
const REOPENS = /[{([]$/;

/**
 * Where the suggestion should end, as an offset into it: before the first line indented less than
 * the cursor's block, looking only past the suggestion's first line with code; or after that line
 * when it closes the block (`}`, `end`). The whole suggestion when no line is indented less.
 *
 * The cursor's block is as indented as the cursor's line, or as the suggestion's first line when
 * that is deeper and starts below a cursor line with code (`def f():█` opens the block it fills).
 */
export function indentationBlockEnd(suggestion: string, lineBeforeCursor: string, tabSize: number): number {
  const lines = suggestion.split('\n');
  const first = lines.findIndex((line) => line.trim() !== '');
  if (first < 0) return suggestion.length;
  const width = (line: string) => indentWidth(line, tabSize);
  let block: number;
  if (first === 0) block = width(lineBeforeCursor + lines[0]);
  else if (lineBeforeCursor.trim() !== '') block = Math.max(width(lineBeforeCursor), width(lines[first]!));
  else block = width(lines[first]!);

  let end = lines.slice(0, first + 1).join('\n').length;
  for (const line of lines.slice(first + 1)) {
    const start = end + 1;
    end = start + line.length;
    const body = line.trim();
    if (body === '' || width(line) >= block) continue;
    if (!CLOSES.test(body)) return start - 1;
    if (!REOPENS.test(body)) return end;
  }
  return suggestion.length;
}
