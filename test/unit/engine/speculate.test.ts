// Prompt lookup: which earlier tokens are proposed as drafts for the context's continuation, and how
// many the next pass asks for.
import assert from 'node:assert/strict';
import { lookupDrafts, MAX_DRAFT_TOKENS, nextDraftLength } from '../../../src/engine/speculate';

describe('lookupDrafts', () => {
  const cases: { name: string; context: number[]; max: number; drafts: number[] }[] = [
    { name: 'copies what followed the last 3 tokens', context: [1, 2, 3, 4, 5, 6, 9, 1, 2, 3], max: 7, drafts: [4, 5, 6, 9, 1, 2, 3] },
    { name: 'stops at maxDrafts', context: [1, 2, 3, 4, 5, 6, 9, 1, 2, 3], max: 2, drafts: [4, 5] },
    { name: 'takes the latest earlier occurrence', context: [1, 2, 3, 7, 1, 2, 3, 8, 1, 2, 3], max: 4, drafts: [8, 1, 2, 3] },
    { name: 'prefers a longer n-gram to a later shorter one', context: [5, 2, 3, 7, 9, 2, 3, 8, 5, 2, 3], max: 1, drafts: [7] },
    { name: 'falls back to 2 tokens', context: [4, 2, 3, 7, 9, 9, 2, 3], max: 5, drafts: [7, 9, 9, 2, 3] },
    { name: 'falls back to 1 token', context: [3, 6, 1, 4, 3], max: 4, drafts: [6, 1, 4, 3] },
    { name: 'reads on into its own drafts past the end', context: [1, 2, 3, 4, 5, 6, 9, 1, 2, 3], max: 9, drafts: [4, 5, 6, 9, 1, 2, 3, 4, 5] },
    { name: 'a run of one token proposes more of it', context: [8, 5, 5, 5, 5], max: 4, drafts: [5, 5, 5, 5] },
    { name: 'a repeated pair proposes more of it', context: [8, 6, 7, 6, 7], max: 5, drafts: [6, 7, 6, 7, 6] },
    { name: 'nothing when the last token is new', context: [1, 2, 3, 4], max: 8, drafts: [] },
    { name: 'nothing without room', context: [1, 2, 1, 2], max: 0, drafts: [] },
    { name: 'nothing for one token', context: [1], max: 8, drafts: [] },
    { name: 'nothing for no tokens', context: [], max: 8, drafts: [] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(lookupDrafts(c.context, c.max), c.drafts));
  }

  it(`proposes ${MAX_DRAFT_TOKENS} tokens when asked for that many`, () => {
    const line = Array.from({ length: 20 }, (_, i) => i);
    assert.deepEqual(lookupDrafts([...line, ...line.slice(0, 3)], MAX_DRAFT_TOKENS), line.slice(3, 3 + MAX_DRAFT_TOKENS));
  });
});

describe('nextDraftLength', () => {
  const cases: [drafted: number, accepted: number, next: number][] = [
    [8, 8, MAX_DRAFT_TOKENS], [1, 1, 2], [2, 2, 4], [3, 3, 6], [4, 4, 8], [6, 6, MAX_DRAFT_TOKENS],
    [8, 0, 1], [8, 3, 4], [1, 0, 1], [4, 2, 3],
  ];
  for (const [drafted, accepted, next] of cases) {
    it(`${accepted} of ${drafted} kept → ${next}`, () => assert.equal(nextDraftLength(drafted, accepted), next));
  }
});
