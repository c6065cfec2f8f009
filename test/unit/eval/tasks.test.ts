import assert from 'node:assert/strict';
import { parseTasks, TaskFileError } from '../../../src/eval/tasks';

const task = (fields: Record<string, unknown>) => JSON.stringify({ language: 'python', prefix: 'x = ', suffix: '\n', expected: '1', ...fields });

describe('eval task file', () => {
  it('reads every task, tolerating extra fields, blank lines and CRLF', () => {
    const text = [
      task({ id: 'a', source: 'pkg/mod.py', difficulty: 3 }),
      '',
      `${task({ id: 7, kind: 'multi-line', expected: 'a\nb' })}\r`,
      '   ',
      task({ expected: '  y = 2\n' }),
      '',
    ].join('\n');
    const tasks = parseTasks(text, 'tasks.jsonl');
    assert.deepEqual(tasks.map((t) => [t.id, t.line, t.kind]), [['a', 1, 'single-line'], ['7', 3, 'multi-line'], ['line 5', 5, 'single-line']]);
    assert.deepEqual(tasks[0], { id: 'a', line: 1, language: 'python', prefix: 'x = ', suffix: '\n', expected: '1', kind: 'single-line' });
  });

  it('infers the kind from the expected text when none is given', () => {
    const [single, multi, trailing] = parseTasks([task({ expected: 'a' }), task({ expected: 'a\nb' }), task({ expected: 'a\n' })].join('\n'), 'f');
    assert.equal(single.kind, 'single-line');
    assert.equal(multi.kind, 'multi-line');
    assert.equal(trailing.kind, 'single-line');
  });

  it('keeps a multi-line kind for a one-line expected text', () => {
    assert.equal(parseTasks(task({ kind: 'multi-line' }), 'f')[0].kind, 'multi-line');
  });

  const bad: Array<[string, string, RegExp]> = [
    ['not JSON', '{"language": "python",', /not valid JSON/],
    ['an array', '[1, 2]', /expected a JSON object, got an array/],
    ['a string', '"x = 1"', /expected a JSON object, got "x = 1"/],
    ['null', 'null', /expected a JSON object, got null/],
    ['a missing prefix', JSON.stringify({ language: 'python', suffix: '', expected: '' }), /"prefix" is missing/],
    ['a missing expected', JSON.stringify({ language: 'python', prefix: '', suffix: '' }), /"expected" is missing/],
    ['a number as suffix', task({ suffix: 3 }), /"suffix" must be a string, got 3/],
    ['an empty language', task({ language: ' ' }), /"language" is empty/],
    ['an unknown kind', task({ kind: 'block' }), /"kind" must be "single-line" or "multi-line", got "block"/],
    ['single-line kind with several expected lines', task({ kind: 'single-line', expected: 'a\nb' }), /"kind" is single-line but "expected" has several lines/],
    ['an object as id', task({ id: { n: 1 } }), /"id" must be a string or a number/],
  ];
  for (const [name, line, message] of bad) {
    it(`names the line of ${name}`, () => {
      const text = [task({}), '', line, task({})].join('\n');
      assert.throws(() => parseTasks(text, 'tasks.jsonl'), (error: unknown) => {
        assert.ok(error instanceof TaskFileError);
        assert.match(error.message, /^tasks\.jsonl line 3: /);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('refuses a file without tasks', () => {
    assert.throws(() => parseTasks('\n \n', 'empty.jsonl'), /empty\.jsonl holds no tasks/);
  });
});
