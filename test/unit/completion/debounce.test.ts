import assert from 'node:assert/strict';
import { requestTiming, startDelayMs, type RequestTiming } from '../../../src/completion/debounce';

describe('debounce timing', () => {
  const cases: Array<{ prefix: string; afterAccept?: boolean; timing: RequestTiming }> = [
    { prefix: '', timing: 'line-start' },
    { prefix: 'a = 1\n', timing: 'line-start' },
    { prefix: 'if (a) {\n    ', timing: 'line-start' },
    { prefix: 'x\r\n\t', timing: 'line-start' },
    { prefix: 'const val', timing: 'mid-word' },
    { prefix: 'items.leng', timing: 'mid-word' },
    { prefix: 'x = a1', timing: 'mid-word' },
    { prefix: 'my_', timing: 'mid-word' },
    { prefix: 'let $', timing: 'mid-word' },
    { prefix: 'const grüße', timing: 'mid-word' },
    { prefix: 'const 变量', timing: 'mid-word' },
    { prefix: 'const ', timing: 'other' },
    { prefix: 'items.', timing: 'other' },
    { prefix: 'call(', timing: 'other' },
    { prefix: 'x = "😀', timing: 'other' },
    { prefix: 'const val', afterAccept: true, timing: 'after-accept' },
    { prefix: 'a\n  ', afterAccept: true, timing: 'after-accept' },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.prefix)}${c.afterAccept ? ' right after an accept' : ''} → ${c.timing}`, () => {
      assert.equal(requestTiming(c.prefix, c.afterAccept ?? false), c.timing);
    });
  }

  it('only a request typed mid-word waits', () => {
    assert.equal(startDelayMs('mid-word', 75), 75);
    for (const timing of ['line-start', 'after-accept', 'other'] as const) assert.equal(startDelayMs(timing, 75), 0);
    assert.equal(startDelayMs('mid-word', 0), 0);
  });
});
