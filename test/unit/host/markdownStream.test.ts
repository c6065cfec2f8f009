import assert from 'node:assert/strict';
import { FULL_RENDER_MAX_CHARS, markdown, MarkdownStream, type AnswerPatch } from '../../../src/host/markdownStream';

/** The page's two containers, as the page script applies patches to them. */
function page() {
  let done = '';
  let tail = '';
  return {
    apply(p: AnswerPatch) { if (p.reset) done = ''; done += p.append; tail = p.tail; },
    get html() { return done + tail; },
  };
}

const BLOCKS = [
  '# Area of a circle\n', 'The function `area` takes a radius.\nIt returns a number.\n',
  '```ts\nfunction area(r: number) {\n\n  return Math.PI * r * r;\n}\n```\n', '> quoted\n> more\n',
  '~~~~\nA fence with ``` inside\n\n~~~\nstill code\n~~~~\n', 'Last paragraph with *emphasis*.\n',
];

function streamed(text: string, chunk: number, final = true) {
  const stream = new MarkdownStream();
  const p = page();
  let sentChars = 0;
  for (let i = chunk; i < text.length + chunk; i += chunk) {
    const patch = stream.update(text.slice(0, i), final && i >= text.length);
    sentChars += patch.append.length + patch.tail.length;
    p.apply(patch);
  }
  return { html: p.html, sentChars };
}

describe('markdownStream: the Explain answer rendered incrementally', () => {
  it('block by block it renders exactly what a whole render does (fences with blank lines stay whole)', () => {
    const text = BLOCKS.join('\n');
    for (const chunk of [1, 3, 17, 1000]) assert.equal(streamed(text, chunk, false).html, markdown.render(text), `chunk ${chunk}`);
  });

  it('a finished answer is rendered whole once more, so lists split by blank lines read right', () => {
    const text = '1. one\n\n2. two\n\n[a link][r]\n\n[r]: https://example.com\n';
    assert.equal(streamed(text, 5).html, markdown.render(text));
  });

  it('streaming 1 MB costs O(answer), not O(answer²): sent HTML stays within a few times the answer', () => {
    const text = Array.from({ length: 3000 }, (_, i) => BLOCKS[i % BLOCKS.length]).join('\n').slice(0, FULL_RENDER_MAX_CHARS * 4);
    const t0 = performance.now();
    const { html, sentChars } = streamed(text, 500);
    const ms = performance.now() - t0;
    assert.ok(sentChars < 4 * html.length, `${sentChars} chars sent for ${html.length} of HTML`);
    assert.ok(html.includes('Last paragraph with <em>emphasis</em>.'));
    assert.ok(ms < 20_000, `${ms} ms`);
  });

  it('a restart (text that no longer extends what was shown) resets the page', () => {
    const stream = new MarkdownStream();
    stream.update('Para one.\n\nPara two.\n');
    const patch = stream.update('Other.\n');
    assert.equal(patch.reset, true);
    assert.equal(patch.append + patch.tail, markdown.render('Other.\n'));
  });
});
