import assert from 'node:assert/strict';
import { pickTarget, TARGET_MAX_CHARS, WHOLE_FILE_MAX_CHARS } from '../../../src/context/target';

/** Text with ❚ for the cursor, or «…» around the selection. */
function query(marked: string, scope?: [number, number]) {
  const selStart = marked.includes('«') ? marked.indexOf('«') : marked.indexOf('❚');
  const text = marked.replace(/[«»❚]/g, '');
  const selEnd = marked.includes('»') ? marked.indexOf('»') - 1 : selStart;
  return { text, selectionStart: selStart, selectionEnd: selEnd, scope: scope && { start: scope[0], end: scope[1], kind: 'function_declaration' } };
}

function picked(marked: string, scope?: [number, number]): string {
  const q = query(marked, scope);
  const pick = pickTarget(q);
  return pick.start === undefined ? `message: ${pick.message}` : `${pick.source}: ${q.text.slice(pick.start, pick.end)}`;
}

describe('target: selection, else scope, else a small file', () => {
  const table: [string, string, [number, number]?][] = [
    ['a = 1\n«b = 2»\nc = 3\n', 'selection: b = 2'],
    ['a = 1\n«b = 2»\nc = 3\n', 'selection: b = 2', [0, 5]],
    ['x\n«  \n  »\ny', 'file: x\n  \n  \ny'],
    ['function f() { ❚ }\nz', 'scope: function f() {  }', [0, 17]],
    ['\n\nlet a = 1❚;\n\n', 'file: let a = 1;'],
    ['❚', 'message: The file is empty: there is no code to work on.'],
    ['  \n❚\n', 'message: The file is empty: there is no code to work on.'],
    [`${'x'.repeat(WHOLE_FILE_MAX_CHARS + 1)}❚`, 'message: Select the code first, or put the cursor inside a function or class.'],
    [`«${'x'.repeat(TARGET_MAX_CHARS + 1)}»`, 'message: The code to work on is 1.0 MB; select at most 1 MB (a function, a class, a few screens).'],
  ];
  for (const [marked, want, scope] of table) {
    it(`${JSON.stringify(marked.slice(0, 30))}${scope ? ' with a scope' : ''} → ${want.split('\n')[0]}`, () => {
      assert.equal(picked(marked, scope), want);
    });
  }
});
