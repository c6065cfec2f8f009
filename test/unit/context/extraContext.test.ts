import assert from 'node:assert/strict';
import path from 'node:path';
import type { CompletionRequest } from '../../../src/completion/types';
import { ExtraContext } from '../../../src/context/extraContext';
import { fileHeader } from '../../../src/context/fileHeader';
import { RecentChunks, similarity } from '../../../src/context/recentChunks';
import { SyntaxService } from '../../../src/context/syntax';
import { isExcluded } from '../../../src/privacy/exclude';
import { repoRoot } from '../../helpers/fixture';

const GRAMMARS = path.join(repoRoot, 'node_modules/@vscode/tree-sitter-wasm/wasm');
const RUNTIME = path.join(repoRoot, 'node_modules/web-tree-sitter');
const CURSOR = '❚';
/** Where the window starts: the text after it is what the prompt shows anyway. */
const WINDOW = '⟦';

const TS = `import { Base } from './base';
import type { Opts } from './opts';

// Helpers.
function helper(a: number): number {
  return a * 2;
}

export class Other {
  hidden(): void {}
}

export class Queue<T> extends Base {
  private items: T[] = [];

  push(item: T): void {
    this.items.push(item);
  }

  async drain(limit: number,
      opts?: Opts): Promise<T[]> {
    const out: T[] = [];
    ⟦for (const item of this.items) {
      out.push(❚);
    }
    return out;
  }
}
`;

const PY = `import os
from typing import List


def load(path):
    with open(path) as f:
        return f.read()


class Store:
    def get(self, key):
        return self.d[key]

    def put(self, key, value):
        ⟦self.d[key] = value
        ❚
`;

function split(doc: string) {
  const windowStart = doc.indexOf(WINDOW);
  const text = doc.replace(WINDOW, '');
  const cursor = text.indexOf(CURSOR);
  return { text: text.replace(CURSOR, ''), cursor, windowStart };
}

describe('extra context', () => {
  let syntax: SyntaxService;
  before(async () => {
    syntax = await SyntaxService.load(GRAMMARS, { runtimeDir: RUNTIME });
    for (const id of ['typescript', 'python']) await syntax.warm(id);
  });
  after(() => syntax.dispose());

  const ALL = { enclosing: true, imports: true, definitions: true };
  const headerOf = (doc: string, languageId: string, maxChars = 10_000, parts = ALL) => {
    const { text, cursor, windowStart } = split(doc);
    const outline = syntax.outline(`file.${languageId}`, text, cursor, languageId, 1_000)!;
    return fileHeader(text, outline, windowStart, maxChars, parts);
  };

  describe('the file\'s own header', () => {
    it('ts: imports, definitions above the window with empty bodies, the signatures around the cursor', () => {
      assert.equal(headerOf(TS, 'typescript'), [
        "import { Base } from './base';",
        "import type { Opts } from './opts';",
        'function helper(a: number): number {}',
        'export class Other {}',
        'export class Queue<T> extends Base {',
        '  push(item: T): void {}',
        '  async drain(limit: number,',
        '      opts?: Opts): Promise<T[]> {',
        '',
      ].join('\n'));
    });

    it('py: a def\'s body is `...`', () => {
      assert.equal(headerOf(PY, 'python'), [
        'import os',
        'from typing import List',
        'def load(path): ...',
        'class Store:',
        '    def get(self, key): ...',
        '    def put(self, key, value):',
        '',
      ].join('\n'));
    });

    it('keeps the scopes around the cursor first, then imports, then the definitions nearest the window', () => {
      assert.equal(headerOf(TS, 'typescript', 140), [
        "import { Base } from './base';",
        'export class Queue<T> extends Base {',
        '  async drain(limit: number,',
        '      opts?: Opts): Promise<T[]> {',
        '',
      ].join('\n'));
      assert.equal(headerOf(TS, 'typescript', 20), '');
    });

    it('shows only the signatures around the cursor unless asked for more (what helps code-v1)', () => {
      const { text, cursor, windowStart } = split(TS);
      assert.equal(fileHeader(text, syntax.outline('parts.ts', text, cursor, 'typescript', 1_000)!, windowStart, 10_000), [
        'export class Queue<T> extends Base {',
        '  async drain(limit: number,',
        '      opts?: Opts): Promise<T[]> {',
        '',
      ].join('\n'));
      assert.equal(headerOf(TS, 'typescript', 10_000, { enclosing: false, imports: true, definitions: false }), "import { Base } from './base';\nimport type { Opts } from './opts';\n");
    });

    it('is empty when the window starts at the top of the file', () => {
      const { text, cursor } = split(TS);
      assert.equal(fileHeader(text, syntax.outline('top.ts', text, cursor, 'typescript', 1_000)!, 0, 10_000), '');
    });

    it('stays the same while the user types in the window', () => {
      const { text, cursor, windowStart } = split(TS);
      const headers = new Set(['', 'i', 'it', 'item', 'item.', 'item.id', 'item.id)'].map((typed) => {
        const next = text.slice(0, cursor) + typed + text.slice(cursor);
        return fileHeader(next, syntax.outline('typing.ts', next, cursor + typed.length, 'typescript', 1_000)!, windowStart, 10_000, ALL);
      }));
      assert.equal(headers.size, 1);
    });
  });

  describe('recent chunks of other files', () => {
    const exclude = (fileName: string) => isExcluded(fileName, ['.env*', '**/secrets/**']);
    const code = (name: string, lines = 4) => Array.from({ length: lines }, (_, i) => `const ${name}${i} = ${i};`).join('\n');

    it('keeps code lines only, most recent first, never excluded files, at most the capacity', () => {
      const ring = new RecentChunks(exclude, 3);
      ring.add('/w/a.ts', `// a comment\n${code('a')}\n\n  /* block\n   * comment */\n`);
      ring.add('/w/.env', 'API_KEY=1\nSECRET=2\nTOKEN=3\nMORE=4');
      ring.add('/w/secrets/k.ts', code('k'));
      ring.add('/w/b.py', `# comment\n${code('b')}\n#include <x>`);
      assert.deepEqual(ring.from('/w/c.ts').map((c) => c.fileName), ['/w/b.py', '/w/a.ts']);
      assert.equal(ring.from('/w/c.ts')[1].text, `${code('a')}\n`);
      assert.equal(ring.from('/w/c.ts')[0].text, `${code('b')}\n#include <x>\n`);
      assert.deepEqual(ring.from('/w/a.ts').map((c) => c.fileName), ['/w/b.py'], 'not the file being completed');
      for (const name of ['c', 'd', 'e']) ring.add(`/w/${name}.ts`, code(name));
      assert.equal(ring.size, 3);
      assert.deepEqual(ring.from('').map((c) => c.fileName), ['/w/e.ts', '/w/d.ts', '/w/c.ts']);
    });

    it('drops the chunks of files the patterns exclude once they change', () => {
      const patterns = ['.env*'];
      const ring = new RecentChunks((fileName) => isExcluded(fileName, patterns));
      ring.add('/w/a.ts', code('a'));
      ring.add('/w/keys/b.ts', code('b'));
      patterns.push('**/keys/**');
      ring.prune();
      assert.deepEqual(ring.from('').map((c) => c.fileName), ['/w/a.ts']);
      ring.forget('/w/a.ts');
      assert.equal(ring.size, 0);
    });

    it('replaces a near-duplicate (the same place edited again) and ignores chunks with little code', () => {
      const ring = new RecentChunks(() => false);
      ring.add('/w/a.ts', code('a', 6));
      ring.add('/w/b.ts', code('b', 6));
      ring.add('/w/a.ts', `${code('a', 6)}\nconst extra = 1;`);
      ring.add('/w/a.ts', '// only\nx();\n');
      assert.deepEqual(ring.from('').map((c) => c.text.split('\n').length), [8, 7]);
      assert.ok(similarity(code('a', 6), code('b', 6)) < 0.5);
    });
  });

  describe('gathered for a request', () => {
    const request = (doc: string, languageId: string, fileName: string): { request: CompletionRequest; windowStart: number } => {
      const { text, cursor, windowStart } = split(doc);
      return { request: { document: text, offset: cursor, languageId, fileName }, windowStart };
    };

    it('puts other files\' chunks before the header, within the budget', () => {
      const recent = new RecentChunks(() => false);
      recent.add('/w/util.ts', 'export function twice(n: number) {\n  return n * 2;\n}\n');
      const extra = new ExtraContext({ outlines: syntax, recent, outlineBudgetMs: 1_000, header: ALL });
      const { request: r, windowStart } = request(TS, 'typescript', '/w/queue.ts');
      const all = extra.gather(r, windowStart, 10_000);
      assert.ok(all.startsWith('export function twice(n: number) {\n  return n * 2;\n}\n\nimport { Base }'), all);
      assert.ok(all.endsWith('      opts?: Opts): Promise<T[]> {\n'), all);
      for (const max of [0, 50, 150, 300]) assert.ok(extra.gather(r, windowStart, max).length <= max, String(max));
    });

    it('gives nothing without sources, or for a window at the top of the file', () => {
      const { request: r, windowStart } = request(TS, 'typescript', '/w/q.ts');
      assert.equal(new ExtraContext({}).gather(r, windowStart, 1_000), '');
      assert.equal(new ExtraContext({ outlines: syntax, outlineBudgetMs: 1_000 }).gather(r, 0, 1_000), '');
    });
  });
});
