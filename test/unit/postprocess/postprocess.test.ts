import assert from 'node:assert/strict';
import { postprocess } from '../../../src/postprocess';
import { cutAtSuffixEcho, dropSuffixEcho } from '../../../src/postprocess/suffixEcho';
import type { PostProcessor } from '../../../src/postprocess/types';
import { dropBlank, trimTrailingWhitespace } from '../../../src/postprocess/whitespace';

const CURSOR = '❚';

/** `doc` holds the document with ❚ at the cursor; `suggestion` is the raw model output. */
interface Case {
  name: string;
  doc: string;
  suggestion: string;
  want: string | undefined;
}

function around(doc: string) {
  const at = doc.indexOf(CURSOR);
  assert.ok(at >= 0 && doc.indexOf(CURSOR, at + 1) < 0, `exactly one ${CURSOR} in ${JSON.stringify(doc)}`);
  return { prefix: doc.slice(0, at), suffix: doc.slice(at + CURSOR.length) };
}

function runTable(step: PostProcessor | undefined, cases: Case[]) {
  for (const c of cases) {
    it(c.name, () => {
      const context = around(c.doc);
      const got = step ? step(c.suggestion, context) : postprocess(c.suggestion, context);
      assert.equal(got, c.want);
    });
  }
}

describe('postprocess', () => {
  describe('dropSuffixEcho', () => runTable(dropSuffixEcho, [
    { name: 'keeps a suggestion unrelated to the suffix', doc: 'const a = ❚;\n', suggestion: '42', want: '42' },
    { name: 'drops the start of the suffix', doc: 'f(a❚);\n', suggestion: ');', want: undefined },
    { name: 'drops the suffix start after leading whitespace', doc: 'if (x) {\n❚\n  return 1;\n}', suggestion: '  return 1;', want: undefined },
    { name: 'drops a repeat of the next line with other indentation', doc: 'def f():\n❚\n    return x\n', suggestion: '\treturn x\n  y = 2', want: undefined },
    { name: 'keeps a line that only starts like the next line', doc: 'a = 1\n❚\nb = 2\n', suggestion: 'b = 3', want: 'b = 3' },
    { name: 'keeps anything when the suffix is empty', doc: 'x = ❚', suggestion: '1', want: '1' },
    { name: 'leaves blank suggestions to dropBlank', doc: 'x❚y', suggestion: '  ', want: '  ' },
  ]));

  describe('cutAtSuffixEcho', () => runTable(cutAtSuffixEcho, [
    { name: 'cuts where the suggestion runs into the next line', doc: 'function f() {\n  ❚\n  return a;\n}', suggestion: 'const a = 1;\n  return a;\n}', want: 'const a = 1;' },
    { name: 'leaves the first line alone', doc: 'a❚\nb\n', suggestion: 'b\nc', want: 'b\nc' },
    { name: 'keeps a suggestion that never meets the suffix', doc: 'x = [❚\n]\n', suggestion: '1,\n2,', want: '1,\n2,' },
    { name: 'keeps everything when the suffix is blank', doc: 'a❚\n\n  \n', suggestion: 'b\n\nc', want: 'b\n\nc' },
  ]));

  describe('trimTrailingWhitespace', () => runTable(trimTrailingWhitespace, [
    { name: 'trims spaces and newlines at the end', doc: 'x = ❚', suggestion: '1  \n\n', want: '1' },
    { name: 'keeps leading whitespace', doc: 'if x:❚', suggestion: '\n    pass\t', want: '\n    pass' },
  ]));

  describe('dropBlank', () => runTable(dropBlank, [
    { name: 'drops the empty string', doc: '❚', suggestion: '', want: undefined },
    { name: 'drops whitespace only', doc: '❚', suggestion: ' \n\t', want: undefined },
    { name: 'keeps text', doc: '❚', suggestion: ' x', want: ' x' },
  ]));

  describe('the default chain', () => runTable(undefined, [
    { name: 'passes a plain completion through', doc: 'const greeting = ❚', suggestion: "'hello';", want: "'hello';" },
    { name: 'cuts the echo, then trims what remains', doc: 'def f(x):\n    ❚\n    return y\n', suggestion: 'y = x + 1   \n    return y', want: 'y = x + 1' },
    { name: 'drops a suggestion that is only an echo plus whitespace', doc: 'a(❚)\n', suggestion: ')  ', want: undefined },
    { name: 'drops what is blank after the cut', doc: 'x = 1\n❚\ny = 2\n', suggestion: '\ny = 2', want: undefined },
    { name: 'drops whitespace-only output', doc: 'x❚', suggestion: '\n\n   ', want: undefined },
  ]));
});
