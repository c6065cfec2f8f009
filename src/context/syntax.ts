// The one module that talks to web-tree-sitter: loads its runtime and the grammars from a
// directory (dist/syntaxes/ in the bundle) and answers "which function or class is this offset in"
// and, synchronously for completions, "which block is this offset in" and "what does this document
// import and define" (re-parsing only what changed since the document's last version).

import path from 'node:path';
import { Edit, Language, Parser, type Node, type Tree } from 'web-tree-sitter';
import type { Block } from '../common/block';
import { LANGUAGES, type LanguageSpec } from './languages';
import { outlineOf, scopeAround, type Outline } from './outline';
import { textEdit } from './textEdit';

export type { Definition, Outline } from './outline';

/** A scope in UTF-16 offsets of the parsed text (web-tree-sitter parses JS strings as UTF-16). */
export interface Scope {
  start: number;
  end: number;
  /** The tree-sitter node type, e.g. `function_declaration`. */
  kind: string;
}

/** What a parse says about a piece of code (SyntaxService.codeFacts). */
export interface CodeFacts {
  /** No syntax error or missing token anywhere. */
  parses: boolean;
  /** Identifier leaves outside comments and strings, in text order, repeats included. */
  identifiers: string[];
}

/** The longest a synchronous parse may block the caller's thread. */
export const DEFAULT_PARSE_BUDGET_MS = 10;

/** Documents whose last parse is kept for the next one to re-parse incrementally. */
const KEPT_DOCUMENT_TREES = 4;

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
   * document `key` (a file name). Parses incrementally from the version seen last (a few ms). A first
   * parse that takes longer than `budgetMs` goes on where it stopped at the next call, so a large
   * file is parsed over several calls without blocking any of them for long. Undefined until then,
   * or when the language has no grammar or it is still loading (this starts the load). Synchronous,
   * never throws.
   */
  outline(key: string, text: string, cursor: number, languageId: string, budgetMs = DEFAULT_PARSE_BUDGET_MS): Outline | undefined {
    const spec = LANGUAGES[languageId];
    if (!spec) return undefined;
    const language = this.ready.get(languageId)?.language;
    if (!language) {
      void this.parser(languageId, spec);
      return undefined;
    }
    try {
      const tree = this.documents.parse(key, language, text, budgetMs);
      return tree && outlineOf(tree.rootNode, text, Math.min(Math.max(0, cursor), text.length), spec);
    } catch (error) {
      this.log(`tree-sitter failed to outline ${languageId}: ${String(error)}`);
      this.documents.forget(key);
      return undefined;
    }
  }

  /**
   * Whether `text` parses as `languageId` without a syntax error, and the identifiers in it, in
   * text order (comments and strings left out: prose there is not code). Undefined when the
   * language has no grammar or it failed to load. For judging a proposed rewrite of some code.
   */
  async codeFacts(text: string, languageId: string): Promise<CodeFacts | undefined> {
    const spec = LANGUAGES[languageId];
    const parser = spec && await this.parser(languageId, spec);
    if (!spec || !parser) return undefined;
    const tree = parser.parse(text);
    if (!tree) return undefined;
    const cursor = tree.walk();
    try {
      const identifiers: string[] = [];
      for (;;) {
        const type = cursor.nodeType;
        const prose = /comment|string/.test(type);
        if (/identifier/.test(type) && cursor.currentNode.childCount === 0) identifiers.push(cursor.nodeText);
        if (!prose && cursor.gotoFirstChild()) continue;
        while (!cursor.gotoNextSibling()) {
          if (!cursor.gotoParent()) return { parses: !tree.rootNode.hasError, identifiers };
        }
      }
    } finally {
      cursor.delete();
      tree.delete();
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
    this.documents.clear();
    this.parsers.clear();
    this.ready.clear();
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

/** The last parse of a few documents, each with its own parser: a first parse cut short by its
 *  budget resumes where it stopped (tree-sitter keeps a parser's state until it is reset). */
class DocumentTrees {
  /** By key; Map order is use order, least recent first. */
  private readonly entries = new Map<string, DocumentTree>();

  parse(key: string, language: Language, text: string, budgetMs: number): Tree | undefined {
    let entry = this.entries.get(key);
    this.entries.delete(key);
    if (entry && entry.parser.language !== language) {
      dispose(entry);
      entry = undefined;
    }
    entry ??= { text, parser: new Parser().setLanguage(language), tree: undefined, stale: false };
    this.keep(key, entry);
    const deadline = performance.now() + budgetMs;
    // The callback's true cancels the parse (web-tree-sitter types it as returning void).
    const inTime = { progressCallback: () => performance.now() > deadline };
    if (!entry.tree) {
      // The first parse, of the text it started on.
      entry.tree = entry.parser.parse(entry.text, null, inTime) ?? undefined;
      if (!entry.tree) return undefined;
    }
    if (entry.text !== text) {
      entry.tree.edit(new Edit(textEdit(entry.text, text)));
      entry.text = text;
      entry.stale = true;
    }
    if (entry.stale) {
      const tree = entry.parser.parse(text, entry.tree, inTime);
      if (!tree) {
        entry.parser.reset(); // the edited tree stays, for the next call to start from
        return undefined;
      }
      entry.tree.delete();
      entry.tree = tree;
      entry.stale = false;
    }
    return entry.tree;
  }

  forget(key: string): void {
    const entry = this.entries.get(key);
    if (entry) dispose(entry);
    this.entries.delete(key);
  }

  clear(): void {
    for (const entry of this.entries.values()) dispose(entry);
    this.entries.clear();
  }

  private keep(key: string, entry: DocumentTree): void {
    this.entries.set(key, entry);
    for (const [oldKey, old] of this.entries) {
      if (this.entries.size <= KEPT_DOCUMENT_TREES) break;
      dispose(old);
      this.entries.delete(oldKey);
    }
  }
}

interface DocumentTree {
  /** What `tree` is of (edited to, when `stale`), or what its first parse is under way on. */
  text: string;
  parser: Parser;
  /** Undefined until the first parse is complete. */
  tree: Tree | undefined;
  /** Edited to `text` but not re-parsed yet. */
  stale: boolean;
}

function dispose(entry: DocumentTree): void {
  entry.tree?.delete();
  entry.parser.delete();
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
