// Whether a suggestion may run over several lines. In the middle of a line only the rest of that
// line is wanted; a body is wanted at the start of an empty block (`{` or `:`, then Enter). Elsewhere
// one line reads fastest and is most often right. Pure: the text around the cursor decides.

import type { CompletionMode, CursorContext } from './types';

/** What may follow the cursor on its line when a block is opened before it: `{█}`, `{█});`. */
const CLOSERS_ONLY = /^[\s)\]}"'`;,]*$/;
/** A line that opens a body: ends with `{`, or with `do` (`do |x|`) / `then` (Ruby, Lua, shell)… */
const OPENS_BODY = /(\{|\bdo(\s*\|[^|]*\|)?|\bthen)\s*$/;
/** …or is a Python compound statement or a `case` label, which end with `:` (a `key:` or `x:` being
 *  typed does not open a body). */
const COLON_BODY = /^\s*(async\s+)?(def|class|if|elif|else|for|while|try|except|finally|with|match|case|default)\b.*:\s*$/;
/** …or with a bracket whose contents may span lines (arguments, elements). */
const OPENS_LIST = /[[(]\s*$/;
/** …or a Ruby / Lua definition, which closes with `end` (no braces or `;` on the line). */
const STARTS_END_BLOCK = /^\s*(def|class|module|function|local\s+function)\b[^{};]*$/;

export function isMultiLine(context: CursorContext, mode: CompletionMode): boolean {
  if (mode !== 'auto') return mode === 'multiLine';
  return atEmptyBlockStart(context);
}

/**
 * The cursor starts the body of a block that has none yet: at the end of a line that opens a body
 * (`{█`, `{█}`, `def f():█`), or on a blank line right below a line that opens a body or a list;
 * and below the cursor's line nothing is indented deeper than that line (the body is empty).
 */
export function atEmptyBlockStart({ prefix, suffix }: CursorContext): boolean {
  const lineStart = prefix.lastIndexOf('\n') + 1;
  const before = prefix.slice(lineStart);
  const newline = suffix.indexOf('\n');
  const rest = newline < 0 ? suffix : suffix.slice(0, newline);
  if (!CLOSERS_ONLY.test(rest)) return false;

  let opener: string | undefined;
  if (before.trim() !== '') {
    if (!opensBody(before)) return false;
    if (rest.trim() !== '') return /\{\s*$/.test(before); // `{█}`: the body closes on this line
    opener = before;
  } else {
    if (rest.trim() !== '') return false;
    opener = lastLineWithCode(prefix.slice(0, Math.max(0, lineStart - 1)));
    if (opener === undefined || !(opensBody(opener) || OPENS_LIST.test(withoutLineComment(opener)))) return false;
  }
  const next = newline < 0 ? undefined : firstLineWithCode(suffix.slice(newline + 1));
  return next === undefined || indentOf(next) <= indentOf(opener);
}

function opensBody(line: string): boolean {
  const code = withoutLineComment(line);
  return OPENS_BODY.test(code) || COLON_BODY.test(code) || STARTS_END_BLOCK.test(code);
}

/** The line without a trailing `//` or `#` comment (a light cut: one inside a string is rare at a
 *  line's end after an opener). */
function withoutLineComment(line: string): string {
  return line.replace(/\s+(\/\/|#).*$/, '');
}

function lastLineWithCode(text: string): string | undefined {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.trim() !== '') return lines[i];
  return undefined;
}

function firstLineWithCode(text: string): string | undefined {
  return text.split('\n').find((line) => line.trim() !== '');
}

/** Columns of indentation, a tab counting 4: only compared between nearby lines of one file. */
function indentOf(line: string): number {
  let width = 0;
  for (const c of /^[ \t]*/.exec(line)![0]) width += c === '\t' ? 4 : 1;
  return width;
}
