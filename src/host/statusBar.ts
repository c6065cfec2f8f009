// The status bar item: model state, whether completions run for the active editor, the last
// completion's latency and decode rate; a click opens its menu (statusMenu.ts), the tooltip links to
// Choose Model and the log.

import * as vscode from 'vscode';
import type { Gate } from '../common/completionGate';
import type { CompletionResult } from '../completion/types';
import { COMMANDS } from './commandIds';
import type { EngineHost } from './engineHost';
import { describeStatus, lastCompletion, type LastCompletion } from './statusText';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('flashcode.status', vscode.StatusBarAlignment.Right, 100);
  private readonly subscription: vscode.Disposable;
  private last: LastCompletion | undefined;
  /** Set while a request is on its way to the cloud. */
  private cloudHost: string | undefined;

  /** `gate`: whether an automatic request in the active editor would run. */
  constructor(private readonly engineHost: EngineHost, private readonly gate: () => Gate) {
    this.item.name = 'Flashcode';
    this.item.command = COMMANDS.statusMenu;
    this.subscription = engineHost.onDidChange(() => {
      this.last = undefined;
      this.update();
    });
    this.update();
    this.item.show();
  }

  showCompletion(result: CompletionResult): void {
    this.last = lastCompletion(result, this.engineHost.lastGeneration);
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
    const view = describeStatus({ state: this.engineHost.state, gate: this.gate(), last: this.last });
    this.item.text = view.text;
    this.item.tooltip = withLinks(view.tooltip);
    this.item.backgroundColor = view.isError ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}

/** The tooltip with links to the model manager and the log. */
function withLinks(text: string): vscode.MarkdownString {
  const markdown = new vscode.MarkdownString(undefined, true);
  markdown.appendText(text);
  markdown.appendMarkdown(`\n\n[$(symbol-class) Choose Model…](command:${COMMANDS.chooseModel}) · [$(output) Show Log](command:${COMMANDS.showLog})`);
  markdown.isTrusted = { enabledCommands: [COMMANDS.chooseModel, COMMANDS.showLog] };
  return markdown;
}
