// The one module that talks to web-tree-sitter: loads its runtime and the grammars from a
// directory (dist/syntaxes/ in the bundle) and answers "which function or class is this offset in"
// and, synchronously for completions, "which block is this offset in" and "what does this document
// import and define" (re-parsing only what changed since the document's last version).

import path from 'node:path';
import { Edit, Language, Parser, type Node, type Tree } from 'web-tree-sitter';
import { LANGUAGES, type LanguageSpec } from './languages';
import { textEdit } from './textEdit';

/** A scope in UTF-16 offsets of the parsed text (web-tree-sitter parses JS strings as UTF-16). */
export interface Scope {
  start: number;
  end: number;
  /** The tree-sitter node type, e.g. `function_declaration`. */
  kind: string;
}

/** A block in UTF-16 offsets of the parsed text: brackets with their contents, a body that ends at
 *  `end`, or an indented body (Python's `block`, which ends with its last statement). */
export interface Block {
  start: number;
  end: number;
  /** Where the first syntax error or missing token inside the block is; absent when it has none. */
  firstErrorAt?: number;
}

/** The longest a synchronous parse may block the caller's thread. */
export const DEFAULT_PARSE_BUDGET_MS = 10;

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

/** Documents whose last parse is kept for the next one to re-parse incrementally. */
const KEPT_DOCUMENT_TREES = 4;
/** How deep definitions nest in an outline: top level, members, members' members. */
const OUTLINE_DEPTH = 3;

export interface LoadOptions {
  runtimeDir?: string;
  /** Told when a grammar fails to load (its language then has no scopes). */
  log?: (message: string) => void;
}

/** web-tree-sitter's runtime is process-wide: the first directory given wins. */
let runtime: Promise<void> | undefined;

export class SyntaxService {
  /** One parser per language id, created on first use; a failed load is remembered as undefined. */
  private readonly parsers = new Map<string, Promise<Parser | undefined>>();
  /** The same parsers once settled, for synchronous callers. */
  private readonly ready = new Map<string, Parser | undefined>();
  /** Separate parsers for outlines: their parses carry over from one document version to the next. */
  private readonly outlineParsers = new Map<string, Parser>();
  private readonly documents = new DocumentTrees();

  private constructor(private readonly dir: string, private readonly log: (message: string) => void) {}

  /** `dir` holds the grammar files named in ./languages and, unless `runtimeDir` says otherwise,
   *  web-tree-sitter.wasm (tests point both into node_modules). */
  static async load(dir: string, { runtimeDir = dir, log = () => {} }: LoadOptions = {}): Promise<SyntaxService> {
    runtime ??= Parser.init({ locateFile: (name: string) => path.join(runtimeDir, name) });
    await runtime;
    return new SyntaxService(dir, log);
  }

  supports(languageId: string): boolean {
    return languageId in LANGUAGES;
  }

  /**
   * The innermost function, method or class containing `offset` (with its `export`, decorators or
   * `const f =`), or undefined: unknown language, a grammar that failed to load, a parse failure,
   * or an offset outside every scope. A cursor just after a scope's last character counts as in it.
   */
  async enclosingScope(text: string, offset: number, languageId: string): Promise<Scope | undefined> {
    const spec = LANGUAGES[languageId];
    const parser = spec && await this.parser(languageId, spec);
    if (!spec || !parser) return undefined;
    const tree = parser.parse(text);
    if (!tree) return undefined;
    try {
      const at = (o: number) => {
        const node = tree.rootNode.descendantForIndex(Math.max(0, Math.min(o, text.length)));
        return node ? scopeAround(node, spec) : undefined;
      };
      const node = at(offset) ?? (offset > 0 ? at(offset - 1) : undefined);
      return node && { start: node.startIndex, end: node.endIndex, kind: node.type };
    } finally {
      tree.delete();
    }
  }

  /**
   * The innermost block that starts at or before `offset` and ends after it (the whole text when no
   * block does), from a parse of `text` that takes at most `budgetMs`. Synchronous, and never
   * throws: undefined when the language has no grammar, its grammar is still loading (this starts
   * the load), or the parse fails or runs out of time.
   */
  blockAt(text: string, offset: number, languageId: string, budgetMs = DEFAULT_PARSE_BUDGET_MS): Block | undefined {
    const spec = LANGUAGES[languageId];
    if (!spec) return undefined;
    const parser = this.ready.get(languageId);
    if (!parser) {
      void this.parser(languageId, spec);
      return undefined;
    }
    const deadline = performance.now() + budgetMs;
    let tree: Tree | null = null;
    try {
      // The callback's true cancels the parse (web-tree-sitter types it as returning void).
      tree = parser.parse(text, null, { progressCallback: () => performance.now() > deadline });
      if (!tree) return undefined;
      const root = tree.rootNode;
      let node: Node | null = root.descendantForIndex(offset);
      while (node && !(isBlock(node, spec) && node.startIndex <= offset && offset < node.endIndex)) node = node.parent;
      if (!node || node.equals(root)) return { start: 0, end: text.length, firstErrorAt: firstErrorAt(root) };
      return { start: node.startIndex, end: node.endIndex, firstErrorAt: firstErrorAt(node) };
    } catch (error) {
      this.log(`tree-sitter failed to parse ${languageId}: ${String(error)}`);
      return undefined;
    } finally {
      if (tree) tree.delete();
      else parser.reset();
    }
  }

  /**
   * Imports, definitions and the scopes around `cursor` of `text`, the current version of the
   * document `key` (a file name). Parses incrementally from the version seen last when there is one
   * (a few ms), else in full; undefined when the parse takes longer than `budgetMs`, the language
   * has no grammar or it is still loading (this starts the load). Synchronous, never throws.
   */
  outline(key: string, text: string, cursor: number, languageId: string, budgetMs = DEFAULT_PARSE_BUDGET_MS): Outline | undefined {
    const spec = LANGUAGES[languageId];
    const parser = spec && this.outlineParser(languageId, spec);
    if (!spec || !parser) return undefined;
    try {
      const tree = this.documents.parse(key, languageId, text, parser, budgetMs);
      return tree && outlineOf(tree.rootNode, text, Math.min(Math.max(0, cursor), text.length), spec);
    } catch (error) {
      this.log(`tree-sitter failed to outline ${languageId}: ${String(error)}`);
      this.documents.forget(key);
      return undefined;
    }
  }

  /** Loads the grammar of `languageId` now, so that `blockAt` can answer; settles when it is loaded
   *  or has failed to. */
  async warm(languageId: string): Promise<void> {
    const spec = LANGUAGES[languageId];
    if (spec) await this.parser(languageId, spec);
  }

  dispose(): void {
    for (const parser of this.parsers.values()) void parser.then((p) => p?.delete());
    for (const parser of this.outlineParsers.values()) parser.delete();
    this.documents.clear();
    this.parsers.clear();
    this.ready.clear();
    this.outlineParsers.clear();
  }

  private outlineParser(languageId: string, spec: LanguageSpec): Parser | undefined {
    let parser = this.outlineParsers.get(languageId);
    const language = this.ready.get(languageId)?.language;
    if (!parser && language) {
      parser = new Parser().setLanguage(language);
      this.outlineParsers.set(languageId, parser);
    }
    if (!language) void this.parser(languageId, spec);
    return parser;
  }

  private parser(languageId: string, spec: LanguageSpec): Promise<Parser | undefined> {
    let parser = this.parsers.get(languageId);
    if (!parser) {
      parser = Language.load(path.join(this.dir, spec.grammar)).then(
        (language) => new Parser().setLanguage(language),
        (error: unknown) => {
          this.log(`tree-sitter grammar for ${languageId} failed to load (${spec.grammar}): ${String(error)}`);
          return undefined;
        },
      );
      const loading = parser;
      void loading.then((p) => {
        if (this.parsers.get(languageId) === loading) this.ready.set(languageId, p);
      });
      this.parsers.set(languageId, parser);
    }
    return parser;
  }
}

/** The last parse of a few documents, each with the text it parsed. */
class DocumentTrees {
  /** By key; Map order is use order, least recent first. */
  private readonly entries = new Map<string, { languageId: string; text: string; tree: Tree }>();

  parse(key: string, languageId: string, text: string, parser: Parser, budgetMs: number): Tree | undefined {
    const last = this.entries.get(key);
    this.entries.delete(key);
    let previous: Tree | null = null;
    if (last && last.languageId === languageId) {
      if (last.text === text) {
        this.entries.set(key, last);
        return last.tree;
      }
      last.tree.edit(new Edit(textEdit(last.text, text)));
      previous = last.tree;
    } else {
      last?.tree.delete();
    }
    const deadline = performance.now() + budgetMs;
    // The callback's true cancels the parse (web-tree-sitter types it as returning void).
    const tree = parser.parse(text, previous, { progressCallback: () => performance.now() > deadline });
    previous?.delete();
    if (!tree) {
      parser.reset();
      return undefined;
    }
    this.entries.set(key, { languageId, text, tree });
    for (const [oldKey, entry] of this.entries) {
      if (this.entries.size <= KEPT_DOCUMENT_TREES) break;
      entry.tree.delete();
      this.entries.delete(oldKey);
    }
    return tree;
  }

  forget(key: string): void {
    this.entries.get(key)?.tree.delete();
    this.entries.delete(key);
  }

  clear(): void {
    for (const entry of this.entries.values()) entry.tree.delete();
    this.entries.clear();
  }
}

function outlineOf(root: Node, text: string, cursor: number, spec: LanguageSpec): Outline {
  const imports = root.namedChildren
    .filter((node) => spec.imports.includes(node.type) || (spec.importText?.test(node.text) ?? false))
    .map((node) => ({ start: node.startIndex, end: node.endIndex }));
  const definitions: Definition[] = [];
  const collect = (container: Node, depth: number) => {
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
  let node: Node | null = root.descendantForIndex(Math.max(0, anchor - 1), anchor);
  while (node) {
    if (!spec.scopes.includes(node.type)) {
      node = node.parent;
      continue;
    }
    const outer: Node = scopeAround(node, spec) ?? node;
    if (node.startIndex < cursor && stillIn(text, outer, cursor)) enclosing.unshift(definition(text, outer, node));
    node = outer.parent;
  }
  return { imports, definitions, enclosing };
}

/** The scope a top-level (or member) statement defines: itself, or the one it wraps
 *  (`export class …`, `@decorator def …`, `const f = () => …`). */
function definedBy(node: Node, spec: LanguageSpec): Node | undefined {
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
function wrappedBy(scope: Node, outer: Node, spec: LanguageSpec): boolean {
  for (let node = scope; !node.equals(outer); ) {
    const up = node.parent;
    if (!up || !spec.wrappers.includes(up.type) || !wrapsOnly(up, node)) return false;
    node = up;
  }
  return true;
}

function definition(text: string, outer: Node, scope: Node): Definition {
  const body = scope.childForFieldName('body');
  const lineEnd = text.indexOf('\n', scope.startIndex);
  const bodyStart = body ? body.startIndex : lineEnd < 0 ? scope.endIndex : Math.min(lineEnd, scope.endIndex);
  return { start: outer.startIndex, headerStart: text.lastIndexOf('\n', scope.startIndex - 1) + 1, bodyStart, end: outer.endIndex };
}

/** Whether the cursor is in `scope`: before its end; or right after it, or on blank space after it
 *  indented deeper than its first line, unless it ends with `}` or `end` (typing after those starts
 *  new code; a scope that ends with its last statement, like Python's, is still being written). */
function stillIn(text: string, scope: Node, cursor: number): boolean {
  const end = scope.endIndex;
  if (cursor < end) return true;
  if (/(\}|\bend)$/.test(text.slice(Math.max(0, end - 4), end)) || text.slice(end, cursor).trim() !== '') return false;
  if (cursor === end) return true;
  const cursorLine = text.slice(text.lastIndexOf('\n', cursor - 1) + 1, cursor);
  const headerStart = text.lastIndexOf('\n', scope.startIndex - 1) + 1;
  return cursorLine.trim() === '' && cursorLine.length > /^[ \t]*/.exec(text.slice(headerStart))![0].length;
}

function scopeAround(node: Node, spec: LanguageSpec): Node | undefined {
  let scope: Node | null = node;
  while (scope && !spec.scopes.includes(scope.type)) scope = scope.parent;
  if (!scope) return undefined;
  for (let up = scope.parent; up && spec.wrappers.includes(up.type) && wrapsOnly(up, scope); up = up.parent) scope = up;
  return scope;
}

/** Whether `outer` is `inner` plus syntax around it: `export …`, `@decorator …`, `f = …`,
 *  `const f = …` with one declarator (`const a = 1, f = () => …` stays narrow). */
function wrapsOnly(outer: Node, inner: Node): boolean {
  if (outer.type === 'variable_declarator') return outer.childForFieldName('value')?.equals(inner) ?? false;
  const main = outer.namedChildren.filter((c) => c.type !== 'decorator' && c.type !== 'comment');
  return main.length === 1 && main[0]!.equals(inner);
}

const CLOSING: Readonly<Record<string, string>> = { '{': '}', '(': ')', '[': ']' };

/** Brackets around their contents, `… end` (Ruby), or a node type the language indents (Python). */
function isBlock(node: Node, spec: LanguageSpec): boolean {
  if (spec.blocks?.includes(node.type)) return true;
  if (node.childCount < 2) return false;
  const first = node.firstChild!.type;
  const last = node.lastChild!.type;
  return CLOSING[first] === last || last === 'end';
}

/** The start of the first ERROR or MISSING node in `node`, in text order. */
function firstErrorAt(node: Node): number | undefined {
  if (!node.hasError) return undefined;
  if (node.isError || node.isMissing) return node.startIndex;
  for (const child of node.children) {
    const at = firstErrorAt(child);
    if (at !== undefined) return at;
  }
  return node.startIndex;
}
