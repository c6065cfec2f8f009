import assert from 'node:assert/strict';
import { promptBudget } from '../../../src/engine/promptBudget';
import { DEFAULT_CHARS_PER_TOKEN, MIN_SAMPLE_CHARS, TokenRatios } from '../../../src/completion/tokenRatio';

const caps = { maxPrefixChars: 8_000, maxSuffixChars: 2_000 };
/** Code-v1: 512 tokens of context, 32 generated, ~3 characters a token. */
const codeV1 = { contextTokens: 512, maxNewTokens: 32, charsPerToken: 3, charsAfterCursor: 10_000, extraContext: false };

describe('prompt budget', () => {
  it('gives the prefix what the suffix\'s quarter and a safety margin leave', () => {
    // 477 tokens of room (3 FIM tokens), 429 usable, the suffix's quarter 107: 322 tokens × 3.
    const clip = { maxPrefixChars: 966, maxSuffixChars: 2_000 };
    assert.deepEqual(promptBudget(codeV1, caps), { clip, extraChars: 0, clipWithoutExtra: clip });
  });

  it('gives the prefix the room a short suffix leaves', () => {
    const { clip } = promptBudget({ ...codeV1, charsAfterCursor: 30 }, caps);
    assert.equal(clip.maxPrefixChars, (429 - 10) * 3);
    assert.equal(promptBudget({ ...codeV1, charsAfterCursor: 0 }, caps).clip.maxPrefixChars, 429 * 3);
  });

  it('keeps a quarter of the prefix\'s side for extra context, which the prefix takes when there is none', () => {
    const { clip, extraChars, clipWithoutExtra } = promptBudget({ ...codeV1, extraContext: true }, caps);
    assert.deepEqual([clip.maxPrefixChars, extraChars, clipWithoutExtra.maxPrefixChars], [(322 - 80) * 3, 80 * 3, 322 * 3]);
  });

  it('never exceeds the caps, and survives a context smaller than the generation', () => {
    assert.equal(promptBudget({ ...codeV1, contextTokens: 100_000 }, caps).clip.maxPrefixChars, caps.maxPrefixChars);
    const tiny = promptBudget({ ...codeV1, contextTokens: 16, maxNewTokens: 64 }, caps);
    assert.ok(tiny.clip.maxPrefixChars >= 0 && tiny.extraChars >= 0);
  });
});

describe('token ratios', () => {
  it('measures a language once, on the first sample long enough, and keeps it', async () => {
    const counted: string[] = [];
    const ratios = new TokenRatios(async (text) => {
      counted.push(text);
      return Math.ceil(text.length / 2.5);
    });
    assert.equal(await ratios.of('python', () => 'x = 1\n'), DEFAULT_CHARS_PER_TOKEN);
    const sample = 'def f(x):\n    return x\n'.repeat(100);
    assert.ok(sample.length >= MIN_SAMPLE_CHARS);
    assert.equal(await ratios.of('python', () => sample), 2.5);
    assert.equal(await ratios.of('python', () => 'y'.repeat(5_000)), 2.5);
    assert.equal(counted.length, 1);
  });

  it('falls back to the default when counting fails', async () => {
    const ratios = new TokenRatios(() => Promise.reject(new Error('disposed')));
    assert.equal(await ratios.of('go', () => 'x'.repeat(2_000)), DEFAULT_CHARS_PER_TOKEN);
  });
});
