import assert from 'node:assert/strict';
import { isMultiLine } from '../../../src/completion/lineMode';

const CURSOR = '█';

interface Case {
  name: string;
  /** The document with █ at the cursor. */
  doc: string;
  /** What `auto` decides. */
  lines: 'single' | 'multi';
}

const CASES: Case[] = [
  // Mid-line: the rest of the line only.
  { name: 'ts: mid-line, nothing after the cursor', doc: 'const total = █\n', lines: 'single' },
  { name: 'ts: mid-line, closers after the cursor', doc: 'console.log(█);\n', lines: 'single' },
  { name: 'ts: mid-line, code after the cursor', doc: 'const x = █ + offset;\n', lines: 'single' },
  { name: 'ts: before code on the line', doc: 'function f() {\n  █return 1;\n}\n', lines: 'single' },
  { name: 'ts: a call opened at the end of a line', doc: 'function f() {\n  console.log(█\n}\n', lines: 'single' },
  { name: 'ts: a `key:` being typed is not a body', doc: 'const o = {\n  key:█\n};\n', lines: 'single' },
  { name: 'py: mid-line in a call', doc: 'total = sum(█)\n', lines: 'single' },
  { name: 'py: after an assignment', doc: 'def f(x):\n    y = █\n', lines: 'single' },

  // Start of an empty block: a body.
  { name: 'ts: blank line in an empty function body', doc: 'function add(a: number, b: number) {\n  █\n}\n', lines: 'multi' },
  { name: 'ts: end of the line that opens an empty body', doc: 'function add(a: number, b: number) {█\n}\n', lines: 'multi' },
  { name: 'ts: between auto-closed braces', doc: 'if (ready) {█}\n', lines: 'multi' },
  { name: 'ts: an opener with a comment after it', doc: 'class Queue { // FIFO\n  █\n}\n', lines: 'multi' },
  { name: 'ts: end of the document after an opener', doc: 'export class Queue {\n  █', lines: 'multi' },
  { name: 'tsx: empty arrow body in a call', doc: 'items.forEach((item) => {\n  █\n});\n', lines: 'multi' },
  { name: 'js: empty object literal', doc: 'const config = {\n  █\n};\n', lines: 'multi' },
  { name: 'js: empty argument list over lines', doc: 'run(\n  █\n);\n', lines: 'multi' },
  { name: 'js: a case label', doc: 'switch (x) {\n  case 1:\n    █\n  default:\n    break;\n}\n', lines: 'multi' },
  { name: 'py: blank line in an empty function', doc: 'def mean(xs):\n    █\n\ndef median(xs):\n    pass\n', lines: 'multi' },
  { name: 'py: end of a def line', doc: 'def mean(xs):█\n', lines: 'multi' },
  { name: 'py: empty else', doc: 'if x:\n    y = 1\nelse:\n    █\nprint(y)\n', lines: 'multi' },
  { name: 'py: blank line with a dedent after a def with a comment', doc: 'class A:\n    def f(self):  # todo\n        █\n    def g(self):\n        pass\n', lines: 'multi' },
  { name: 'go: empty function body', doc: 'func add(a, b int) int {\n\t█\n}\n', lines: 'multi' },
  { name: 'ruby: empty method', doc: 'def area(r)\n  █\nend\n', lines: 'multi' },
  { name: 'ruby: empty do block', doc: 'items.each do |item|\n  █\nend\n', lines: 'multi' },
  { name: 'lua: empty function', doc: 'local function area(r)\n  █\nend\n', lines: 'multi' },

  // A block that already has a body, and blank lines elsewhere: one line.
  { name: 'ts: blank line at the top of a body that has statements', doc: 'function f() {\n  █\n  return 1;\n}\n', lines: 'single' },
  { name: 'ts: blank line between statements', doc: 'function f() {\n  const a = 1;\n  █\n  return a;\n}\n', lines: 'single' },
  { name: 'ts: blank line at the top level', doc: 'import x from "x";\n\n█\n', lines: 'single' },
  { name: 'ts: after a one-line function', doc: 'function f() { return 1; }\n█\n', lines: 'single' },
  { name: 'py: blank line after a statement', doc: 'def f(x):\n    y = x + 1\n    █\n', lines: 'single' },
  { name: 'py: body already written below', doc: 'def f(x):\n    █\n    return x\n', lines: 'single' },
  { name: 'ruby: method with a body', doc: 'def area(r)\n  █\n  Math::PI * r * r\nend\n', lines: 'single' },
  { name: 'empty document', doc: '█', lines: 'single' },
];

function contextOf(doc: string) {
  const at = doc.indexOf(CURSOR);
  assert.ok(at >= 0 && doc.indexOf(CURSOR, at + 1) < 0, `exactly one ${CURSOR} in ${JSON.stringify(doc)}`);
  return { prefix: doc.slice(0, at), suffix: doc.slice(at + CURSOR.length) };
}

describe('line mode', () => {
  describe('auto: multi-line only at the start of an empty block', () => {
    for (const c of CASES) {
      it(`${c.name} → ${c.lines}`, () => {
        assert.equal(isMultiLine(contextOf(c.doc), 'auto'), c.lines === 'multi');
      });
    }
  });

  it('singleLine and multiLine decide alone', () => {
    for (const c of CASES) {
      assert.equal(isMultiLine(contextOf(c.doc), 'singleLine'), false, c.name);
      assert.equal(isMultiLine(contextOf(c.doc), 'multiLine'), true, c.name);
    }
  });
});
