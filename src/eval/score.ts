// How one completion is judged against the expected text. For a single-line task only the
// completion's first line counts (what the user accepts for the line being typed), for a
// multi-line task all of it; whitespace at either end never counts, on either side.

import type { TaskKind } from './tasks';

export interface Score {
  /** The part of the completion that was compared. */
  got: string;
  /** 1 when `got` equals the expected text, else 0. */
  exact: 0 | 1;
  /** 1 − Levenshtein distance / the longer length, in code points; 1 when both are empty. */
  editSimilarity: number;
}

export function scoreCompletion(completion: string, expected: string, kind: TaskKind): Score {
  const got = comparedText(completion, kind);
  const want = expected.trim();
  return { got, exact: got === want ? 1 : 0, editSimilarity: editSimilarity(got, want) };
}

export function comparedText(text: string, kind: TaskKind): string {
  return (kind === 'single-line' ? firstLine(text) : text).trim();
}

export function firstLine(text: string): string {
  const newline = text.indexOf('\n');
  return newline < 0 ? text : text.slice(0, newline);
}

export function editSimilarity(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  const longer = Math.max(x.length, y.length);
  return longer === 0 ? 1 : 1 - levenshtein(x, y) / longer;
}

/** Insertions, deletions and substitutions that turn `a` into `b`; two rows of the DP table. */
export function levenshtein(a: readonly string[], b: readonly string[]): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j); // [b.length + 1] distances for a[0..i)
  let current = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(substitution, previous[j] + 1, current[j - 1] + 1);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length];
}
