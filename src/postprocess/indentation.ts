// The document's indentation, and suggestion lines re-indented to match it: a model trained
// mostly on space-indented code still writes spaces into a tab-indented file, and vice versa.

import { lastLine, leadingWhitespace } from './lines';
import type { PostProcessor } from './types';

export interface Indentation {
  /** Whether lines start with tabs; undefined when the text shows no preference. */
  tabs: boolean | undefined;
  /** Columns per level: the commonest step between consecutive space-indented lines, else 4. */
  unit: number;
}

const DEFAULT_INDENT_UNIT = 4;

export function inferIndentation(text: string): Indentation {
  let tabLines = 0;
  let spaceLines = 0;
  const steps = new Map<number, number>();
  let previous = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const indent = leadingWhitespace(line);
    if (indent.startsWith('\t')) {
      tabLines++;
      continue;
    }
    // One space is more often a comment's ` *` than a level.
    if (indent.length >= 2) spaceLines++;
    const step = Math.abs(indent.length - previous);
    if (step >= 2 && step <= 8) steps.set(step, (steps.get(step) ?? 0) + 1);
    previous = indent.length;
  }
  let unit = DEFAULT_INDENT_UNIT;
  let best = 0;
  for (const [step, count] of steps) {
    if (count > best || (count === best && step < unit)) [unit, best] = [step, count];
  }
  const tabs = tabLines === spaceLines ? undefined : tabLines > spaceLines;
  return { tabs, unit };
}

/** Lines indented with the other style are re-indented in the document's; the first line too when
 *  the cursor is in the line's indentation. Lines already in the document's style are left alone. */
export const matchIndentation: PostProcessor = (suggestion, { prefix, suffix }) => {
  const { tabs, unit } = inferIndentation(prefix + suffix);
  if (tabs === undefined) return suggestion;
  const lines = suggestion.split('\n');
  const startsLine = lastLine(prefix).trim() === '';
  const spacesPerTab = tabs ? spaceUnitOf(lines) : unit;
  return lines
    .map((line, i) => (i === 0 && !startsLine ? line : reindent(line, tabs, spacesPerTab)))
    .join('\n');
};

function reindent(line: string, tabs: boolean, spacesPerTab: number): string {
  const indent = leadingWhitespace(line);
  const rest = line.slice(indent.length);
  if (!tabs) return indent.includes('\t') ? indent.replaceAll('\t', ' '.repeat(spacesPerTab)) + rest : line;
  if (!indent.includes(' ')) return line;
  const tabCount = indent.length - indent.replaceAll('\t', '').length;
  const spaces = indent.length - tabCount;
  // Spaces short of a level stay: they align (` * ` in a doc comment), they do not indent.
  return '\t'.repeat(tabCount + Math.floor(spaces / spacesPerTab)) + ' '.repeat(spaces % spacesPerTab) + rest;
}

/** The level the suggestion's space-indented lines are written in: 4 when every width is a multiple
 *  of 4, else 2 when every width is even, else 4. */
function spaceUnitOf(lines: readonly string[]): number {
  const widths = lines.map((line) => leadingWhitespace(line).replaceAll('\t', '').length).filter((w) => w > 0);
  if (widths.every((w) => w % 4 === 0)) return 4;
  return widths.every((w) => w % 2 === 0) ? 2 : 4;
}
