// The status bar item: model state, last completion latency; a click toggles completions.

import * as vscode from 'vscode';
import { COMMANDS } from './commandIds';
import type { EngineHost } from './engineHost';
import { describeStatus } from './statusText';

export const TOGGLE_COMMAND = COMMANDS.toggleCompletions;

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('flashcode.status', vscode.StatusBarAlignment.Right, 100);
  private readonly subscription: vscode.Disposable;
  private lastLatencyMs: number | undefined;
  /** Set while a request is on its way to the cloud. */
  private cloudHost: string | undefined;

  constructor(private readonly engineHost: EngineHost, private readonly isEnabled: () => boolean) {
    this.item.name = 'Flashcode';
    this.item.command = TOGGLE_COMMAND;
    this.subscription = engineHost.onDidChange(() => {
      this.lastLatencyMs = undefined;
      this.update();
    });
    this.update();
    this.item.show();
  }

  showLatency(latencyMs: number): void {
    this.lastLatencyMs = latencyMs;
    this.update();
  }

  showCloudRequest(host: string | undefined): void {
    this.cloudHost = host;
    this.update();
  }

  update(): void {
    if (this.cloudHost !== undefined) {
      this.item.text = '$(cloud-upload) Flashcode: cloud…';
      this.item.tooltip = `Flashcode is sending a task to ${this.cloudHost}.`;
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      return;
    }
    const view = describeStatus(this.engineHost.state, this.isEnabled(), this.lastLatencyMs);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.isError ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
