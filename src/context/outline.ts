// The outline of a parsed document: its imports, its definitions, and the scopes around a cursor.
// Walks a tree that src/context/syntax.ts parsed, through the few members of a tree-sitter node it
// needs (so that module stays the only one that imports web-tree-sitter). Offsets in UTF-16 units.

import type { LanguageSpec } from './languages';

/** What the walk reads of a web-tree-sitter Node. */
export interface SyntaxNode {
  readonly type: string;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly text: string;
  readonly parent: SyntaxNode | null;
  readonly namedChildren: SyntaxNode[];
  childForFieldName(name: string): SyntaxNode | null;
  descendantForIndex(start: number, end?: number): SyntaxNode | null;
  equals(other: SyntaxNode): boolean;
}

/** A function, method or class: from its start (with `export`, decorators or `const f =`) to its
 *  end, and where its own line starts and its body begins (the body's `{`, or the first statement
 *  of an indented body; the end of the line when it has no body). UTF-16 offsets. */
export interface Definition {
  start: number;
  /** Start of the line with the definition's keyword or name (after any decorators). */
  headerStart: number;
  bodyStart: number;
  end: number;
}

/** What a completion may want to know about a document outside the text around the cursor. */
export interface Outline {
  /** Top-level import statements (and Go's package clause, C's includes), in document order. */
  imports: Array<{ start: number; end: number }>;
  /** Definitions at the top level and in the bodies of those (methods), in document order. */
  definitions: Definition[];
  /** The scopes containing the cursor, outermost first (callbacks included). */
  enclosing: Definition[];
}

/** How deep definitions nest in an outline: top level, members, members' members. */
const OUTLINE_DEPTH = 3;

export function outlineOf(root: SyntaxNode, text: string, cursor: number, spec: LanguageSpec): Outline {
  const imports = root.namedChildren
    .filter((node) => spec.imports.includes(node.type) || (spec.importText?.test(node.text) ?? false))
    .map((node) => ({ start: node.startIndex, end: node.endIndex }));
  const definitions: Definition[] = [];
  const collect = (container: SyntaxNode, depth: number) => {
    for (const child of container.namedChildren) {
      const inner = definedBy(child, spec);
      if (!inner) continue;
      definitions.push(definition(text, child, inner));
      const body = inner.childForFieldName('body');
      if (body && depth + 1 < OUTLINE_DEPTH) collect(body, depth + 1);
    }
  };
  collect(root, 0);
  const enclosing: Definition[] = [];
  // From the last character with code before the cursor: a cursor on a blank line after a
  // function's last statement is still in the function when it is indented deeper (Python).
  const anchor = text.slice(0, cursor).trimEnd().length;
  let node: SyntaxNode | null = root.descendantForIndex(Math.max(0, anchor - 1), anchor);
  while (node) {
    if (!spec.scopes.includes(node.type)) {
      node = node.parent;
      continue;
    }
    const outer: SyntaxNode = scopeAround(node, spec) ?? node;
    if (node.startIndex < cursor && stillIn(text, outer, cursor)) enclosing.unshift(definition(text, outer, node));
    node = outer.parent;
  }
  return { imports, definitions, enclosing };
}

/** The scope a top-level (or member) statement defines: itself, or the one it wraps
 *  (`export class …`, `@decorator def …`, `const f = () => …`). */
function definedBy(node: SyntaxNode, spec: LanguageSpec): SyntaxNode | undefined {
  if (spec.scopes.includes(node.type)) return node;
  if (!spec.wrappers.includes(node.type)) return undefined;
  for (const child of node.namedChildren) {
    const inner = child.type === 'variable_declarator' ? child.childForFieldName('value') : child;
    const scope = inner && definedBy(inner, spec);
    if (scope && wrappedBy(scope, node, spec)) return scope;
  }
  return undefined;
}

/** Whether every node from `scope` up to `outer` only wraps the one below it. */
function wrappedBy(scope: SyntaxNode, outer: SyntaxNode, spec: LanguageSpec): boolean {
  for (let node = scope; !node.equals(outer); ) {
    const up = node.parent;
    if (!up || !spec.wrappers.includes(up.type) || !wrapsOnly(up, node)) return false;
    node = up;
  }
  return true;
}

function definition(text: string, outer: SyntaxNode, scope: SyntaxNode): Definition {
  const body = scope.childForFieldName('body');
  const lineEnd = text.indexOf('\n', scope.startIndex);
  const bodyStart = body ? body.startIndex : lineEnd < 0 ? scope.endIndex : Math.min(lineEnd, scope.endIndex);
  return { start: outer.startIndex, headerStart: text.lastIndexOf('\n', scope.startIndex - 1) + 1, bodyStart, end: outer.endIndex };
}

/** Whether the cursor is in `scope`: before its end; or right after it, or on blank space after it
 *  indented deeper than its first line, unless it ends with `}` or `end` (typing after those starts
 *  new code; a scope that ends with its last statement, like Python's, is still being written). */
function stillIn(text: string, scope: SyntaxNode, cursor: number): boolean {
  const end = scope.endIndex;
  if (cursor < end) return true;
  if (/(\}|\bend)$/.test(text.slice(Math.max(0, end - 4), end)) || text.slice(end, cursor).trim() !== '') return false;
  if (cursor === end) return true;
  const cursorLine = text.slice(text.lastIndexOf('\n', cursor - 1) + 1, cursor);
  const headerStart = text.lastIndexOf('\n', scope.startIndex - 1) + 1;
  return cursorLine.trim() === '' && cursorLine.length > /^[ \t]*/.exec(text.slice(headerStart))![0].length;
}

export function scopeAround(node: SyntaxNode, spec: LanguageSpec): SyntaxNode | undefined {
  let scope: SyntaxNode | null = node;
  while (scope && !spec.scopes.includes(scope.type)) scope = scope.parent;
  if (!scope) return undefined;
  for (let up = scope.parent; up && spec.wrappers.includes(up.type) && wrapsOnly(up, scope); up = up.parent) scope = up;
  return scope;
}

/** Whether `outer` is `inner` plus syntax around it: `export …`, `@decorator …`, `f = …`,
 *  `const f = …` with one declarator (`const a = 1, f = () => …` stays narrow). */
function wrapsOnly(outer: SyntaxNode, inner: SyntaxNode): boolean {
  if (outer.type === 'variable_declarator') return outer.childForFieldName('value')?.equals(inner) ?? false;
  const main = outer.namedChildren.filter((c) => c.type !== 'decorator' && c.type !== 'comment');
  return main.length === 1 && main[0]!.equals(inner);
}
