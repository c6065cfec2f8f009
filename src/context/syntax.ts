// The one module that talks to web-tree-sitter: loads its runtime and the grammars from a
// directory (dist/syntaxes/ in the bundle) and answers "which function or class is this offset in".

import path from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';
import { LANGUAGES, type LanguageSpec } from './languages';

/** A scope in UTF-16 offsets of the parsed text (web-tree-sitter parses JS strings as UTF-16). */
export interface Scope {
  start: number;
  end: number;
  /** The tree-sitter node type, e.g. `function_declaration`. */
  kind: string;
}

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

  dispose(): void {
    for (const parser of this.parsers.values()) void parser.then((p) => p?.delete());
    this.parsers.clear();
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
      this.parsers.set(languageId, parser);
    }
    return parser;
  }
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
