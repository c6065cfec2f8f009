import assert from 'node:assert/strict';
import { extractRefactorCode } from '../../../src/commands/refactorOutput';

const cases: { name: string; answer: string; original: string; want: string }[] = [
  { name: 'first fenced block, trailing newline kept', answer: 'Here:\n```ts\nconst a = 1;\n```\nDone.', original: 'let a = 1;\n', want: 'const a = 1;\n' },
  { name: 'no trailing newline when the original had none', answer: '```ts\nconst a = 1;\n```', original: 'let a = 1;', want: 'const a = 1;' },
  { name: 'only the first of two blocks', answer: '```\none()\n```\nor\n```\ntwo()\n```', original: 'x()', want: 'one()' },
  { name: 'a fence the answer never closed (cut off)', answer: '```python\ndef f():\n    return 1\n', original: 'def f(): return 1\n', want: 'def f():\n    return 1\n' },
  { name: 'no fence: the whole answer, blank lines trimmed', answer: '\n\n  return a + b;\n\n', original: '  return a+b;\n', want: '  return a + b;\n' },
  { name: 'tilde fences', answer: '~~~\nx = 1\n~~~', original: 'x=1', want: 'x = 1' },
  { name: 'a longer fence holds ``` inside', answer: '````md\nuse ```js``` here\n```\nstill\n````', original: 'a', want: 'use ```js``` here\n```\nstill' },
  { name: 'CRLF original: CRLF result', answer: '```\na\nb\n```', original: 'x\r\ny\r\n', want: 'a\r\nb\r\n' },
  { name: 'CRLF answer, LF original', answer: '```\r\na\r\nb\r\n```\r\n', original: 'x\ny', want: 'a\nb' },
  { name: 'blank lines inside the code are kept', answer: '```\na\n\n\nb\n```', original: 'a\n', want: 'a\n\n\nb\n' },
  { name: 'an empty block stays empty', answer: '```\n```', original: 'a\n', want: '' },
  { name: 'an indented fence (inside a list item)', answer: '1. Use:\n   ```js\n   f();\n   ```', original: 'g();', want: 'f();' },
];

describe('extractRefactorCode', () => {
  for (const c of cases) it(c.name, () => assert.equal(extractRefactorCode(c.answer, c.original), c.want));
});
