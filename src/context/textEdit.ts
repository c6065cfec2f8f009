// The one edit that turns one version of a document into the next, as tree-sitter's incremental
// parse wants it: what the versions share at the start and at the end is kept, the rest replaced.
// Offsets and columns in UTF-16 code units (as web-tree-sitter reads JS strings). Pure.

export interface TextPoint {
  row: number;
  column: number;
}

export interface TextEdit {
  startIndex: number;
  oldEndIndex: number;
  newEndIndex: number;
  startPosition: TextPoint;
  oldEndPosition: TextPoint;
  newEndPosition: TextPoint;
}

export function textEdit(oldText: string, newText: string): TextEdit {
  const shorter = Math.min(oldText.length, newText.length);
  let start = 0;
  while (start < shorter && oldText.charCodeAt(start) === newText.charCodeAt(start)) start++;
  let common = 0; // shared at the end, not overlapping the shared start
  while (common < shorter - start && oldText.charCodeAt(oldText.length - 1 - common) === newText.charCodeAt(newText.length - 1 - common)) common++;
  const oldEnd = oldText.length - common;
  const newEnd = newText.length - common;
  const startPosition = pointAt(newText, start);
  return {
    startIndex: start,
    oldEndIndex: oldEnd,
    newEndIndex: newEnd,
    startPosition,
    oldEndPosition: advance(startPosition, oldText, start, oldEnd),
    newEndPosition: advance(startPosition, newText, start, newEnd),
  };
}

function pointAt(text: string, offset: number): TextPoint {
  return advance({ row: 0, column: 0 }, text, 0, offset);
}

/** `from` moved over text[start, end). */
function advance(from: TextPoint, text: string, start: number, end: number): TextPoint {
  let { row, column } = from;
  let lineStart = -1;
  for (let i = text.indexOf('\n', start); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) {
    row++;
    lineStart = i + 1;
  }
  column = lineStart < 0 ? column + (end - start) : end - lineStart;
  return { row, column };
}
