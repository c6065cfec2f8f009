// The Explain view: one webview panel beside the editor, reused by each Explain. The answer streams
// in, rendered incrementally (markdownStream.ts) at most every THROTTLE_MS, and less often when a
// render costs more (a huge unfinished code block): the extension host's thread is shared by every
// extension. Cancel in the page or the command aborts the run.

import crypto from 'node:crypto';
import * as vscode from 'vscode';
import type { TaskResult } from '../commands/types';
import { answeredByText, explainPageHtml, toMessage, type ExplainState } from './explainHtml';
import { MarkdownStream } from './markdownStream';

const THROTTLE_MS = 50;
/** Streaming renders may take at most 1/RENDER_SHARE of the host thread's time. */
const RENDER_SHARE = 10;

/** One Explain in the panel. Calls after a newer run started are ignored. */
export interface ExplainRun {
  readonly signal: AbortSignal;
  status(text: string): void;
  /** Drops the text streamed so far (a cloud failure falls back to local, which starts over). */
  restart(status: string): void;
  append(delta: string): void;
  finish(result: TaskResult): void;
  fail(message: string): void;
}

export class ExplainPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private state: ExplainState = { title: '', running: false, status: '', markdown: '', footer: '', notices: [], error: '' };
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private runId = 0;
  private answer = new MarkdownStream();
  private throttleMs = THROTTLE_MS;
  /** The page has the answer so far (false until it says 'ready', e.g. after a reload). */
  private pageCurrent = false;

  /** Aborts a running Explain; false when none runs. */
  cancel(): boolean {
    if (!this.controller || this.controller.signal.aborted) return false;
    this.controller.abort();
    return true;
  }

  start(title: string, status: string): ExplainRun {
    this.cancel();
    const id = ++this.runId;
    const controller = new AbortController();
    this.controller = controller;
    this.state = { title, running: true, status, markdown: '', footer: '', notices: [], error: '' };
    this.throttleMs = THROTTLE_MS;
    this.open();
    this.flush();
    const mine = () => id === this.runId;
    const update = (change: Partial<ExplainState>, now = true) => {
      if (!mine()) return;
      this.state = { ...this.state, ...change };
      if (now) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.throttleMs);
    };
    return {
      signal: controller.signal,
      status: (text) => update({ status: text }),
      restart: (text) => update({ status: text, markdown: '' }),
      append: (delta) => update({ markdown: this.state.markdown + delta }, false),
      finish: (result) => update({
        running: false, status: '', markdown: result.text, notices: result.notices,
        footer: answeredByText(result.answeredBy, result.totalMs),
      }),
      fail: (message) => update({ running: false, status: controller.signal.aborted ? 'Cancelled.' : '', error: controller.signal.aborted ? '' : message }),
    };
  }

  dispose(): void {
    this.cancel();
    clearTimeout(this.timer);
    this.panel?.dispose();
  }

  private open(): void {
    if (this.panel) {
      // Never on top of the code being explained.
      const codeColumn = vscode.window.activeTextEditor?.viewColumn;
      this.panel.reveal(codeColumn !== undefined && this.panel.viewColumn === codeColumn ? vscode.ViewColumn.Beside : undefined, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel('flashcode.explain', 'Flashcode: Explain',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [] });
    this.pageCurrent = false;
    panel.webview.html = explainPageHtml({ ...this.state, markdown: '' }, panel.webview.cspSource, crypto.randomBytes(16).toString('base64'));
    panel.webview.onDidReceiveMessage((message: { type?: string }) => {
      if (message?.type === 'ready') { this.pageCurrent = false; this.flush(); }
      if (message?.type === 'cancel') this.cancel();
    });
    panel.onDidDispose(() => {
      this.cancel();
      this.panel = undefined;
    });
    this.panel = panel;
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.panel) return;
    this.panel.title = this.state.running ? `Explain: ${this.state.title} …` : `Explain: ${this.state.title}`;
    const started = performance.now();
    const { markdown, running } = this.state;
    const patch = this.pageCurrent ? this.answer.update(markdown, !running) : this.answer.snapshot(markdown, !running);
    this.throttleMs = Math.max(THROTTLE_MS, (performance.now() - started) * RENDER_SHARE);
    this.pageCurrent = true;
    void this.panel.webview.postMessage(toMessage(this.state, patch));
  }
}
