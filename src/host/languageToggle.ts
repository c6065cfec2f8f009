// "Flashcode: Toggle Completions for This Language": flips the active editor's language in the
// user's flashcode.completion.languages.

import * as vscode from 'vscode';
import { isLanguageEnabled } from '../common/completionGate';
import { readSettings, setLanguageEnabled } from './settings';

export async function toggleLanguageCompletions(): Promise<void> {
  const languageId = vscode.window.activeTextEditor?.document.languageId;
  if (languageId === undefined) {
    void vscode.window.showInformationMessage('Flashcode: open a file to turn completions on or off for its language.');
    return;
  }
  const enabled = !isLanguageEnabled(readSettings().completion.languages, languageId);
  const state = enabled ? 'on' : 'off';
  if (await setLanguageEnabled(languageId, enabled)) {
    vscode.window.setStatusBarMessage(`Flashcode: completions ${state} for ${languageId}`, 3000);
  } else {
    void vscode.window.showWarningMessage(
      `Flashcode: your user settings now turn completions ${state} for ${languageId}, but this workspace's flashcode.completion.languages decides otherwise.`);
  }
}
