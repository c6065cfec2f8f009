// The file's own header for a prompt whose window starts below the top of the file: what a reader
// scrolled to the cursor has out of view. The signatures of the scopes around the cursor, and (when
// asked for: they do not help code-v1) the imports and the definitions above the window with their
// bodies left out, in file order, in the file's own text and indentation — so the prompt still
// reads like the start of a file:
//
//   import { Base } from './base';
//   function helper(a: number) {}
//   export class Queue extends Base {
//     push(item: T): void {}
//     drain(limit: number) {
//   …the window…
//
// It depends only on the text above the window and on which scopes the cursor is in, so it stays
// the same while the user types. Pure.

import type { Definition, Outline } from './outline';

interface Item {
  /** Document offset, for file order. */
  at: number;
  text: string;
  /** Lower goes first when the budget is short. */
  rank: number;
}

const RANK_ENCLOSING = 0;
const RANK_IMPORT = 1;
const RANK_DEFINITION = 2;

/** What a header shows. */
export interface HeaderParts {
  /** The signatures of the scopes around the cursor. */
  enclosing: boolean;
  imports: boolean;
  /** Definitions above the window, with empty bodies. */
  definitions: boolean;
}

/**
 * What code-v1 makes of it (held-out FIM tasks, mean edit similarity). A one-off experiment on the
 * 125 of 390 tasks whose window leaves something out of view: nothing 0.160, the enclosing
 * signatures alone 0.161, definitions alone 0.158, imports alone 0.147, all three 0.148 — a model
 * trained on contiguous chunks of files reads imports before mid-file code as a cue to write more
 * imports. Through `npm run eval -- --extra-context on` (enclosing signatures only) the 24
 * completions that change score 0.172 against 0.238 without (0.142 against 0.146 overall), so
 * flashcode.completion.extraContext is off by default.
 */
export const DEFAULT_HEADER_PARTS: HeaderParts = { enclosing: true, imports: false, definitions: false };

/** The header for a window starting at `windowStart` in `text`, at most `maxChars` long ('' when
 *  nothing is out of view or nothing fits). Scopes around the cursor come first, then imports, then
 *  the definitions nearest the window. */
export function fileHeader(text: string, outline: Outline, windowStart: number, maxChars: number, parts = DEFAULT_HEADER_PARTS): string {
  if (windowStart <= 0 || maxChars <= 0) return '';
  const items: Item[] = [];
  for (const scope of parts.enclosing ? outline.enclosing : []) {
    const signature = signatureOf(text, scope);
    if (signature.end <= windowStart) items.push({ at: scope.headerStart, text: signature.text, rank: RANK_ENCLOSING });
  }
  for (const span of parts.imports ? outline.imports : []) {
    if (span.end <= windowStart) items.push({ at: span.start, text: text.slice(lineStart(text, span.start), span.end), rank: RANK_IMPORT });
  }
  for (const definition of parts.definitions ? outline.definitions : []) {
    if (definition.end > windowStart || !inView(definition, outline)) continue;
    // Nearer the window, more likely to be used there.
    items.push({ at: definition.headerStart, text: collapsed(text, definition), rank: RANK_DEFINITION + (windowStart - definition.end) / (windowStart + 1) });
  }

  const kept: Item[] = [];
  let chars = 0;
  for (const item of items.sort((a, b) => a.rank - b.rank)) {
    if (chars + item.text.length + 1 > maxChars) continue;
    kept.push(item);
    chars += item.text.length + 1;
  }
  return kept.sort((a, b) => a.at - b.at).map((item) => `${item.text}\n`).join('');
}

/** The scope's lines up to its body: `class A extends B {`, `def f(x):`. */
function signatureOf(text: string, scope: Definition): { text: string; end: number } {
  if (text[scope.bodyStart] === '{') return { text: text.slice(scope.headerStart, scope.bodyStart + 1), end: scope.bodyStart + 1 };
  const signature = text.slice(scope.headerStart, scope.bodyStart).trimEnd();
  return { text: signature, end: scope.headerStart + signature.length };
}

/** A definition above the window as its signature with an empty body: `f(x) {}`, `def f(x): ...`. */
function collapsed(text: string, definition: Definition): string {
  const { text: signature } = signatureOf(text, definition);
  if (signature.endsWith('{')) return `${signature}}`;
  return signature.endsWith(':') ? `${signature} ...` : signature;
}

/** Top-level, or a member of a scope the cursor is in: a member of a class out of view would be
 *  shown outside its class. */
function inView(definition: Definition, outline: Outline): boolean {
  return outline.definitions.every((other) => other === definition || !contains(other, definition) || outline.enclosing.some((e) => same(e, other)));
}

function contains(outer: Definition, inner: Definition): boolean {
  return outer.start <= inner.start && inner.end <= outer.end;
}

function same(a: Definition, b: Definition): boolean {
  return a.start === b.start && a.end === b.end;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}
