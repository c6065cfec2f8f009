// Refactor's instruction: a preset, or whatever the user types.

import * as vscode from 'vscode';
import { chooseInstruction, PRESETS, type Instruction } from './instructions';

type Item = vscode.QuickPickItem & { instruction: Instruction };

/** Undefined when the user pressed Escape. The items never change while the user types (changing
 *  them races the keystrokes); what was typed decides on Enter. */
export function pickInstruction(): Promise<Instruction | undefined> {
  const pick = vscode.window.createQuickPick<Item>();
  pick.title = 'Flashcode: Refactor…';
  pick.placeholder = 'Choose a refactoring, or type your own instruction and press Enter';
  pick.items = PRESETS.map((p) => ({ label: p.label, detail: p.text, instruction: p }));
  return new Promise((resolve) => {
    let chosen: Instruction | undefined;
    pick.onDidAccept(() => {
      chosen = chooseInstruction(pick.value, pick.selectedItems[0]?.instruction);
      if (chosen) pick.hide();
    });
    pick.onDidHide(() => {
      pick.dispose();
      resolve(chosen);
    });
    pick.show();
  });
}
