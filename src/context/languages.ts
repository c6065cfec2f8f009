// Which tree-sitter grammar parses a VS Code language id, which node types count as a scope
// (a function, method or class that Explain / Refactor can take as its target), and which are
// indented blocks (completions stop where the block they are in ends), and which top-level
// statements are the file's imports (completions see them when they are out of view). Data only.

export interface LanguageSpec {
  /** Grammar file name in the syntaxes directory (from @vscode/tree-sitter-wasm). */
  grammar: string;
  /** Node types that are a scope, innermost wins. */
  scopes: readonly string[];
  /** Parents that belong to the scope they wrap: `export`, decorators, `const f = () => …`. */
  wrappers: readonly string[];
  /** Blocks without brackets or `end` (an indented body), for syntax-aware truncation. */
  blocks?: readonly string[];
  /** Top-level statements that import: their node types… */
  imports: readonly string[];
  /** …or any top-level statement whose text starts like this (`require` calls). */
  importText?: RegExp;
}

const JS_SCOPES = [
  'function_declaration', 'generator_function_declaration', 'function_expression', 'function',
  'generator_function', 'arrow_function', 'method_definition', 'class_declaration',
  'abstract_class_declaration', 'class',
];
// Only wrappers whose whole text is the wrapped scope plus a little syntax around it.
const JS_WRAPPERS = ['export_statement', 'variable_declarator', 'lexical_declaration', 'variable_declaration'];

const C_SCOPES = ['function_definition', 'class_specifier', 'struct_specifier', 'lambda_expression'];

const JS_IMPORTS = { imports: ['import_statement'], importText: /^(const|let|var)\s[^=]*=\s*require\(/ };

export const LANGUAGES: Readonly<Record<string, LanguageSpec>> = {
  typescript: { grammar: 'tree-sitter-typescript.wasm', scopes: JS_SCOPES, wrappers: JS_WRAPPERS, ...JS_IMPORTS },
  typescriptreact: { grammar: 'tree-sitter-tsx.wasm', scopes: JS_SCOPES, wrappers: JS_WRAPPERS, ...JS_IMPORTS },
  javascript: { grammar: 'tree-sitter-javascript.wasm', scopes: JS_SCOPES, wrappers: JS_WRAPPERS, ...JS_IMPORTS },
  javascriptreact: { grammar: 'tree-sitter-javascript.wasm', scopes: JS_SCOPES, wrappers: JS_WRAPPERS, ...JS_IMPORTS },
  python: {
    grammar: 'tree-sitter-python.wasm', scopes: ['function_definition', 'class_definition', 'lambda'], wrappers: ['decorated_definition'], blocks: ['block'],
    imports: ['import_statement', 'import_from_statement', 'future_import_statement'],
  },
  go: {
    grammar: 'tree-sitter-go.wasm', scopes: ['function_declaration', 'method_declaration', 'func_literal', 'type_declaration'], wrappers: [],
    imports: ['package_clause', 'import_declaration'],
  },
  rust: {
    grammar: 'tree-sitter-rust.wasm', scopes: ['function_item', 'impl_item', 'trait_item', 'struct_item', 'enum_item', 'closure_expression'], wrappers: [],
    imports: ['use_declaration', 'extern_crate_declaration'],
  },
  java: {
    grammar: 'tree-sitter-java.wasm',
    scopes: ['method_declaration', 'constructor_declaration', 'class_declaration', 'interface_declaration', 'enum_declaration', 'record_declaration', 'lambda_expression'],
    wrappers: [],
    imports: ['package_declaration', 'import_declaration'],
  },
  // The C++ grammar parses C well enough to find functions and structs (there is no C grammar in the set).
  c: { grammar: 'tree-sitter-cpp.wasm', scopes: C_SCOPES, wrappers: [], imports: ['preproc_include'] },
  cpp: { grammar: 'tree-sitter-cpp.wasm', scopes: C_SCOPES, wrappers: [], imports: ['preproc_include', 'using_declaration'] },
  ruby: { grammar: 'tree-sitter-ruby.wasm', scopes: ['method', 'singleton_method', 'class', 'module'], wrappers: [], imports: [], importText: /^require(_relative)?\b/ },
};

/** Every grammar file the table names (the build copies these). */
export const GRAMMAR_FILES: readonly string[] = [...new Set(Object.values(LANGUAGES).map((l) => l.grammar))].sort();
