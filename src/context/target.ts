// What Explain / Refactor works on: the selection, else the enclosing function or class, else a
// small file as a whole, else nothing (the host then asks the user to select code). Pure.

import type { Scope } from './syntax';

/** A file up to this size is a target as a whole when the cursor is in no function or class. */
export const WHOLE_FILE_MAX_CHARS = 6000;
/** Larger targets are refused: even the cloud model would see only a sliver of them, and merely
 *  measuring one takes seconds (~1 s per 300 KB with the fixture tokenizer). */
export const TARGET_MAX_CHARS = 1_000_000;

export interface TargetQuery {
  /** The whole document. */
  text: string;
  /** UTF-16 offsets; equal when nothing is selected. */
  selectionStart: number;
  selectionEnd: number;
  /** The enclosing scope of the cursor, when tree-sitter found one. */
  scope: Scope | undefined;
}

export type TargetPick =
  | { start: number; end: number; source: 'selection' | 'scope' | 'file'; kind?: string }
  | { start?: undefined; message: string };

export function pickTarget(q: TargetQuery): TargetPick {
  const pick = pickRange(q);
  if (pick.start !== undefined && pick.end - pick.start > TARGET_MAX_CHARS) {
    const mb = ((pick.end - pick.start) / 1e6).toFixed(1);
    return { message: `The code to work on is ${mb} MB; select at most ${TARGET_MAX_CHARS / 1e6} MB (a function, a class, a few screens).` };
  }
  return pick;
}

function pickRange(q: TargetQuery): TargetPick {
  if (q.text.slice(q.selectionStart, q.selectionEnd).trim() !== '') {
    return { start: q.selectionStart, end: q.selectionEnd, source: 'selection' };
  }
  if (q.scope && q.scope.end > q.scope.start) return { start: q.scope.start, end: q.scope.end, source: 'scope', kind: q.scope.kind };
  if (q.text.trim() === '') return { message: 'The file is empty: there is no code to work on.' };
  if (q.text.length <= WHOLE_FILE_MAX_CHARS) {
    // Leading and trailing blank lines are not code: leave them out of the range.
    const start = q.text.length - q.text.trimStart().length;
    return { start, end: q.text.trimEnd().length, source: 'file' };
  }
  return { message: 'Select the code first, or put the cursor inside a function or class.' };
}
