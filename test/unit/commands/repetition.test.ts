import assert from 'node:assert/strict';
import { cutRepetition, findRepetition } from '../../../src/commands/repetition';

const SMOL = 'The debounced function is a function that is passed to the debounced function. ';

describe('findRepetition', () => {
  // [name, text, minRepeats, what is kept (undefined: no loop)]
  const cases: Array<[string, string, number, string | undefined]> = [
    ['SmolLM2 on Explain: one sentence over and over (issue 18)', `It delays calls. ${SMOL.repeat(6)}The deb`, 3, `It delays calls. ${SMOL.trimEnd()}`],
    ['a loop that starts mid-sentence is cut at the end of the sentence', `It wraps the function. ${'A is the function. '.repeat(4)}`, 3, 'It wraps the function. A is the function.'],
    ['two sentences in turn', `Intro. ${'It adds. It returns. '.repeat(3)}`, 3, 'Intro. It adds. It returns.'],
    ['a code line repeated many times', `def f():\n${'    # TODO: simplify this\n'.repeat(32)}`, 4, 'def f():\n    # TODO: simplify this'],
    ['the bundled model\'s short loop: "math/" over and over', `// CodeMirror: https://github.com/${'math/'.repeat(40)}`, 3, "// CodeMirror: https://github.com/math"],
    ['twice is not a loop', `Intro. ${SMOL.repeat(2)}`, 3, undefined],
    ['three code lines alike are allowed where code needs four', `x = [\n${'    [1, 2, 3, 4],\n'.repeat(3)}]\n`, 4, undefined],
    ['closing brackets are too short to count', `f(() => {\n  g(() => {\n    h();\n  });\n});\n${'}\n'.repeat(30)}`, 3, undefined],
    ['nested ends are too short to count', `${'  end\n'.repeat(6)}end\n`, 3, undefined],
    ['a ruler of dashes is not a loop', `# ${'-'.repeat(80)}\nx = 1\n`, 3, undefined],
    ['a short word repeated is too short', 'ha ha ha ha ha ha ha ha ha ha ha ha ha ha ha ha', 3, undefined],
    ['ordinary prose', 'The function waits until calls stop for `ms` milliseconds, then calls `fn` once with the last arguments. Each call resets the timer.', 3, undefined],
    ['ordinary code with similar lines', 'const a = compute(1, "one");\nconst b = compute(2, "two");\nconst c = compute(3, "three");\n', 3, undefined],
    ['empty', '', 3, undefined],
  ];
  for (const [name, text, minRepeats, kept] of cases) {
    it(name, () => {
      const loop = findRepetition(text, { minRepeats });
      assert.equal(loop && text.slice(0, loop.cutAt).trimEnd(), kept);
    });
  }

  it('counts the copies and gives one of them', () => {
    const loop = findRepetition(`Intro. ${SMOL.repeat(5)}`)!;
    assert.equal(loop.repeats, 5);
    assert.equal(loop.unit, ` ${SMOL.trimEnd()}`);
  });

  it('takes linear time in practice: 64 KB of varied text in well under a second', () => {
    const text = Array.from({ length: 3000 }, (_, i) => `line ${i}: value ${(i * 7919) % 1000}\n`).join('').slice(0, 65_536);
    const t0 = performance.now();
    assert.equal(findRepetition(text), undefined);
    assert.ok(performance.now() - t0 < 2_000);
  });
});

describe('cutRepetition', () => {
  it('cuts after the first copy and says why, quoting it', () => {
    const { text, note } = cutRepetition(`It delays calls. ${SMOL.repeat(4)}`);
    assert.equal(text, `It delays calls. ${SMOL.trimEnd()}`);
    assert.match(note!, /^the answer began repeating itself \(“The debounced function is a function that is passed to the …” 4 times\), so it was cut after the first time$/);
  });
  it('leaves a sound answer alone', () => {
    assert.deepEqual(cutRepetition('It adds two numbers.'), { text: 'It adds two numbers.', note: undefined });
  });
});
