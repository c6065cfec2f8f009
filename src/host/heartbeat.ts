// Whether Flashcode keeps the extension host responsive while the user types. The host thread is
// shared by every extension; inference runs in a worker, and what stays on this thread (the inline
// provider, the pipeline, the worker's messages) must never hold it for more than 20 ms. A heartbeat
// runs while the user types in the active editor and for a few seconds after (the last requests,
// their engine calls and the prefetch run then); each such window that made completion requests
// ends in one log line, which the end-to-end test reads.

import * as vscode from 'vscode';
import { Heartbeat, heartbeatLogLine, TYPING_QUIET_MS } from '../common/heartbeat';
import type { PipelineStats } from '../completion/types';
import type { OutputLog } from './output';

export class TypingHeartbeat implements vscode.Disposable {
  private readonly heartbeat = new Heartbeat();
  private readonly listener: vscode.Disposable;
  private quietTimer: ReturnType<typeof setTimeout> | undefined;
  private requestsAtStart = 0;

  /** `stats`: the loaded pipeline's running totals, undefined while no model is loaded. */
  constructor(
    private readonly log: Pick<OutputLog, 'info'>,
    private readonly stats: () => PipelineStats | undefined,
    private readonly quietMs = TYPING_QUIET_MS,
  ) {
    this.listener = vscode.workspace.onDidChangeTextDocument((event) => {
      if (event.contentChanges.length > 0 && event.document === vscode.window.activeTextEditor?.document) this.typed();
    });
  }

  dispose(): void {
    this.listener.dispose();
    clearTimeout(this.quietTimer);
    this.heartbeat.stop();
  }

  private typed(): void {
    if (!this.heartbeat.running) {
      this.requestsAtStart = this.stats()?.requests ?? 0;
      this.heartbeat.start();
    }
    clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.windowEnded(), this.quietMs);
  }

  private windowEnded(): void {
    const summary = this.heartbeat.stop();
    // A model loaded during the window brings a pipeline whose totals start again at 0.
    const requests = Math.max(0, (this.stats()?.requests ?? 0) - this.requestsAtStart);
    if (summary && requests > 0) this.log.info(heartbeatLogLine({ ...summary, requests }));
  }
}
