import assert from 'node:assert/strict';
import { postprocess } from '../../../src/postprocess';
import { scanBrackets } from '../../../src/postprocess/brackets';
import { closersReplaced, dedupeClosers } from '../../../src/postprocess/closers';
import { inferIndentation, matchIndentation } from '../../../src/postprocess/indentation';
import { indentationBlockEnd } from '../../../src/postprocess/indentBlock';
import { cutAtSuffixEcho, dropSuffixEcho } from '../../../src/postprocess/suffixEcho';
import type { PostProcessor } from '../../../src/postprocess/types';
import { dropBlank, trimTrailingWhitespace } from '../../../src/postprocess/whitespace';

const CURSOR = '❚';

/** `doc` holds the document with ❚ at the cursor; `suggestion` is the filter's input. */
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

describe('postprocess filters', () => {
  describe('trimTrailingWhitespace', () => runTable(trimTrailingWhitespace, [
    { name: 'trims spaces and newlines at the end', doc: 'x = ❚', suggestion: '1  \n\n', want: '1' },
    { name: 'keeps leading whitespace', doc: 'if x:❚', suggestion: '\n    pass\t', want: '\n    pass' },
    { name: 'trims every line, keeping a CR before the newline', doc: '❚', suggestion: 'a  \r\n\tb \t\nc', want: 'a\r\n\tb\nc' },
  ]));

  describe('dropBlank', () => runTable(dropBlank, [
    { name: 'drops the empty string', doc: '❚', suggestion: '', want: undefined },
    { name: 'drops whitespace only', doc: '❚', suggestion: ' \n\t', want: undefined },
    { name: 'keeps text', doc: '❚', suggestion: ' x', want: ' x' },
  ]));

  describe('matchIndentation', () => runTable(matchIndentation, [
    { name: 'tabs become the file\'s unit of spaces', doc: 'if a:\n  b\n  if c:❚\n    d\n', suggestion: '\n\t\te', want: '\n    e' },
    { name: 'spaces become tabs in a tab file (4 spaces a level)', doc: 'f() {\n\tg() {❚\n\t}\n}', suggestion: '\n        h();\n    }', want: '\n\t\th();\n\t}' },
    { name: 'spaces short of a level stay (doc comments)', doc: 'f() {\n\t❚\n\tx;\n}', suggestion: '/**\n\t * doc\n\t */', want: '/**\n\t * doc\n\t */' },
    { name: 'a suggestion written in 2-space levels converts by 2', doc: 'f() {\n\tg() {❚\n\t}\n}', suggestion: '\n    h();\n  }', want: '\n\t\th();\n\t}' },
    { name: 'the first line is left alone after code on the cursor\'s line', doc: 'x = 1\n  y = 2\nz =❚', suggestion: '\t3', want: '\t3' },
    { name: 'the first line is re-indented at the start of a line', doc: 'a:\n  b\n❚', suggestion: '\tc', want: '  c' },
    { name: 'no preference in the file: unchanged', doc: 'a = 1\n❚', suggestion: '\n\tb\n    c', want: '\n\tb\n    c' },
  ]));

  describe('inferIndentation', () => {
    const table: [string, string, boolean | undefined, number][] = [
      ['2 spaces', 'a {\n  b {\n    c\n  }\n}\n', false, 2],
      ['4 spaces', 'def f():\n    if x:\n        y\n    z\n', false, 4],
      ['tabs', 'f {\n\tg {\n\t\th\n\t}\n}\n', true, 4],
      ['doc comment spaces are not a level', '/**\n * a\n * b\n */\nf {\n    g\n}\n', false, 4],
      ['nothing indented', 'a\nb\n', undefined, 4],
      ['mostly spaces with one stray tab line', 'a\n  b\n  c\n\td\n', false, 2],
    ];
    for (const [name, text, tabs, unit] of table) {
      it(name, () => assert.deepEqual(inferIndentation(text), { tabs, unit }));
    }
  });

  describe('cutAtSuffixEcho', () => runTable(cutAtSuffixEcho, [
    { name: 'cuts where the suggestion runs into the next line', doc: 'function f() {\n  ❚\n  return a;\n}', suggestion: 'const a = 1;\n  return a;\n}', want: 'const a = 1;' },
    { name: 'leaves the first line alone', doc: 'a❚\nb\n', suggestion: 'b\nc', want: 'b\nc' },
    { name: 'keeps a suggestion that never meets the suffix', doc: 'x = [❚\n]\n', suggestion: '1,\n2,', want: '1,\n2,' },
    { name: 'keeps everything when the suffix is blank', doc: 'a❚\n\n  \n', suggestion: 'b\n\nc', want: 'b\n\nc' },
    { name: 'a } closing the suggestion\'s own block is not the document\'s', doc: 'function f() {\n  ❚\n}', suggestion: 'if (a) {\n    b();\n  }\n  c();\n}', want: 'if (a) {\n    b();\n  }\n  c();' },
    { name: 'a } indented otherwise than the next line is not it', doc: 'class A {\n  m() {❚\n}', suggestion: '\n    return 1;\n  }', want: '\n    return 1;\n  }' },
    { name: 'a closing line that starts like the next one is it (`}` and `});`)', doc: 'it(() => {\n  ❚\n});', suggestion: 'a();\n}', want: 'a();' },
    { name: 'a closing bracket inside a string does not count', doc: 'f(\n  ❚\n)', suggestion: 'x,\n")"', want: 'x,\n")"' },
  ]));

  describe('dropSuffixEcho', () => runTable(dropSuffixEcho, [
    { name: 'keeps a suggestion unrelated to the suffix', doc: 'const a = ❚;\n', suggestion: '42', want: '42' },
    { name: 'drops the start of the rest of the line', doc: 'f(a❚);\n', suggestion: ');', want: undefined },
    { name: 'drops the next line, typed on a blank line', doc: 'if (x) {\n❚\n  return 1;\n}', suggestion: '  return 1;', want: undefined },
    { name: 'drops a repeat of the next line with other indentation', doc: 'def f():\n❚\n    return x\n', suggestion: '\treturn x\n  y = 2', want: undefined },
    { name: 'drops a repeat that starts on a new line', doc: 'a = 1❚\nb = 2\n', suggestion: '\nb = 2', want: undefined },
    { name: 'keeps a line that only starts like the next line', doc: 'a = 1\n❚\nb = 2\n', suggestion: 'b = 3', want: 'b = 3' },
    { name: 'keeps text that completes the cursor\'s line like the next line ends', doc: 'x = ❚\ny\n', suggestion: 'y', want: 'y' },
    { name: 'keeps anything when the suffix is empty', doc: 'x = ❚', suggestion: '1', want: '1' },
    { name: 'leaves blank suggestions to dropBlank', doc: 'x❚y', suggestion: '  ', want: '  ' },
  ]));

  describe('dedupeClosers', () => runTable(dedupeClosers, [
    { name: 'drops the ) the editor already has', doc: 'f(❚)', suggestion: 'x)', want: 'x' },
    { name: 'keeps a ) that closes the suggestion\'s own (', doc: 'f(❚)', suggestion: 'g(x)', want: 'g(x)' },
    { name: 'drops ); and ]) runs', doc: 'f([❚]);', suggestion: '1, 2]);', want: '1, 2' },
    { name: 'drops only as much as is there', doc: 'f(g(❚)', suggestion: 'x))', want: 'x)' },
    { name: 'drops the closing quote of a string opened before the cursor', doc: "s = '❚'", suggestion: "abc'", want: 'abc' },
    { name: 'keeps quotes the suggestion opens and closes', doc: 'f(❚)', suggestion: '"a")', want: '"a"' },
    { name: 'drops a ; the editor has', doc: 'a = ❚;', suggestion: '1;', want: '1' },
    { name: 'ignores spaces before the closer after the cursor', doc: '{ ❚ }', suggestion: 'a: 1}', want: 'a: 1' },
    { name: 'leaves text alone when the rest of the line is not closers', doc: 'f(❚, b)', suggestion: 'a)', want: 'a)' },
    { name: 'drops a , the editor has', doc: 'f(a, ❚, c)', suggestion: 'b,', want: 'b' },
  ]));

  describe('closersReplaced: the document after accepting the post-processed suggestion', () => {
    const cases: Array<{ name: string; doc: string; raw: string; replaced: number; after: string }> = [
      { name: 'the editor\'s ) is kept once and the ; lands after it (issue 18)', doc: '  return points.map(❚)\n', raw: 'points);', replaced: 1, after: '  return points.map(points);\n' },
      { name: 'a closer the suggestion closes first, then more of its own', doc: 'f(g(❚)\n', raw: 'x));', replaced: 1, after: 'f(g(x));\n' },
      { name: 'two closers on the line, the suggestion adds a ;', doc: 'f([❚])\n', raw: '1, 2]);', replaced: 2, after: 'f([1, 2]);\n' },
      { name: 'a } after a space', doc: 'const p = { ❚ }\n', raw: 'x: 1 };', replaced: 2, after: 'const p = { x: 1 };\n' },
      { name: 'its own string before the line\'s )', doc: 'log(❚)\n', raw: '"a", "b");', replaced: 1, after: 'log("a", "b");\n' },
      { name: 'an exact repeat is cut instead (dedupeClosers): nothing to replace', doc: 'console.log(❚);\n', raw: "'hello');", replaced: 0, after: "console.log('hello');\n" },
      { name: 'a pair the suggestion opens and closes is its own: inserted', doc: 'f(❚)\n', raw: 'g(x);', replaced: 0, after: 'f(g(x);)\n' },
      { name: 'more than closers after the cursor: inserted', doc: 'f(❚) + 1\n', raw: 'x);', replaced: 0, after: 'f(x);) + 1\n' },
      { name: 'closers in another order than the line\'s: inserted', doc: 'f([❚)\n', raw: '1]);', replaced: 0, after: 'f([1]);)\n' },
      { name: 'a multi-line suggestion is cut before the line\'s ) instead (no range past a line end)', doc: 'run(❚)\n', raw: '() => {\n  go();\n});', replaced: 0, after: 'run(() => {\n  go();\n})\n' },
      { name: 'nothing after the cursor', doc: 'f(❚\n', raw: 'x);', replaced: 0, after: 'f(x);\n' },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const context = around(c.doc);
        const text = postprocess(c.raw, context) ?? '';
        const replaced = closersReplaced(text, context);
        assert.equal(replaced, c.replaced);
        assert.equal(context.prefix + text + context.suffix.slice(replaced), c.after);
      });
    }
  });

  describe('scanBrackets', () => {
    const table: [string, string, string, number[]][] = [
      ['balanced', '', 'f(a[1])', []],
      ['one unmatched )', '', 'a))', [1, 2]],
      ['closers inside strings are text', '', '")" + \')\'', []],
      ['an escaped quote does not end a string', '', '"a\\")"', []],
      ['a string opened before ends with an unmatched quote', '"', 'abc")', [3, 4]],
      ['a triple-quoted string spans lines', '', '"""\n)\n"""', []],
      ['a one-quote string ends at the newline', '', '"abc\n)', [5]],
    ];
    for (const [name, quote, text, unmatched] of table) {
      it(name, () => assert.deepEqual([...scanBrackets(text, quote).unmatched], unmatched));
    }
  });

  describe('indentationBlockEnd', () => {
    // [line before the cursor, suggestion with ✂ where it should end]
    const table: [string, string][] = [
      ['    ', 'return 1✂\ndef g():'],
      ['def f():', '\n    a = 1\n    return a✂\nprint(1)'],
      ['    return x', '\n\ndef g():\n    pass✂\n\ndef h():'],
      ['  ', 'if (a) {\n    b();\n  }\n  c();\n}✂\nfunction g() {'],
      ['  ', 'a();\n} else {\n  b();\n}✂\nnext();'],
      ['f(', '\n  a,\n  b,\n);✂\ng();'],
      ['  ', 'x = 1\nend✂\nfoo'],
      ['  ', 'a\n\n  b\n\n  c'],
      ['\t', 'a\n\tb✂\nc'],
    ];
    for (const [before, marked] of table) {
      it(JSON.stringify(before + marked).slice(0, 60), () => {
        const suggestion = marked.replace('✂', '');
        const want = marked.includes('✂') ? marked.slice(0, marked.indexOf('✂')) : marked;
        assert.equal(suggestion.slice(0, indentationBlockEnd(suggestion, before, 4)).trimEnd(), want.trimEnd());
      });
    }
  });
});
