import assert from 'node:assert/strict';
import { isBinaryLooking, skipReason } from '../../../src/completion/prefilter';

describe('prefilter', () => {
  const cases: Array<{ name: string; text: string; binary: boolean }> = [
    { name: 'empty text', text: '', binary: false },
    { name: 'ordinary code with tabs and CRLF', text: 'if (a) {\r\n\treturn b;\r\n}\f\n', binary: false },
    { name: 'non-ASCII text', text: 'const grüße = "héllo 😀 世界";', binary: false },
    { name: 'a single NUL byte in code', text: 'const a = 1;\0const b = 2;', binary: true },
    { name: 'mostly control characters', text: '\x01\x02\x03abc\x1b\x7f', binary: true },
    { name: 'bytes decoded as replacement characters', text: '\ufffd\ufffdPNG\ufffd\ufffd\ufffd', binary: true },
    { name: 'one escape character in a long line', text: 'echo "\x1b[31mred"' + ' plain'.repeat(20), binary: false },
  ];
  for (const c of cases) {
    it(`${c.binary ? 'flags' : 'passes'} ${c.name}`, () => assert.equal(isBinaryLooking(c.text), c.binary));
  }

  it('skips a request when either side of the cursor looks binary', () => {
    assert.equal(skipReason({ prefix: 'code', suffix: '\0\0' }), 'binary-looking text');
    assert.equal(skipReason({ prefix: '\x00ELF', suffix: 'code' }), 'binary-looking text');
    assert.equal(skipReason({ prefix: 'let a', suffix: ' = 1;' }), undefined);
  });
});
