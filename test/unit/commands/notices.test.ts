import assert from 'node:assert/strict';
import { asSentence } from '../../../src/commands/notices';

describe('asSentence', () => {
  const cases: Array<[string, string, string]> = [
    ['a clause gets a capital and a full stop', 'left out: the rest of a.ts (40 tokens)', 'Left out: the rest of a.ts (40 tokens).'],
    ['a sentence stays as it is', 'The cloud model failed.', 'The cloud model failed.'],
    ['a question or an ellipsis ends one too', 'try again…', 'Try again…'],
    ['a setting name that starts it keeps its case', 'flashcode.cloud.exclude has a pattern that cannot be used', 'flashcode.cloud.exclude has a pattern that cannot be used.'],
    ['spaces around are dropped', '  left out: x  ', 'Left out: x.'],
    ['empty stays empty', '', ''],
  ];
  for (const [name, notice, want] of cases) it(name, () => assert.equal(asSentence(notice), want));

  it('notices joined with a space read as separate sentences (issue 18: "…send long tasks to it left out: …")', () => {
    const joined = ['the cloud model is off — turn on flashcode.cloud.enabled to send long tasks to it', 'left out: the rest of a.ts (40 tokens)'].map(asSentence).join(' ');
    assert.equal(joined, 'The cloud model is off — turn on flashcode.cloud.enabled to send long tasks to it. Left out: the rest of a.ts (40 tokens).');
  });
});
