// How a FIM prompt's room is split between prefix and suffix tokens: one rule for the engine's cut
// (src/engine/prompt.ts) and the pipeline's character budget (promptBudget).
import assert from 'node:assert/strict';
import { splitFimTokens, type FimSplit } from '../../../src/engine/promptBudget';

const cases: { name: string; room: number; want: FimSplit; order: 'psm' | 'spm'; kept: FimSplit }[] = [
  { name: 'both fit: both whole', room: 100, want: { prefixTokens: 60, suffixTokens: 40 }, order: 'psm', kept: { prefixTokens: 60, suffixTokens: 40 } },
  { name: 'both fit in spm order too', room: 100, want: { prefixTokens: 60, suffixTokens: 40 }, order: 'spm', kept: { prefixTokens: 60, suffixTokens: 40 } },
  { name: 'both long: the suffix keeps its quarter', room: 100, want: { prefixTokens: 500, suffixTokens: 500 }, order: 'psm', kept: { prefixTokens: 75, suffixTokens: 25 } },
  { name: 'both long in spm order: the same quarter', room: 100, want: { prefixTokens: 500, suffixTokens: 500 }, order: 'spm', kept: { prefixTokens: 75, suffixTokens: 25 } },
  { name: 'short suffix, long prefix: the prefix takes the rest', room: 100, want: { prefixTokens: 500, suffixTokens: 10 }, order: 'psm', kept: { prefixTokens: 90, suffixTokens: 10 } },
  { name: 'short prefix, long suffix (psm): the suffix takes what the prefix leaves', room: 100, want: { prefixTokens: 30, suffixTokens: 500 }, order: 'psm', kept: { prefixTokens: 30, suffixTokens: 70 } },
  { name: 'short prefix, long suffix (spm): the suffix\'s cut stays at its quarter', room: 100, want: { prefixTokens: 30, suffixTokens: 500 }, order: 'spm', kept: { prefixTokens: 75, suffixTokens: 25 } },
  { name: 'a prefix of Infinity asks for the suffix\'s quota', room: 429, want: { prefixTokens: Infinity, suffixTokens: 3_334 }, order: 'psm', kept: { prefixTokens: 322, suffixTokens: 107 } },
  { name: 'the quota rounds down', room: 7, want: { prefixTokens: Infinity, suffixTokens: 50 }, order: 'psm', kept: { prefixTokens: 6, suffixTokens: 1 } },
  { name: 'no room: nothing kept', room: 0, want: { prefixTokens: 5, suffixTokens: 5 }, order: 'psm', kept: { prefixTokens: 0, suffixTokens: 0 } },
  { name: 'negative room reads as none', room: -3, want: { prefixTokens: 5, suffixTokens: 5 }, order: 'spm', kept: { prefixTokens: 0, suffixTokens: 0 } },
];

describe('splitFimTokens', () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(splitFimTokens(c.room, c.want, c.order), c.kept);
    });
  }
});
