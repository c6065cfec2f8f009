// The Explain view's page: a strict Content-Security-Policy, the answer as Markdown rendered here in
// the extension host (raw HTML off; markdownStream.ts renders only what is new), and a tiny nonce'd
// script that applies each new state. Pure.

import type { AnsweredBy } from '../commands/types';
import { markdown, type AnswerPatch } from './markdownStream';

export interface ExplainState {
  /** What is being explained, e.g. "src/shapes.ts:12–30". */
  title: string;
  running: boolean;
  /** Progress while running ("Waiting for the local model…"); empty when done. */
  status: string;
  /** The answer so far, as Markdown. */
  markdown: string;
  /** "Answered by …" once done; empty before. */
  footer: string;
  notices: string[];
  error: string;
}

/** What the page's script receives: the state, with the answer as a patch of rendered HTML. */
export interface ExplainMessage extends Omit<ExplainState, 'markdown'> {
  type: 'state';
  answer: AnswerPatch;
}

/** The whole answer rendered at once (the page's first HTML); a stream sends `patch`es instead. */
export function toMessage(state: ExplainState, patch?: AnswerPatch): ExplainMessage {
  const { markdown: text, ...rest } = state;
  return { type: 'state', ...rest, answer: patch ?? { reset: true, append: markdown.render(text), tail: '' } };
}

export function answeredByText(by: AnsweredBy, totalMs: number): string {
  const who = by.kind === 'local' ? `the local model ${by.model}` : `the cloud model ${by.model} @ ${by.host}`;
  return `Answered by ${who} in ${Math.round(totalMs).toLocaleString('en-US')} ms`;
}

export function explainPageHtml(state: ExplainState, cspSource: string, nonce: string): string {
  const m = toMessage(state);
  const csp = [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    // No remote images: a Markdown image must not call home.
    `img-src ${cspSource} data:`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="${nonce}">${STYLE}</style>
<title>Flashcode: Explain</title></head>
<body data-running="${m.running}">
<header><h1 id="title">${escapeHtml(m.title)}</h1><button id="cancel" type="button"${m.running ? '' : ' hidden'}>Cancel</button></header>
<p id="status" class="status">${escapeHtml(m.status)}</p>
<p id="error" class="error"${m.error ? '' : ' hidden'}>${escapeHtml(m.error)}</p>
<main id="answer" class="answer"><div id="answer-done">${m.answer.append}</div><div id="answer-tail"></div></main>
<ul id="notices" class="notices">${m.notices.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>
<footer id="footer" class="footer">${escapeHtml(m.footer)}</footer>
<script nonce="${nonce}">${SCRIPT}</script>
</body></html>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 16px 16px; }
header { display: flex; align-items: center; gap: 12px; }
h1 { font-size: 1.1em; flex: 1; }
button { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); border: none; padding: 4px 10px; cursor: pointer; }
.status { color: var(--vscode-descriptionForeground); min-height: 1.2em; }
.error { color: var(--vscode-errorForeground); }
.answer { overflow-wrap: anywhere; }
pre { background: var(--vscode-textCodeBlock-background); padding: 8px; overflow-x: auto; }
code { font-family: var(--vscode-editor-font-family); }
.notices { color: var(--vscode-editorWarning-foreground); }
.footer { color: var(--vscode-descriptionForeground); border-top: 1px solid var(--vscode-panel-border); margin-top: 12px; padding-top: 6px; }`;

// A string, so no bundler or test tool rewrites it.
const SCRIPT = `
const vscode = acquireVsCodeApi();
const el = (id) => document.getElementById(id);
window.addEventListener('message', (event) => {
  const s = event.data;
  if (!s || s.type !== 'state') return;
  const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
  el('title').textContent = s.title;
  el('status').textContent = s.status;
  el('error').textContent = s.error;
  el('error').hidden = !s.error;
  if (s.answer.reset) el('answer-done').replaceChildren();
  if (s.answer.append) el('answer-done').insertAdjacentHTML('beforeend', s.answer.append);
  el('answer-tail').innerHTML = s.answer.tail;
  el('notices').replaceChildren(...s.notices.map((n) => { const li = document.createElement('li'); li.textContent = n; return li; }));
  el('footer').textContent = s.footer;
  el('cancel').hidden = !s.running;
  document.body.dataset.running = String(s.running);
  if (atBottom && s.running) window.scrollTo(0, document.body.scrollHeight);
});
el('cancel').addEventListener('click', () => vscode.postMessage({ type: 'cancel' }));
vscode.postMessage({ type: 'ready' });`;
