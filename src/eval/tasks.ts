// The fill-in-the-middle task file: JSONL, one task a line,
// {"language": "python", "prefix": "…", "suffix": "…", "expected": "…"}, optionally with "kind",
// "id" and any other fields (ignored). Parsing is strict: a line that is not a task is an error
// naming the line, never skipped, since a silently shorter task set would change the score.

export type TaskKind = 'single-line' | 'multi-line';

const KINDS: readonly string[] = ['single-line', 'multi-line'] satisfies TaskKind[];

export interface EvalTask {
  /** The task's own "id", else `line N`. */
  id: string;
  /** 1-based line of the task file. */
  line: number;
  language: string;
  prefix: string;
  suffix: string;
  expected: string;
  /** Given, or single-line when `expected` (trimmed) holds no line break. */
  kind: TaskKind;
}

export class TaskFileError extends Error {
  override name = 'TaskFileError';
}

/** Every task in `text`; blank lines are allowed. `source` names the file in errors. */
export function parseTasks(text: string, source: string): EvalTask[] {
  const tasks: EvalTask[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() !== '') tasks.push(parseTask(line, index + 1, `${source} line ${index + 1}`));
  });
  if (tasks.length === 0) {
    throw new TaskFileError(`${source} holds no tasks — expected one JSON object a line with "language", "prefix", "suffix" and "expected"`);
  }
  return tasks;
}

function parseTask(text: string, line: number, where: string): EvalTask {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TaskFileError(`${where}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TaskFileError(`${where}: expected a JSON object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
  }
  const record = value as Record<string, unknown>;
  const field = (name: string): string => {
    const v = record[name];
    if (typeof v === 'string') return v;
    throw new TaskFileError(`${where}: "${name}" ${v === undefined ? 'is missing' : `must be a string, got ${JSON.stringify(v)}`} — every task needs the strings "language", "prefix", "suffix" and "expected"`);
  };
  const language = field('language');
  if (language.trim() === '') throw new TaskFileError(`${where}: "language" is empty`);
  const prefix = field('prefix');
  const suffix = field('suffix');
  const expected = field('expected');
  const multiLine = expected.trim().includes('\n');

  let kind: TaskKind = multiLine ? 'multi-line' : 'single-line';
  if (record.kind !== undefined) {
    if (typeof record.kind !== 'string' || !KINDS.includes(record.kind)) {
      throw new TaskFileError(`${where}: "kind" must be "single-line" or "multi-line", got ${JSON.stringify(record.kind)}`);
    }
    kind = record.kind as TaskKind;
    if (kind === 'single-line' && multiLine) throw new TaskFileError(`${where}: "kind" is single-line but "expected" has several lines`);
  }

  const id = record.id;
  if (id !== undefined && typeof id !== 'string' && typeof id !== 'number') {
    throw new TaskFileError(`${where}: "id" must be a string or a number, got ${JSON.stringify(id)}`);
  }
  return { id: id === undefined ? `line ${line}` : String(id), line, language, prefix, suffix, expected, kind };
}
