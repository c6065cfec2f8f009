// Which tree-sitter grammar parses a VS Code language id, which node types count as a scope
// (a function, method or class that Explain / Refactor can take as its target), and which are
// indented blocks (completions stop where the block they are in ends). Data only.

export interface LanguageSpec {
  /** Grammar file name in the syntaxes directory (from @vscode/tree-sitter-wasm). */
  grammar: string;
  /** Node types that are a scope, innermost wins. */
  scopes: readonly string[];
  /** Parents that belong to the scope they wrap: `export`, decorators, `const f = () => …`. */
  wrappers: readonly string[];
  /** Blocks without brackets or `end` (an indented body), for syntax-aware truncation. */
  blocks?: readonly string[];
}

const JS_SCOPES = [
  'function_declaration', 'generator_function_declaration', 'function_expression', 'function',
  'generator_function', 'arrow_function', 'method_definition', 'class_declaration',
  'abstract_class_declaration', 'class',
];
// Only wrappers whose whole text is the wrapped scope plus a little syntax around it.
const JS_WRAPPERS = ['export_statement', 'variable_declarator', 'lexical_declaration', 'variable_declaration'];

const C_SCOPES = ['function_definition', 'class_specifier', 'struct_specifier', 'lambda_expression'];

export const LANGUAGES: Readonly<Record<string, LanguageSpec>> = {
  typescript: { grammar: 'tree-sitter-typescript.wasm', scopes: JS_SCOPES, wrappers: JS_WRAPPERS },
  typescriptreact: { grammar: 'tree-sitter-tsx.wasm', scopes: JS_SCOPES, wrappers: JS_WRAPPERS },
  javascript: { grammar: 'tree-sitter-javascript.wasm', scopes: JS_SCOPES, wrappers: JS_WRAPPERS },
  javascriptreact: { grammar: 'tree-sitter-javascript.wasm', scopes: JS_SCOPES, wrappers: JS_WRAPPERS },
  python: { grammar: 'tree-sitter-python.wasm', scopes: ['function_definition', 'class_definition', 'lambda'], wrappers: ['decorated_definition'], blocks: ['block'] },
  go: { grammar: 'tree-sitter-go.wasm', scopes: ['function_declaration', 'method_declaration', 'func_literal', 'type_declaration'], wrappers: [] },
  rust: { grammar: 'tree-sitter-rust.wasm', scopes: ['function_item', 'impl_item', 'trait_item', 'struct_item', 'enum_item', 'closure_expression'], wrappers: [] },
  java: {
    grammar: 'tree-sitter-java.wasm',
    scopes: ['method_declaration', 'constructor_declaration', 'class_declaration', 'interface_declaration', 'enum_declaration', 'record_declaration', 'lambda_expression'],
    wrappers: [],
  },
  // The C++ grammar parses C well enough to find functions and structs (there is no C grammar in the set).
  c: { grammar: 'tree-sitter-cpp.wasm', scopes: C_SCOPES, wrappers: [] },
  cpp: { grammar: 'tree-sitter-cpp.wasm', scopes: C_SCOPES, wrappers: [] },
  ruby: { grammar: 'tree-sitter-ruby.wasm', scopes: ['method', 'singleton_method', 'class', 'module'], wrappers: [] },
};

/** Every grammar file the table names (the build copies these). */
export const GRAMMAR_FILES: readonly string[] = [...new Set(Object.values(LANGUAGES).map((l) => l.grammar))].sort();
