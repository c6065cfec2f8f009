import assert from 'node:assert/strict';
import { clipAroundCursor } from '../../../src/completion/clip';

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

    assert.ok(prefix.length <= limits.maxPrefixChars && prefix.length > limits.maxPrefixChars - line.length);
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
    assert.deepEqual(clipAroundCursor('', 0, limits), { prefix: '', suffix: '' });
  });

  it('keeps a small document whole', () => {
    assert.deepEqual(clipAroundCursor('ab\ncd', 3, limits), { prefix: 'ab\n', suffix: 'cd' });
  });

  it('clamps an offset outside the document', () => {
    assert.deepEqual(clipAroundCursor('abc', 99, limits), { prefix: 'abc', suffix: '' });
    assert.deepEqual(clipAroundCursor('abc', -5, limits), { prefix: '', suffix: 'abc' });
    assert.deepEqual(clipAroundCursor('abc', Number.NaN, limits), { prefix: '', suffix: 'abc' });
  });

  it('keeps a single huge line as a raw window without splitting a surrogate pair', () => {
    const emoji = '😀'; // two UTF-16 code units
    const doc = emoji.repeat(10_000);
    const small = { maxPrefixChars: 101, maxSuffixChars: 101 };
    const { prefix, suffix } = clipAroundCursor(doc, 10_000, small);
    assert.equal(prefix, emoji.repeat(50));
    assert.equal(suffix, emoji.repeat(50));
  });
});
