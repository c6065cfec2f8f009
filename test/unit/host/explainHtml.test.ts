import assert from 'node:assert/strict';
import { answeredByText, explainPageHtml, toMessage, type ExplainState } from '../../../src/host/explainHtml';

const STATE: ExplainState = {
  title: 'shapes.ts:3–9', running: true, status: 'Waiting for the local model…', markdown: '', footer: '', notices: [], error: '',
};

describe('explain view page', () => {
  it('renders Markdown, and model-written HTML only as text', () => {
    const m = toMessage({ ...STATE, markdown: '# Area\n\nUses `Math.PI`.\n\n<script>alert(1)</script><img src=x onerror=alert(1)>' });
    assert.match(m.answer.append, /<h1>Area<\/h1>/);
    assert.match(m.answer.append, /<code>Math.PI<\/code>/);
    assert.doesNotMatch(m.answer.append, /<script|<img/);
    assert.match(m.answer.append, /&lt;script&gt;/);
  });

  it('refuses javascript: links', () => {
    assert.doesNotMatch(toMessage({ ...STATE, markdown: '[x](javascript:alert(1))' }).answer.append, /href="javascript:/);
  });

  it('has a strict CSP: nonce-only scripts and styles, no remote images', () => {
    const html = explainPageHtml(STATE, 'https://webview.example', 'N0NCE');
    const csp = /Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-N0NCE'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https:(?!\/\/webview)/);
    assert.equal(html.match(/<script/g)?.length, 1);
    assert.match(html, /<script nonce="N0NCE">/);
  });

  it('has stable ids for the title, answer, notices, footer and cancel button', () => {
    const html = explainPageHtml({ ...STATE, notices: ['left out: <b>x</b>'], footer: 'Answered by …' }, 'c', 'n');
    for (const id of ['title', 'status', 'error', 'answer', 'notices', 'footer', 'cancel']) assert.match(html, new RegExp(`id="${id}"`));
    assert.match(html, /<li>left out: &#60;b&#62;x&#60;\/b&#62;<\/li>/);
    assert.match(html, /data-running="true"/);
  });

  it('says which model answered and how long it took', () => {
    assert.equal(answeredByText({ kind: 'local', model: 'Tiny' }, 1234.4), 'Answered by the local model Tiny in 1,234 ms');
    assert.equal(answeredByText({ kind: 'cloud', model: 'gpt-4o-mini', host: 'api.openai.com' }, 88), 'Answered by the cloud model gpt-4o-mini @ api.openai.com in 88 ms');
  });
});
