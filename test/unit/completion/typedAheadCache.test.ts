import assert from 'node:assert/strict';
import { continuation, TypedAheadCache, typedSince, cursorKey, type Suggestion } from '../../../src/completion/typedAheadCache';
import type { CursorContext } from '../../../src/completion/types';

/** A cursor context from a document with ❚ at the cursor. */
function at(doc: string): CursorContext {
  const cursor = doc.indexOf('❚');
  assert.ok(cursor >= 0, 'the document marks the cursor');
  return { prefix: doc.slice(0, cursor), suffix: doc.slice(cursor + 1) };
}

function suggestion(text: string, over: Partial<Suggestion> = {}): Suggestion {
  return { text, stopReason: 'stop-token', ttfsMs: 5, promptTokens: 10, generatedTokens: 3, fromPrefetch: false, ...over };
}

describe('typed-ahead cache', () => {
  const origin = 'function f() {\n  return ❚\n}\n';
  const cases: Array<{ name: string; doc: string; served: string | undefined }> = [
    { name: 'the same cursor: the whole suggestion', doc: origin, served: 'foo(bar);' },
    { name: 'one typed character that starts it: the rest', doc: 'function f() {\n  return f❚\n}\n', served: 'oo(bar);' },
    { name: 'typed characters that start it: the rest', doc: 'function f() {\n  return foo(❚\n}\n', served: 'bar);' },
    { name: 'all but the last character typed: the last', doc: 'function f() {\n  return foo(bar)❚\n}\n', served: ';' },
    { name: 'all of it typed: a miss (the next suggestion is a new one)', doc: 'function f() {\n  return foo(bar);❚\n}\n', served: undefined },
    { name: 'typing that diverges: a miss', doc: 'function f() {\n  return fox❚\n}\n', served: undefined },
    { name: 'a backspace before the origin: a miss', doc: 'function f() {\n  retur❚\n}\n', served: undefined },
    { name: 'the same typed text after a different line: a miss', doc: 'function g() {\n  return fo❚\n}\n', served: undefined },
    { name: 'a different suffix: a miss', doc: 'function f() {\n  return fo❚;\n}\n', served: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const cache = new TypedAheadCache();
      cache.put(at(origin), suggestion('foo(bar);'));
      assert.equal(cache.lookup(at(c.doc))?.text, c.served);
    });
  }

  it('follows typing across a newline in a multi-line suggestion', () => {
    const cache = new TypedAheadCache();
    cache.put(at('if (a) {❚\n'), suggestion('\n  run();\n}'));
    assert.equal(cache.lookup(at('if (a) {\n  r❚\n'))?.text, 'un();\n}');
  });

  it('keys by the text near the cursor, so an edit far above it still hits', () => {
    const cache = new TypedAheadCache();
    const far = '// header\n' + 'x'.repeat(5_000) + '\n';
    cache.put(at(far + 'const a = ❚;\n'), suggestion('compute()'));
    assert.equal(cache.lookup(at('// edited header\n' + 'x'.repeat(5_000) + '\nconst a = comp❚;\n'))?.text, 'ute()');
  });

  it('keeps an empty suggestion for its own cursor only', () => {
    const cache = new TypedAheadCache();
    cache.put(at('x = ❚\n'), suggestion(''));
    assert.equal(cache.lookup(at('x = ❚\n'))?.text, '');
    assert.equal(cache.lookup(at('x = 1❚\n')), undefined);
  });

  it('prefers the suggestion made at the very cursor over the rest of an earlier one', () => {
    const cache = new TypedAheadCache();
    cache.put(at('a❚'), suggestion('bcdef'));
    cache.put(at('abc❚'), suggestion('XYZ'));
    cache.put(at('a❚\n'), suggestion('other suffix'));
    assert.equal(cache.lookup(at('abc❚'))?.text, 'XYZ');
    assert.equal(cache.lookup(at('ab❚'))?.text, 'cdef');
  });

  it('holds at most its capacity, evicting the least recently used', () => {
    const cache = new TypedAheadCache(3);
    for (const name of ['a', 'b', 'c']) cache.put(at(`${name} = ❚`), suggestion(`${name}Value`));
    assert.equal(cache.lookup(at('a = ❚'))?.text, 'aValue', 'a is used, so b is now the least recent');
    cache.put(at('d = ❚'), suggestion('dValue'));
    assert.equal(cache.size, 3);
    assert.equal(cache.lookup(at('b = ❚')), undefined, 'b was evicted');
    for (const name of ['a', 'c', 'd']) assert.equal(cache.lookup(at(`${name} = ❚`))?.text, `${name}Value`);
  });

  it('stays at 64 entries by default however many suggestions are put', () => {
    const cache = new TypedAheadCache();
    for (let i = 0; i < 1_000; i++) cache.put(at(`const v${i} = ❚;`), suggestion(`${i}`));
    assert.equal(cache.size, 64);
    assert.equal(cache.lookup(at('const v999 = ❚;'))?.text, '999');
    assert.equal(cache.lookup(at('const v0 = ❚;')), undefined);
  });

  it('replaces the suggestion at a cursor that is put again', () => {
    const cache = new TypedAheadCache();
    cache.put(at('x❚'), suggestion('old'));
    cache.put(at('x❚'), suggestion('new'));
    assert.equal(cache.size, 1);
    assert.equal(cache.lookup(at('x❚'))?.text, 'new');
  });
});

describe('typedSince and continuation', () => {
  const origin = cursorKey(at('let a = ❚;'));
  const cases: Array<{ doc: string; text: string; typed: string | undefined }> = [
    { doc: 'let a = ❚;', text: 'b + c', typed: '' },
    { doc: 'let a = b❚;', text: 'b + c', typed: 'b' },
    { doc: 'let a = b +❚;', text: 'b + c', typed: 'b +' },
    { doc: 'let a = bb❚;', text: 'b + c', typed: undefined },
    { doc: 'let a = b❚', text: 'b + c', typed: undefined },
    { doc: 'let a = a❚;', text: 'aaa', typed: 'a' },
    { doc: '❚;', text: 'x', typed: undefined },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.doc)} after ${JSON.stringify(c.text)} → ${JSON.stringify(c.typed)}`, () => {
      assert.equal(typedSince(origin, at(c.doc), c.text), c.typed);
    });
  }

  it('leaves the rest of the text, or nothing once it diverged or was used up', () => {
    assert.equal(continuation('foo(bar)', ''), 'foo(bar)');
    assert.equal(continuation('foo(bar)', 'fo'), 'o(bar)');
    assert.equal(continuation('foo(bar)', 'fox'), undefined);
    assert.equal(continuation('foo(bar)', 'foo(bar)'), undefined);
    assert.equal(continuation('', ''), '');
  });
});
