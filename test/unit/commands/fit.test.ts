import assert from 'node:assert/strict';
import { cutText } from '../../../src/commands/cut';
import { fitPrompt } from '../../../src/commands/fit';
import { buildLocalPrompt } from '../../../src/commands/prompts';
import type { TaskInput } from '../../../src/commands/types';

/** One token per 4 characters, rounded up: a stand-in tokenizer with predictable counts. */
const tokensOf = (text: string) => Math.ceil(text.length / 4);
const count = async (text: string) => tokensOf(text);
const lines = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix} line ${String(i).padStart(3, '0')}\n`).join('');

const code = lines('code', 40); // 40 lines × 14 chars = 140 tokens
const task = (over: Partial<TaskInput> = {}): TaskInput => ({
  kind: 'explain',
  target: { code, languageId: 'typescript', fileName: 'src/a.ts', start: 0, end: code.length },
  context: [
    { label: 'the rest of a.ts', fileName: 'src/a.ts', text: lines('rest', 60) }, // 210 tokens
    { label: 'open file b.ts', fileName: 'src/b.ts', text: lines('open', 40) }, // 140 tokens
  ],
  ...over,
});
const full = tokensOf(buildLocalPrompt(task()));

describe('fitPrompt', () => {
  const cases: { name: string; budget: number; input?: TaskInput; context: string[]; notices: RegExp[]; codeCut: boolean }[] = [
    { name: 'within budget: untouched, no notices', budget: full, context: ['the rest of a.ts', 'open file b.ts'], notices: [], codeCut: false },
    { name: 'a little over: cuts the middle of the last chunk', budget: full - 50, context: ['the rest of a.ts', 'open file b.ts'], notices: [/^left out: part of open file b\.ts \(\d+ tokens\)$/], codeCut: false },
    { name: 'over by about the last chunk: drops it whole', budget: full - 130, context: ['the rest of a.ts'], notices: [/^left out: open file b\.ts \(140 tokens\)$/], codeCut: false },
    {
      name: 'over by more: drops the last, cuts the first',
      budget: full - 200,
      context: ['the rest of a.ts'],
      notices: [/^left out: open file b\.ts \(140 tokens\)$/, /^left out: part of the rest of a\.ts/],
      codeCut: false,
    },
    {
      name: 'no room for any context: the middle of the code goes last',
      budget: full - 400,
      context: [],
      notices: [/left out: open file b\.ts/, /left out: the rest of a\.ts \(210 tokens\)/, /^left out: \d+ lines from the middle of the code \(\d+ tokens\)$/],
      codeCut: true,
    },
    {
      name: 'refactor: the code notice warns about the diff',
      budget: full - 400,
      input: task({ kind: 'refactor', instruction: 'simplify' }),
      context: [],
      notices: [/b\.ts/, /a\.ts/, /middle of the code .* review the diff before applying$/],
      codeCut: true,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const input = c.input ?? task();
      const fitted = await fitPrompt(input, c.budget, buildLocalPrompt, count);
      const prompt = buildLocalPrompt(fitted.input);
      assert.ok(fitted.tokens <= c.budget, `${fitted.tokens} > ${c.budget}`);
      assert.equal(fitted.tokens, await count(prompt));
      assert.deepEqual(fitted.input.context.map((x) => x.label), c.context);
      assert.equal(fitted.notices.length, c.notices.length, fitted.notices.join('\n'));
      c.notices.forEach((re, i) => assert.match(fitted.notices[i], re));
      const target = fitted.input.target.code;
      if (c.codeCut) {
        assert.match(target, /^code line 000\n[^]*… \(\d+ lines left out\) …\n[^]*code line 039\n$/);
      } else {
        assert.equal(target, code);
      }
    });
  }

  it('keeps both ends of a cut chunk: the imports at the top and the lines next to the code', async () => {
    const fitted = await fitPrompt(task(), full - 50, buildLocalPrompt, count);
    assert.match(fitted.input.context[1].text, /^open line 000\n[^]*… \(\d+ lines left out\) …\n[^]*open line 039\n$/);
  });

  it('lands within every budget from generous to tiny, and uses most of it', async () => {
    for (let budget = full; budget >= 100; budget -= 17) {
      const fitted = await fitPrompt(task(), budget, buildLocalPrompt, count);
      assert.ok(fitted.tokens <= budget, `budget ${budget}: ${fitted.tokens}`);
      assert.ok(fitted.tokens >= budget - 40, `budget ${budget}: only ${fitted.tokens} used`);
    }
  });

  it('reports the excess instead of looping when even the header does not fit', async () => {
    const fitted = await fitPrompt(task(), 5, buildLocalPrompt, count);
    assert.equal(fitted.input.target.code, '');
    assert.ok(fitted.tokens > 5);
    assert.equal(fitted.notices.at(-1), 'left out: 40 lines from the middle of the code (140 tokens)');
  });
});

describe('cutText', () => {
  const text = lines('x', 10); // 10 lines of 11 chars
  const cases: { name: string; max: number; keep: 'head' | 'ends'; want: string }[] = [
    { name: 'fits: unchanged', max: 100, keep: 'head', want: text },
    { name: 'head: whole lines from the start', max: 9, keep: 'head', want: lines('x', 3) },
    { name: 'ends: start and end with a marker between', max: 20, keep: 'ends', want: 'x line 000\nx line 001\nx line 002\n… (5 lines left out) …\nx line 008\nx line 009\n' },
    { name: 'nothing fits: empty', max: 0, keep: 'ends', want: '' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const cut = await cutText(text, await count(text), c.max, c.keep, count);
      assert.equal(cut.text, c.want);
      assert.equal(cut.tokens, await count(c.want));
    });
  }
  it('cuts inside a single long line when there is no line end', async () => {
    const one = 'a'.repeat(400);
    const cut = await cutText(one, 100, 10, 'head', count);
    assert.equal(cut.text, 'a'.repeat(40));
  });
});
