import assert from 'node:assert/strict';
import { buildLocalParts, buildLocalPrompt, buildMessages, fence, localPromptText } from '../../../src/commands/prompts';
import { screenExcluded } from '../../../src/commands/screen';
import type { TaskInput } from '../../../src/commands/types';
import { DEFAULT_EXCLUDE_PATTERNS } from '../../../src/privacy/exclude';

const code = 'function add(a, b) {\n\n  return a + b;\n}\n';
const task = (over: Partial<TaskInput> = {}): TaskInput => ({
  kind: 'explain',
  target: { code, languageId: 'typescript', fileName: 'src/math.ts', start: 10, end: 10 + code.length },
  context: [
    { label: 'the rest of math.ts', fileName: 'src/math.ts', text: 'export const PI = 3.14;\n' },
    { label: 'open file util.ts', fileName: 'src/util.ts', text: 'export function id(x) { return x; }' },
  ],
  ...over,
});

describe('buildMessages', () => {
  const cases: { name: string; input: TaskInput; system: RegExp; user: (string | RegExp)[] }[] = [
    {
      name: 'explain: Markdown explanation, context then code',
      input: task(),
      system: /Explain the code.*Markdown/,
      user: ['Context: the rest of math.ts (src/math.ts)\n```typescript\nexport const PI', '```typescript\n' + code + '```', /Explain this code\.$/],
    },
    {
      name: 'refactor: code only, in one fenced block, with the instruction',
      input: task({ kind: 'refactor', instruction: 'add types' }),
      system: /replacement code only, in one fenced code block/,
      user: [/Instruction: add types$/, 'Code from src/math.ts (typescript):'],
    },
    {
      name: 'refactor without an instruction still says what to do',
      input: task({ kind: 'refactor', instruction: '  ' }),
      system: /Rewrite/,
      user: [/Instruction: improve this code/],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const messages = buildMessages(c.input);
      assert.deepEqual(messages.map((m) => m.role), ['system', 'user']);
      assert.match(messages[0].content, c.system);
      for (const want of c.user) {
        if (typeof want === 'string') assert.ok(messages[1].content.includes(want), `user message lacks ${JSON.stringify(want)}:\n${messages[1].content}`);
        else assert.match(messages[1].content, want);
      }
    });
  }
  it('orders context as listed, before the code', () => {
    const user = buildMessages(task())[1].content;
    assert.ok(user.indexOf('PI') < user.indexOf('function id') && user.indexOf('function id') < user.indexOf('function add'));
  });
});

describe('fence', () => {
  const cases: [text: string, want: string][] = [
    ['x', '```ts\nx\n```'],
    ['x\n', '```ts\nx\n```'],
    ['a ``` b', '````ts\na ``` b\n````'],
    ['`````', '``````ts\n`````\n``````'],
  ];
  for (const [text, want] of cases) it(`fences ${JSON.stringify(text)}`, () => assert.equal(fence(text, 'ts'), want));
});

describe('buildLocalPrompt', () => {
  it('explain: comment header, context, the code verbatim, an explanation lead-in', () => {
    assert.equal(buildLocalPrompt(task()), [
      '// Flashcode task: explain the typescript code from src/math.ts below.',
      '// Context: the rest of math.ts (src/math.ts)',
      'export const PI = 3.14;',
      '// Context: open file util.ts (src/util.ts)',
      'export function id(x) { return x; }',
      '// Code from src/math.ts:',
      'function add(a, b) {',
      '',
      '  return a + b;',
      '}',
      '// Explanation:',
      '// ',
    ].join('\n'));
  });
  it('refactor in Python: # comments, the instruction, a rewritten-code lead-in', () => {
    const py = task({ kind: 'refactor', instruction: 'simplify', context: [], target: { ...task().target, languageId: 'python', code: 'x = 1', fileName: 'a.py' } });
    assert.equal(buildLocalPrompt(py), '# Flashcode task: rewrite the python code from a.py below. Instruction: simplify\n# Code from a.py:\nx = 1\n# Rewritten code:\n');
  });
});

describe('buildLocalParts', () => {
  it('a model with a chat template gets the cloud messages as system and user, counted as ChatML', () => {
    const [system, user] = buildMessages(task());
    assert.deepEqual(buildLocalParts(task(), { chat: 'chatml' }), { kind: 'chat', system: system.content, user: user.content });
    const text = localPromptText(task(), { chat: 'chatml' });
    assert.ok(text.startsWith(`<|im_start|>system\n${system.content}<|im_end|>\n<|im_start|>user\n`) && text.endsWith('<|im_start|>assistant\n'));
  });
  it('a model without one gets the plain-text prompt', () => {
    assert.deepEqual(buildLocalParts(task(), {}), { kind: 'text', text: buildLocalPrompt(task()) });
    assert.equal(localPromptText(task(), {}), buildLocalPrompt(task()));
  });
});

describe('screenExcluded', () => {
  it('drops context from excluded files with a notice and flags an excluded target', () => {
    const input = task({
      target: { ...task().target, fileName: 'config/.env.local' },
      context: [...task().context, { label: 'open file .env', fileName: '.env', text: 'API_KEY=sk-live-123' }],
    });
    const screened = screenExcluded(input, DEFAULT_EXCLUDE_PATTERNS);
    assert.equal(screened.targetExcluded, true);
    assert.deepEqual(screened.input.context.map((c) => c.fileName), ['src/math.ts', 'src/util.ts']);
    assert.deepEqual(screened.notices, ['left out: open file .env (.env matches flashcode.cloud.exclude)']);
  });
  it('keeps everything when nothing matches', () => {
    const screened = screenExcluded(task(), DEFAULT_EXCLUDE_PATTERNS);
    assert.equal(screened.targetExcluded, false);
    assert.deepEqual(screened.input, task());
    assert.deepEqual(screened.notices, []);
  });
});
