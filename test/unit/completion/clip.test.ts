import assert from 'node:assert/strict';
import { clipAroundCursor } from '../../../src/completion/clip';
import { acceptedContext } from '../../../src/completion/prefetch';

const limits = { maxPrefixChars: 8_000, maxSuffixChars: 2_000 };

/** A TextSource over a string that records how much of the document was read. */
function countingSource(text: string) {
  let charsRead = 0;
  return {
    get charsRead() { return charsRead; },
    length: text.length,
    slice(start: number, end: number) {
      const part = text.slice(start, end);
      charsRead += part.length;
      return part;
    },
  };
}

describe('clipAroundCursor', () => {
  const line = 'const value = compute(alpha, beta); // a line of ordinary code\n';
  const bigDoc = line.repeat(Math.ceil(4_000_000 / line.length)); // ~4 MB

  it('reads only a bounded window of a several-MB document, in whole lines', () => {
    const source = countingSource(bigDoc);
    const offset = Math.floor(bigDoc.length / 2 / line.length) * line.length + 6;
    const { prefix, suffix } = clipAroundCursor(source, offset, limits);

    assert.ok(prefix.length <= limits.maxPrefixChars && prefix.length > limits.maxPrefixChars * 0.75 - line.length);
    assert.ok(suffix.length <= limits.maxSuffixChars && suffix.length > limits.maxSuffixChars - line.length);
    assert.ok(prefix.startsWith('const value'), 'the partial first line is dropped');
    assert.ok(prefix.endsWith('const '), 'the prefix ends at the cursor');
    assert.ok(suffix.startsWith('value = compute'), 'the suffix starts at the cursor');
    assert.ok(suffix.endsWith('\n'), 'the partial last line is dropped');
    assert.ok(source.charsRead <= limits.maxPrefixChars + limits.maxSuffixChars);
  });

  it('gives an empty prefix at offset 0', () => {
    const { prefix, suffix } = clipAroundCursor(bigDoc, 0, limits);
    assert.equal(prefix, '');
    assert.ok(suffix.length <= limits.maxSuffixChars && bigDoc.startsWith(suffix));
  });

  it('gives an empty suffix at the end of the document', () => {
    const { prefix, suffix } = clipAroundCursor(bigDoc, bigDoc.length, limits);
    assert.equal(suffix, '');
    assert.ok(prefix.length <= limits.maxPrefixChars && bigDoc.endsWith(prefix));
  });

  it('gives an empty prefix and suffix for an empty document', () => {
    assert.deepEqual(clipAroundCursor('', 0, limits), { prefix: '', suffix: '', prefixStart: 0 });
  });

  it('keeps a small document whole', () => {
    assert.deepEqual(clipAroundCursor('ab\ncd', 3, limits), { prefix: 'ab\n', suffix: 'cd', prefixStart: 0 });
  });

  it('clamps an offset outside the document', () => {
    assert.deepEqual(clipAroundCursor('abc', 99, limits), { prefix: 'abc', suffix: '', prefixStart: 0 });
    assert.deepEqual(clipAroundCursor('abc', -5, limits), { prefix: '', suffix: 'abc', prefixStart: 0 });
    assert.deepEqual(clipAroundCursor('abc', Number.NaN, limits), { prefix: '', suffix: 'abc', prefixStart: 0 });
  });

  it('keeps a single huge line as a raw window without splitting a surrogate pair', () => {
    const emoji = '😀'; // two UTF-16 code units
    const doc = emoji.repeat(10_000);
    const small = { maxPrefixChars: 101, maxSuffixChars: 101 };
    const { prefix, suffix } = clipAroundCursor(doc, 10_000, small);
    assert.equal(prefix, emoji.repeat(50));
    assert.equal(suffix, emoji.repeat(50));
  });

  describe('while the user types at the end of a long document', () => {
    const small = { maxPrefixChars: 1_000, maxSuffixChars: 200 };
    const lines = Array.from({ length: 400 }, (_, i) => `${'  '.repeat(i % 3)}const v${i} = f(${i}); // line ${i}\n`);

    /** The document after typing the first `n` lines, the cursor at its end, clipped. */
    const typed = (n: number) => {
      const doc = lines.slice(0, n).join('');
      return { doc, ...clipAroundCursor(doc, doc.length, small) };
    };

    it('moves the prefix start once per quarter of the limit typed, not once per line', () => {
      const starts = new Set<number>();
      for (let n = 1; n <= lines.length; n++) {
        const { doc, prefix, prefixStart } = typed(n);
        assert.equal(doc.slice(prefixStart), prefix, 'prefixStart is where the prefix starts');
        assert.ok(prefixStart === 0 || doc[prefixStart - 1] === '\n', 'at a line start');
        assert.ok(prefix.length <= small.maxPrefixChars, 'within the limit');
        assert.ok(prefix.length >= small.maxPrefixChars * 0.75 - 40 || prefixStart === 0, `keeps most of the limit: ${prefix.length}`);
        starts.add(prefixStart);
      }
      const typedChars = lines.join('').length;
      assert.ok(starts.size <= Math.ceil(typedChars / (small.maxPrefixChars / 4)) + 1, `${starts.size} starts`);
      assert.ok(starts.size < lines.length / 4, `${starts.size} starts for ${lines.length} lines`);
    });

    it('keeps the start while typing inside a line', () => {
      const base = lines.slice(0, 200).join('');
      const starts = new Set([...'let answer = compute();'].map((_, i, chars) => {
        const doc = base + chars.slice(0, i + 1).join('');
        return clipAroundCursor(doc, doc.length, small).prefixStart;
      }));
      assert.equal(starts.size, 1);
    });

    it('gives the accepted cursor the window a clip of the whole document gives it', () => {
      for (const n of [120, 150, 151, 300]) {
        const before = typed(n);
        const inserted = lines.slice(n, n + 3).join('');
        const after = typed(n + 3);
        assert.deepEqual(acceptedContext(before, { text: inserted, replaced: 0 }, small), { prefix: after.prefix, suffix: after.suffix, prefixStart: after.prefixStart });
      }
    });
  });
});
