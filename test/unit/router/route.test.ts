import assert from 'node:assert/strict';
import { route } from '../../../src/router/route';
import type { Route, RouteInput } from '../../../src/router/types';

const base: RouteInput = {
  promptTokens: 1000,
  answerTokens: 256,
  localWindowTokens: 2048,
  cloud: { enabled: true, configured: true, consent: 'granted', maxContextTokens: 128_000 },
};
type Over = Partial<Omit<RouteInput, 'cloud'>> & { cloud?: Partial<RouteInput['cloud']> };
const input = (over: Over): RouteInput => ({ ...base, ...over, cloud: { ...base.cloud, ...over.cloud } });
const cut = (reason: RegExp) => ({ target: 'local-cut' as const, promptBudgetTokens: 2048 - 256, reason });

interface Case {
  name: string;
  over: Over;
  want: Route | { target: 'local-cut'; promptBudgetTokens: number; reason: RegExp };
}

const cases: Case[] = [
  { name: 'short prompt: local', over: {}, want: { target: 'local' } },
  { name: 'prompt + answer exactly the window: local', over: { promptTokens: 1792 }, want: { target: 'local' } },
  { name: 'fits locally even with the cloud off', over: { cloud: { enabled: false } }, want: { target: 'local' } },
  { name: 'fits locally even for an excluded file', over: { targetExcluded: true }, want: { target: 'local' } },
  { name: 'one token over: cloud, consent already granted', over: { promptTokens: 1793 }, want: { target: 'cloud', askConsent: false } },
  { name: 'long, consent unasked: cloud after asking', over: { promptTokens: 5000, cloud: { consent: 'unasked' } }, want: { target: 'cloud', askConsent: true } },
  { name: 'long, cloud off: cut, says how to turn it on', over: { promptTokens: 5000, cloud: { enabled: false } }, want: cut(/flashcode\.cloud\.enabled/) },
  { name: 'long, not configured: cut, says what to set', over: { promptTokens: 5000, cloud: { configured: false } }, want: cut(/Set Cloud API Key/) },
  { name: 'long, consent declined: cut, says so', over: { promptTokens: 5000, cloud: { consent: 'denied' } }, want: cut(/declined/) },
  { name: 'long, excluded file: cut even with consent', over: { promptTokens: 5000, targetExcluded: true }, want: cut(/flashcode\.cloud\.exclude/) },
  { name: 'too long even for the cloud: cut', over: { promptTokens: 200_000 }, want: cut(/even for the cloud.*128,000/) },
  { name: 'cloud limit counts the answer too', over: { promptTokens: 127_800, cloud: { consent: 'unasked' } }, want: cut(/even for the cloud/) },
  { name: 'the reason names the size of the code and the model\'s limit', over: { promptTokens: 12_345, cloud: { enabled: false } }, want: cut(/^the code is too long for the local model: with the instruction it takes 12,345 tokens, and the local model reads at most 2,048 tokens \(its context window\), 256 of them kept for the answer; the cloud model is off/) },
  { name: 'the limit set by flashcode.router.localMaxTokens is named as such', over: { promptTokens: 5000, localWindowBy: 'setting', cloud: { enabled: false } }, want: cut(/at most 2,048 tokens \(flashcode\.router\.localMaxTokens\)/) },
  // Issue 18: a 5-line function in a long file was "too long for the local model".
  { name: 'the code fits, its context does not: local with the context cut, even with the cloud on', over: { promptTokens: 5000, codeTokens: 1500 }, want: cut(/^the local model reads at most 2,048 tokens \(its context window\), 256 of them kept for the answer, so the code around it was shortened$/) },
  { name: 'the code fits exactly with its answer', over: { promptTokens: 5000, codeTokens: 1792, cloud: { enabled: false } }, want: cut(/code around it was shortened/) },
  { name: 'asked for the cloud: it answers a short task too', over: { preferCloud: true, cloud: { consent: 'unasked' } }, want: { target: 'cloud', askConsent: true } },
  { name: 'asked for the cloud, but it is off: local', over: { preferCloud: true, cloud: { enabled: false } }, want: { target: 'local' } },
  { name: 'asked for the cloud, but the file is excluded: local', over: { preferCloud: true, targetExcluded: true }, want: { target: 'local' } },
  { name: 'asked for the cloud, but consent was refused: local', over: { preferCloud: true, cloud: { consent: 'denied' } }, want: { target: 'local' } },
  { name: 'the code alone is over: the cloud', over: { promptTokens: 5000, codeTokens: 1793 }, want: { target: 'cloud', askConsent: false } },
  { name: 'the code alone is over, cloud off: says how much the code takes', over: { promptTokens: 5000, codeTokens: 3000, cloud: { enabled: false } }, want: cut(/it takes 3,000 tokens/) },
  { name: 'budget never negative', over: { promptTokens: 5000, localWindowTokens: 100, cloud: { enabled: false } }, want: { target: 'local-cut', promptBudgetTokens: 0, reason: /off/ } },
];

describe('route', () => {
  for (const c of cases) {
    it(c.name, () => {
      const got = route(input(c.over));
      if (c.want.target === 'local-cut' && c.want.reason instanceof RegExp) {
        assert.equal(got.target, 'local-cut');
        if (got.target !== 'local-cut') return;
        assert.equal(got.promptBudgetTokens, c.want.promptBudgetTokens);
        assert.match(got.reason, c.want.reason);
      } else {
        assert.deepEqual(got, c.want);
      }
    });
  }
});
