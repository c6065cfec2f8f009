import assert from 'node:assert/strict';
import { comparedText, editSimilarity, firstLine, levenshtein, scoreCompletion } from '../../../src/eval/score';
import type { TaskKind } from '../../../src/eval/tasks';

describe('eval score', () => {
  describe('scoreCompletion', () => {
    const cases: Array<{ name: string; completion: string; expected: string; kind: TaskKind; got: string; exact: 0 | 1; similarity: number }> = [
      { name: 'equal', completion: 'return x;', expected: 'return x;', kind: 'single-line', got: 'return x;', exact: 1, similarity: 1 },
      { name: 'whitespace at both ends ignored', completion: '  return x;\t ', expected: '\nreturn x;  ', kind: 'single-line', got: 'return x;', exact: 1, similarity: 1 },
      { name: 'single-line: only the first line counts', completion: 'return x;\n}\nfoo()', expected: 'return x;', kind: 'single-line', got: 'return x;', exact: 1, similarity: 1 },
      { name: 'single-line: CRLF line end', completion: 'return x;\r\n}', expected: 'return x;', kind: 'single-line', got: 'return x;', exact: 1, similarity: 1 },
      { name: 'single-line: a completion starting with a line break has an empty first line', completion: '\nreturn x;', expected: 'return x;', kind: 'single-line', got: '', exact: 0, similarity: 0 },
      { name: 'multi-line: all of it counts', completion: 'a\nb\nc', expected: 'a\nb', kind: 'multi-line', got: 'a\nb\nc', exact: 0, similarity: 0.6 },
      { name: 'multi-line: equal after trimming the ends', completion: '  if (x) {\n    y();\n  }\n\n', expected: 'if (x) {\n    y();\n  }', kind: 'multi-line', got: 'if (x) {\n    y();\n  }', exact: 1, similarity: 1 },
      { name: 'inner whitespace counts', completion: 'a  b', expected: 'a b', kind: 'single-line', got: 'a  b', exact: 0, similarity: 0.75 },
      { name: 'case counts', completion: 'True', expected: 'true', kind: 'single-line', got: 'True', exact: 0, similarity: 0.75 },
      { name: 'empty completion', completion: '', expected: 'x = 1', kind: 'single-line', got: '', exact: 0, similarity: 0 },
      { name: 'both empty', completion: '  ', expected: '', kind: 'single-line', got: '', exact: 1, similarity: 1 },
      { name: 'unicode: an astral character is one edit', completion: 'emoji = "😀"', expected: 'emoji = "😃"', kind: 'single-line', got: 'emoji = "😀"', exact: 0, similarity: 1 - 1 / 11 },
      { name: 'unicode: accented letters', completion: 'naïve', expected: 'naive', kind: 'single-line', got: 'naïve', exact: 0, similarity: 0.8 },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const score = scoreCompletion(c.completion, c.expected, c.kind);
        assert.equal(score.got, c.got);
        assert.equal(score.exact, c.exact);
        assert.ok(Math.abs(score.editSimilarity - c.similarity) < 1e-12, `${score.editSimilarity} ≈ ${c.similarity}`);
      });
    }
  });

  it('firstLine and comparedText', () => {
    assert.equal(firstLine('a\nb'), 'a');
    assert.equal(firstLine('a'), 'a');
    assert.equal(firstLine(''), '');
    assert.equal(comparedText('  a \n b ', 'single-line'), 'a');
    assert.equal(comparedText('  a \n b ', 'multi-line'), 'a \n b');
  });

  const distances: Array<[string, string, number]> = [
    ['', '', 0], ['abc', '', 3], ['', 'abc', 3], ['kitten', 'sitting', 3], ['flaw', 'lawn', 2],
    ['abc', 'abc', 0], ['ab', 'ba', 2], ['😀a', 'a', 1],
  ];
  for (const [a, b, want] of distances) {
    it(`levenshtein(${JSON.stringify(a)}, ${JSON.stringify(b)}) = ${want}, both ways`, () => {
      assert.equal(levenshtein(Array.from(a), Array.from(b)), want);
      assert.equal(levenshtein(Array.from(b), Array.from(a)), want);
    });
  }

  it('edit similarity stays in [0, 1]', () => {
    assert.equal(editSimilarity('', ''), 1);
    assert.equal(editSimilarity('abc', 'xyz'), 0);
    assert.equal(editSimilarity('kitten', 'sitting'), 1 - 3 / 7);
  });
});
