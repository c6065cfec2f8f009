import assert from 'node:assert/strict';
import path from 'node:path';
import { SyntaxService, type Definition, type Outline } from '../../../src/context/syntax';
import { textEdit } from '../../../src/context/textEdit';
import { repoRoot } from '../../helpers/fixture';

const GRAMMARS = path.join(repoRoot, 'node_modules/@vscode/tree-sitter-wasm/wasm');
const RUNTIME = path.join(repoRoot, 'node_modules/web-tree-sitter');
const CURSOR = '❚';
/** Generous: a loaded test machine must not turn a parse into a timeout. */
const BUDGET_MS = 1_000;

const TS = `import { a } from './a';
import b from "b";
const fs = require('fs');

export class Queue<T> extends Base {
  private items: T[] = [];

  push(item: T): void {
    this.items.push(item);
  }

  async drain(limit: number,
      opts?: Opts): Promise<T[]> {
    return this.items.map((x) => {
      return ❚x;
    });
  }
}

export const twice = (n: number) => n * 2;
function helper() {}
`;

const PY = `import os
from x import (a,
    b)

class Store(Base):
    def get(self, key):
        return self.d[key]

    @cached
    def put(self, key, value=None):
        if key:
            self.d[key] = value❚
`;

/** The outline as text: what each range covers. */
function described(text: string, outline: Outline) {
  const header = (d: Definition) => text.slice(d.headerStart, d.bodyStart).trimEnd();
  return {
    imports: outline.imports.map((i) => text.slice(i.start, i.end)),
    definitions: outline.definitions.map(header),
    enclosing: outline.enclosing.map(header),
  };
}

function split(doc: string) {
  const cursor = doc.indexOf(CURSOR);
  return { text: doc.replace(CURSOR, ''), cursor };
}

describe('syntax: document outline', () => {
  let syntax: SyntaxService;
  before(async () => {
    syntax = await SyntaxService.load(GRAMMARS, { runtimeDir: RUNTIME });
    for (const id of ['typescript', 'python']) await syntax.warm(id);
  });
  after(() => syntax.dispose());

  it('ts: imports, definitions with members, and the scopes around the cursor', () => {
    const { text, cursor } = split(TS);
    assert.deepEqual(described(text, syntax.outline('a.ts', text, cursor, 'typescript', BUDGET_MS)!), {
      imports: ["import { a } from './a';", 'import b from "b";', "const fs = require('fs');"],
      definitions: [
        'export class Queue<T> extends Base',
        '  push(item: T): void',
        '  async drain(limit: number,\n      opts?: Opts): Promise<T[]>',
        'export const twice = (n: number) =>',
        'function helper()',
      ],
      enclosing: [
        'export class Queue<T> extends Base',
        '  async drain(limit: number,\n      opts?: Opts): Promise<T[]>',
        '    return this.items.map((x) =>',
      ],
    });
  });

  it('py: the decorated method\'s own line, and the scope the last statement is in', () => {
    const { text, cursor } = split(PY);
    assert.deepEqual(described(text, syntax.outline('a.py', text, cursor, 'python', BUDGET_MS)!), {
      imports: ['import os', 'from x import (a,\n    b)'],
      definitions: ['class Store(Base):', '    def get(self, key):', '    def put(self, key, value=None):'],
      enclosing: ['class Store(Base):', '    def put(self, key, value=None):'],
    });
  });

  it('a cursor right after a closing } is outside its scope', () => {
    const text = 'function f() {\n  return 1;\n}';
    assert.deepEqual(syntax.outline('b.ts', text, text.length, 'typescript', BUDGET_MS)!.enclosing, []);
  });

  it('re-parses a new version incrementally to the outline a fresh parse gives', async () => {
    const fresh = await SyntaxService.load(GRAMMARS, { runtimeDir: RUNTIME });
    await fresh.warm('typescript');
    try {
      const { text, cursor } = split(TS);
      syntax.outline('c.ts', text, cursor, 'typescript', BUDGET_MS);
      const edits = [
        text.slice(0, cursor) + 'x + 1' + text.slice(cursor),
        text.replace('function helper() {}', 'function helper(a: number) {\n  return a;\n}\nfunction other() {}'),
        `import z from 'z';\n${text}`,
        text.replace('é', '').replace("import b", "import é😀b"),
      ];
      for (const next of edits) {
        const at = Math.min(cursor, next.length);
        assert.deepEqual(syntax.outline('c.ts', next, at, 'typescript', BUDGET_MS), fresh.outline(`fresh-${next.length}`, next, at, 'typescript', BUDGET_MS));
      }
    } finally {
      fresh.dispose();
    }
  });

  it('gives nothing for a language without a grammar', () => {
    assert.equal(syntax.outline('d.txt', 'hello', 0, 'plaintext'), undefined);
  });

  it('goes on with a first parse over its budget where it stopped, at the next call', async () => {
    const fresh = await SyntaxService.load(GRAMMARS, { runtimeDir: RUNTIME });
    await fresh.warm('typescript');
    try {
      const text = 'export function f(a: number) {\n  return a + 1;\n}\n'.repeat(4_000); // 180 KB: 100+ ms to parse
      let outline: Outline | undefined;
      let calls = 0;
      for (; calls < 10_000 && !outline; calls++) outline = syntax.outline('big.ts', text, text.length, 'typescript', 2);
      assert.ok(outline && calls > 1, `${calls} calls`);
      assert.equal(outline.definitions.length, 4_000);
      // Then on, one edit at a time.
      const typed = `${text}const v = 1;\n`;
      assert.deepEqual(syntax.outline('big.ts', typed, typed.length, 'typescript', BUDGET_MS), fresh.outline('big-fresh.ts', typed, typed.length, 'typescript', 10_000));
    } finally {
      fresh.dispose();
    }
  });
});

describe('textEdit', () => {
  it('replaces what differs between the shared start and the shared end', () => {
    assert.deepEqual(textEdit('ab\ncd\nef', 'ab\ncXd\nef'), {
      startIndex: 4, oldEndIndex: 4, newEndIndex: 5,
      startPosition: { row: 1, column: 1 }, oldEndPosition: { row: 1, column: 1 }, newEndPosition: { row: 1, column: 2 },
    });
    assert.deepEqual(textEdit('one\ntwo\nthree', 'one\nthree'), {
      startIndex: 5, oldEndIndex: 9, newEndIndex: 5,
      startPosition: { row: 1, column: 1 }, oldEndPosition: { row: 2, column: 1 }, newEndPosition: { row: 1, column: 1 },
    });
  });

  it('does not let the shared end overlap the shared start', () => {
    const edit = textEdit('aaa', 'aaaa');
    assert.deepEqual([edit.startIndex, edit.oldEndIndex, edit.newEndIndex], [3, 3, 4]);
  });
});
