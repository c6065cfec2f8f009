import assert from 'node:assert/strict';
import { fakeVscode } from '../../helpers/fakeVscode';
import { ExplainPanel } from '../../../src/host/explainPanel';

describe('Explain panel: a long answer streams without re-rendering what is shown', () => {
  afterEach(() => { fakeVscode.webviewMessages.length = 0; });

  it('256 KB streamed in 1 KB pieces, each shown: the messages carry O(answer) HTML, and the page ends right', () => {
    const panel = new ExplainPanel();
    const run = panel.start('big.ts:1–9', 'Waiting…');
    const para = (i: number) => `Paragraph ${i} explains a step of the code in some detail, ${'word '.repeat(150)}\n\n`;
    const text = Array.from({ length: 300 }, (_, i) => para(i)).join('').slice(0, 256 * 1024);
    for (let i = 0; i < text.length; i += 1024) {
      run.append(text.slice(i, i + 1024));
      run.status('Answering…'); // shows at once, as a throttled flush would
    }
    run.finish({ text, answeredBy: { kind: 'local', model: 'Tiny' }, totalMs: 1, notices: [] });
    const sent = fakeVscode.webviewMessages.reduce((n: number, m) => n + JSON.stringify(m).length, 0);
    assert.ok(sent < 4 * text.length, `${sent} bytes posted for a ${text.length}-character answer`);
    panel.dispose();
  });
});
