// The Explain view's render cost on the extension host thread, for one huge answer (default 10 MB):
// the old way (the whole answer through markdown-it on every 50 ms flush) against the incremental
// stream (src/host/markdownStream.ts), side by side in one process. Prints JSON.
//   npx tsx bench/explainRender.ts [--mb 10] [--flushes 200]
import { markdown, MarkdownStream } from '../src/host/markdownStream';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const bytes = arg('mb', 10) * 1024 * 1024;
const flushes = arg('flushes', 200);
const blocks = [
  '## Step\n', 'The function `area` takes a radius and returns a number; it is called once per shape.\n',
  '```ts\nfunction area(r: number) {\n\n  return Math.PI * r * r;\n}\n```\n', '- one\n- two\n',
];
let text = '';
for (let i = 0; text.length < bytes; i++) text += blocks[i % blocks.length] + '\n';
text = text.slice(0, bytes);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (f: () => void) => { const t0 = performance.now(); f(); return performance.now() - t0; };

// Old: one whole render per flush; its cost at the answer's full size (3 runs), and at the sizes
// the stream passes through, sampled (the sum over every flush would take minutes).
const oldFull = median([0, 1, 2].map(() => time(() => markdown.render(text))));
const step = Math.ceil(text.length / flushes);
const sampleEvery = Math.max(1, Math.floor(flushes / 10));
let oldSampled = 0;
for (let f = sampleEvery; f <= flushes; f += sampleEvery) oldSampled += time(() => markdown.render(text.slice(0, f * step)));
const oldTotalEstimate = oldSampled * sampleEvery;

// New: every flush through the incremental stream, the last one final.
const stream = new MarkdownStream();
const perFlush: number[] = [];
for (let f = 1; f <= flushes; f++) {
  const end = Math.min(text.length, f * step);
  perFlush.push(time(() => stream.update(text.slice(0, end), end === text.length)));
}
console.log(JSON.stringify({
  answerBytes: text.length, flushes,
  old: { renderAtFullSizeMs: Math.round(oldFull), totalOverStreamMsEstimate: Math.round(oldTotalEstimate) },
  incremental: {
    medianFlushMs: +median(perFlush).toFixed(2), maxFlushMs: +Math.max(...perFlush).toFixed(1),
    totalOverStreamMs: Math.round(perFlush.reduce((a, b) => a + b, 0)),
  },
}));
