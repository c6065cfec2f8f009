// The "Flashcode" output channel. Errors are logged every time and shown to the user once per
// message; an aborted request is expected and never logged as an error.

import * as vscode from 'vscode';
import { describeError } from '../common/describeError';
import { isAbort } from '../engine';

/** Distinct messages remembered as shown; bounds memory if messages vary endlessly. */
const MAX_SHOWN_MESSAGES = 100;

export class OutputLog implements vscode.Disposable {
  private readonly channel = vscode.window.createOutputChannel('Flashcode', { log: true });
  private readonly shown = new Set<string>();

  info(message: string): void {
    this.channel.info(message);
  }

  warn(message: string): void {
    this.channel.warn(message);
  }

  /** Logs `error` (what was being done, then the error) and shows its message once. */
  error(error: unknown, doing: string): void {
    if (isAbort(error)) return;
    const message = describeError(error);
    this.channel.error(`${doing}: ${message}`);
    if (error instanceof Error && error.stack) this.channel.debug(error.stack);
    if (this.shown.has(message) || this.shown.size >= MAX_SHOWN_MESSAGES) return;
    this.shown.add(message);
    void vscode.window.showErrorMessage(`Flashcode: ${message}`, 'Show Log').then((choice) => {
      if (choice) this.show();
    });
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
