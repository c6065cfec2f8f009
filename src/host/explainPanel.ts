// The Explain view: one webview panel beside the editor, reused by each Explain. The answer streams
// in (re-rendered at most every THROTTLE_MS); Cancel in the page or the command aborts the run.

import crypto from 'node:crypto';
import * as vscode from 'vscode';
import type { TaskResult } from '../commands/types';
import { answeredByText, explainPageHtml, toMessage, type ExplainState } from './explainHtml';

const THROTTLE_MS = 50;

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
    this.open();
    this.flush();
    const mine = () => id === this.runId;
    const update = (change: Partial<ExplainState>, now = true) => {
      if (!mine()) return;
      this.state = { ...this.state, ...change };
      if (now) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), THROTTLE_MS);
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
    panel.webview.html = explainPageHtml(this.state, panel.webview.cspSource, crypto.randomBytes(16).toString('base64'));
    panel.webview.onDidReceiveMessage((message: { type?: string }) => {
      if (message?.type === 'ready') this.flush();
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
    void this.panel.webview.postMessage(toMessage(this.state));
  }
}
