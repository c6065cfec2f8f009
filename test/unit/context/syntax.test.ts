import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { GRAMMAR_FILES } from '../../../src/context/languages';
import { SyntaxService } from '../../../src/context/syntax';
import { repoRoot } from '../../helpers/fixture';

const GRAMMARS = path.join(repoRoot, 'node_modules/@vscode/tree-sitter-wasm/wasm');
const RUNTIME = path.join(repoRoot, 'node_modules/web-tree-sitter');
const CURSOR = '❚';

interface Case {
  name: string;
  languageId: string;
  /** Source with ❚ at the cursor. */
  source: string;
  /** The scope's exact text, or undefined for none. */
  scope: string | undefined;
  kind?: string;
}

const TS_CLASS = 'class Shape {\n  area(): number {\n    return 0;\n  }\n}';
const PY_FN = 'def mean(xs):\n    total = sum(xs)\n\n    return total / len(xs)';

const CASES: Case[] = [
  { name: 'ts: inside a function body', languageId: 'typescript', source: 'const a = 1;\nfunction add(x: number, y: number) {\n  return x ❚+ y;\n}\n', scope: 'function add(x: number, y: number) {\n  return x + y;\n}', kind: 'function_declaration' },
  { name: 'ts: method inside a class is the innermost', languageId: 'typescript', source: TS_CLASS.replace('return 0', 'return ❚0'), scope: '  area(): number {\n    return 0;\n  }'.trimStart(), kind: 'method_definition' },
  { name: 'ts: class body outside methods is the class', languageId: 'typescript', source: TS_CLASS.replace('{\n  area', '{\n❚\n  area'), scope: TS_CLASS.replace('{\n  area', '{\n\n  area'), kind: 'class_declaration' },
  { name: 'ts: blank line inside a function', languageId: 'typescript', source: 'function f() {\n  const a = 1;\n❚\n  return a;\n}\n', scope: 'function f() {\n  const a = 1;\n\n  return a;\n}' },
  { name: 'ts: exported arrow function widens to its declaration', languageId: 'typescript', source: 'export const twice = (n: number) => {\n  return n *❚ 2;\n};\n', scope: 'export const twice = (n: number) => {\n  return n * 2;\n};', kind: 'export_statement' },
  { name: 'ts: arrow passed as an argument stays the arrow', languageId: 'typescript', source: 'items.map((x) => x❚ + 1);\n', scope: '(x) => x + 1', kind: 'arrow_function' },
  { name: 'ts: two declarators keep the arrow alone', languageId: 'typescript', source: 'const a = 1, f = () => ❚a;\n', scope: 'f = () => a', kind: 'variable_declarator' },
  { name: 'ts: cursor just after the closing brace', languageId: 'typescript', source: 'function f() {\n  return 1;\n}❚\n', scope: 'function f() {\n  return 1;\n}' },
  { name: 'ts: top-level statement has no scope', languageId: 'typescript', source: 'const a = 1;\nconsole.log(❚a);\n', scope: undefined },
  { name: 'ts: empty text', languageId: 'typescript', source: '❚', scope: undefined },
  { name: 'ts: non-ASCII before the scope (UTF-16 offsets)', languageId: 'typescript', source: "const s = 'é😀';\nfunction g() { return ❚s; }\n", scope: 'function g() { return s; }' },
  { name: 'tsx: component', languageId: 'typescriptreact', source: 'function App() {\n  return <div>❚hi</div>;\n}\n', scope: 'function App() {\n  return <div>hi</div>;\n}' },
  { name: 'py: inside a function', languageId: 'python', source: PY_FN.replace('sum(xs)', 'sum(❚xs)'), scope: PY_FN, kind: 'function_definition' },
  { name: 'py: blank line inside a function', languageId: 'python', source: PY_FN.replace('\n\n', '\n❚\n'), scope: PY_FN },
  { name: 'py: decorated method inside a class', languageId: 'python', source: 'class A:\n    @staticmethod\n    def m():\n        return ❚1\n', scope: '@staticmethod\n    def m():\n        return 1', kind: 'decorated_definition' },
  { name: 'py: module level has no scope', languageId: 'python', source: 'import os\nprint(❚os)\n', scope: undefined },
  { name: 'go: method', languageId: 'go', source: 'package m\n\nfunc (s *S) Len() int {\n\treturn ❚len(s.x)\n}\n', scope: 'func (s *S) Len() int {\n\treturn len(s.x)\n}' },
  { name: 'rust: fn in impl', languageId: 'rust', source: 'impl S {\n    fn m(&self) -> i32 { ❚1 }\n}\n', scope: 'fn m(&self) -> i32 { 1 }' },
  { name: 'unknown language', languageId: 'plaintext', source: 'function f() { ❚ }', scope: undefined },
];

describe('syntax: enclosing scope (tree-sitter)', () => {
  let syntax: SyntaxService;
  before(async () => {
    syntax = await SyntaxService.load(GRAMMARS, { runtimeDir: RUNTIME });
  });
  after(() => syntax.dispose());

  for (const c of CASES) {
    it(c.name, async () => {
      const offset = c.source.indexOf(CURSOR);
      assert.ok(offset >= 0, 'the case has a cursor');
      const text = c.source.replace(CURSOR, '');
      const scope = await syntax.enclosingScope(text, offset, c.languageId);
      assert.equal(scope && text.slice(scope.start, scope.end), c.scope);
      if (c.kind) assert.equal(scope?.kind, c.kind);
    });
  }

  it('a missing grammar file gives no scope and says why', async () => {
    const messages: string[] = [];
    const broken = await SyntaxService.load(path.join(repoRoot, 'no-such-dir'), { runtimeDir: RUNTIME, log: (m) => messages.push(m) });
    assert.equal(await broken.enclosingScope('def f():\n    pass\n', 12, 'python'), undefined);
    assert.match(messages.join('\n'), /grammar for python failed to load/);
    broken.dispose();
  });
});

describe('syntax: block at an offset (synchronous)', () => {
  let syntax: SyntaxService;
  before(async () => {
    syntax = await SyntaxService.load(GRAMMARS, { runtimeDir: RUNTIME });
    for (const languageId of ['typescript', 'python', 'ruby', 'go']) await syntax.warm(languageId);
  });
  after(() => syntax.dispose());

  /** Source with ❚ at the offset asked about; the block's text, or 'whole text'; the error offset. */
  const table: [string, string, string, string, number?][] = [
    ['ts: a function body', 'typescript', 'function f() {\n  ❚return 1;\n}\n', '{\n  return 1;\n}'],
    ['ts: innermost is the call\'s arguments', 'typescript', 'f(a, ❚b);\n', '(a, b)'],
    ['ts: a block that starts at the offset', 'typescript', 'function f() ❚{ return 1; }\n', '{ return 1; }'],
    ['ts: top level is the whole text', 'typescript', 'const a = 1;\n❚a;\n', 'whole text'],
    ['ts: a missing } is an error at the end', 'typescript', 'function f() {\n  ❚return 1;\n', '{\n  return 1;', 26],
    ['py: an indented body, up to its last statement', 'python', 'def f():\n    ❚a = 1\n    return a\n\nprint(1)\n', 'a = 1\n    return a'],
    ['ruby: a method up to its end', 'ruby', 'def f\n  ❚1\nend\n', 'def f\n  1\nend'],
    ['go: a function body', 'go', 'package m\n\nfunc f() int {\n\t❚return 1\n}\n', '{\n\treturn 1\n}'],
  ];
  for (const [name, languageId, marked, want, errorAt] of table) {
    it(name, () => {
      const offset = marked.indexOf(CURSOR);
      const text = marked.replace(CURSOR, '');
      const block = syntax.blockAt(text, offset, languageId, 1_000);
      assert.ok(block);
      assert.equal(block.start === 0 && block.end === text.length ? 'whole text' : text.slice(block.start, block.end), want);
      assert.equal(block.firstErrorAt, errorAt);
    });
  }

  it('has no answer for a language without a grammar', () => {
    assert.equal(syntax.blockAt('x = 1', 0, 'plaintext'), undefined);
  });

  it('has no answer until the grammar has loaded, and starts loading it', async () => {
    const fresh = await SyntaxService.load(GRAMMARS, { runtimeDir: RUNTIME });
    assert.equal(fresh.blockAt('fn main() {}', 11, 'rust'), undefined);
    await fresh.warm('rust');
    assert.deepEqual(fresh.blockAt('fn main() {}', 11, 'rust', 1_000), { start: 10, end: 12, firstErrorAt: undefined });
    fresh.dispose();
  });

  it('gives up on a parse out of time, and the next parse starts afresh', () => {
    const big = 'function f() {\n  return [1, 2, 3].map((n) => n * 2);\n}\n'.repeat(200);
    assert.equal(syntax.blockAt(big, 20, 'typescript', 0), undefined);
    assert.deepEqual(syntax.blockAt('f(a);', 2, 'typescript', 1_000), { start: 1, end: 4, firstErrorAt: undefined });
  });
});

describe('syntax: grammar files', () => {
  it('the build copies exactly the grammars the language table names', () => {
    const build = fs.readFileSync(path.join(repoRoot, 'scripts/build.mjs'), 'utf8');
    const copied = [...new Set(build.match(/tree-sitter-[a-z-]+\.wasm/g))].sort();
    assert.deepEqual(copied, [...GRAMMAR_FILES].sort());
    for (const f of GRAMMAR_FILES) assert.ok(fs.existsSync(path.join(GRAMMARS, f)), `${f} is in @vscode/tree-sitter-wasm`);
  });
});
