// Small line helpers the filters share. Lines are split on '\n'; a '\r' before it counts as
// trailing whitespace.

/** The text after the last newline: the cursor's line up to the cursor, for a prefix. */
export function lastLine(text: string): string {
  return text.slice(text.lastIndexOf('\n') + 1);
}

/** The text up to the first newline: the rest of the cursor's line, for a suffix. */
export function firstLine(text: string): string {
  const newline = text.indexOf('\n');
  return newline < 0 ? text : text.slice(0, newline);
}

/** The first line with something on it, untrimmed; undefined when there is none. */
export function firstNonBlankLine(text: string): string | undefined {
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf('\n', start);
    const line = text.slice(start, end < 0 ? text.length : end);
    if (line.trim() !== '') return line;
    if (end < 0) return undefined;
    start = end + 1;
  }
  return undefined;
}

export function leadingWhitespace(line: string): string {
  return /^[ \t]*/.exec(line)![0];
}

/** Columns of a line's indentation, a tab counting `tabSize`. */
export function indentWidth(line: string, tabSize: number): number {
  let width = 0;
  for (const c of leadingWhitespace(line)) width += c === '\t' ? tabSize : 1;
  return width;
}
