// A proposed rewrite is offered for Apply only when it could be what was asked for: a small model
// has answered "Add documentation" by deleting the whole function and "Simplify" with 32 comment
// lines. Refused: a loop (the same lines over and over), code that does not parse where the
// original does, and an answer that drops most of the original's code.
import type { CodeFacts } from '../context/syntax';
import { findRepetition, preview } from './repetition';

/** What the check needs of a parser (src/context/syntax.ts SyntaxService). */
export interface CodeReader {
  codeFacts(text: string, languageId: string): Promise<CodeFacts | undefined>;
}

/** Code repeats itself more than prose does: a loop is four copies in a row. */
const CODE_LOOP = { minRepeats: 4 };
/** Below this many distinct names, the original is too small to tell dropped code from simpler code. */
const MIN_NAMES = 4;
/** "Drops most": fewer than this share of the original's names, in less than this share of its size. */
const MIN_KEPT_SHARE = 0.5;

/** Why `proposed` must not be offered in place of `original` (a clause: "it does not parse as
 *  python"), or undefined when it may be. Without a reader (or a grammar), names are words. */
export async function refuseProposal(original: string, proposed: string, languageId: string, reader?: CodeReader): Promise<string | undefined> {
  const loop = findRepetition(proposed, CODE_LOOP);
  if (loop && !findRepetition(original, CODE_LOOP)) return `it repeats “${preview(loop.unit)}” ${loop.repeats} times`;

  const facts = reader && await parseAlike(original, proposed, languageId, reader);
  if (facts && facts.original.parses && !facts.proposed.parses) return `it does not parse as ${languageId}, though the original does`;

  const before = facts ? facts.original.identifiers : words(original);
  const after = facts ? facts.proposed.identifiers : words(proposed);
  // Comments and strings in place of code: nothing left to run, however small the original.
  if (facts && after.length === 0 && before.length > 0) return 'it has no code left, only comments or text';
  const names = new Set(before);
  if (names.size < MIN_NAMES) return undefined;
  const present = new Set(after);
  const kept = [...names].filter((name) => present.has(name)).length;
  if (kept < names.size * MIN_KEPT_SHARE && after.length < before.length * MIN_KEPT_SHARE) {
    return `it drops most of the original code (${kept} of its ${names.size} names are left${after.length === 0 ? ', and no code at all' : ''})`;
  }
  return undefined;
}

/** Both parsed the same way: the first way the original parses (as it is; its lines after the
 *  first dedented, for a method picked from inside a class; inside a class or impl block), else as
 *  they are. */
async function parseAlike(original: string, proposed: string, languageId: string, reader: CodeReader): Promise<{ original: CodeFacts; proposed: CodeFacts } | undefined> {
  let first: { original: CodeFacts; shape: (code: string) => string } | undefined;
  for (const shape of shapes(languageId)) {
    const facts = await reader.codeFacts(shape(original), languageId);
    if (!facts) return undefined;
    first ??= { original: facts, shape };
    if (facts.parses) return { original: facts, proposed: (await reader.codeFacts(shape(proposed), languageId))! };
  }
  const proposedFacts = await reader.codeFacts(first!.shape(proposed), languageId);
  return proposedFacts && { original: first!.original, proposed: proposedFacts };
}

/** Members parse only inside their class; the names added are the same for both texts. */
const WRAPS: Readonly<Record<string, readonly [string, string]>> = {
  typescript: ['class Flashcode__ {\n', '\n}'],
  typescriptreact: ['class Flashcode__ {\n', '\n}'],
  javascript: ['class Flashcode__ {\n', '\n}'],
  javascriptreact: ['class Flashcode__ {\n', '\n}'],
  java: ['class Flashcode__ {\n', '\n}'],
  rust: ['impl Flashcode__ {\n', '\n}'],
  cpp: ['struct Flashcode__ {\n', '\n};'],
  c: ['struct Flashcode__ {\n', '\n};'],
};

function shapes(languageId: string): Array<(code: string) => string> {
  const wrap = WRAPS[languageId];
  const forms = [dedent, hanging];
  return [...forms, ...(wrap ? forms.map((form) => (code: string) => wrap[0] + form(code) + wrap[1]) : [])];
}

function dedent(code: string): string {
  return shiftLines(code.split('\n'), 0).join('\n');
}

/** A target taken from its first character on (`def area(self):` without the method's indentation)
 *  keeps its body indented: the lines after the first are shifted to one column, under it. */
function hanging(code: string): string {
  const [head = '', ...rest] = code.split('\n');
  return [head, ...shiftLines(rest, 1)].join('\n');
}

/** Lines moved left or right together so the least indented non-blank one starts at `column`. */
function shiftLines(lines: string[], column: number): string[] {
  const indents = lines.filter((line) => line.trim() !== '').map((line) => /^[ \t]*/.exec(line)![0].length);
  if (indents.length === 0) return lines;
  const shift = column - Math.min(...indents);
  return lines.map((line) => (line.trim() === '' ? '' : shift >= 0 ? ' '.repeat(shift) + line : line.slice(-shift)));
}

function words(code: string): string[] {
  return code.match(/[\p{L}_$][\p{L}\p{N}_$]*/gu) ?? [];
}
