// The status bar item's menu: what a click on "Flashcode" offers. Each entry runs a command the
// palette has too.

import * as vscode from 'vscode';
import { COMMANDS } from './commandIds';

export interface MenuEntry {
  label: string;
  detail?: string;
  command: string;
}

/** The entries, in order; `enabled`: whether inline completions are on (flashcode.completion.enabled). */
export function statusMenuEntries(enabled: boolean): MenuEntry[] {
  return [
    enabled
      ? { label: '$(circle-slash) Turn Inline Completions Off', detail: 'Everywhere, until you turn them on again.', command: COMMANDS.toggleCompletions }
      : { label: '$(check) Turn Inline Completions On', command: COMMANDS.toggleCompletions },
    { label: '$(symbol-keyword) Toggle Completions for This Language', command: COMMANDS.toggleLanguageCompletions },
    { label: '$(symbol-class) Choose Model…', detail: 'The bundled model, an installed one, or one to download.', command: COMMANDS.chooseModel },
    { label: '$(output) Show Log', command: COMMANDS.showLog },
  ];
}

export async function showStatusMenu(enabled: boolean): Promise<void> {
  const picked = await vscode.window.showQuickPick(statusMenuEntries(enabled), { title: 'Flashcode', placeHolder: 'What should Flashcode do?' });
  if (picked) await vscode.commands.executeCommand(picked.command);
}
