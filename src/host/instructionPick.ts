// Refactor's instruction: a preset, or whatever the user types.

import * as vscode from 'vscode';

export interface Instruction {
  /** Short, for titles: "Simplify". */
  label: string;
  /** What the model is told. */
  text: string;
}

export const PRESETS: readonly Instruction[] = [
  { label: 'Simplify', text: 'Simplify this code without changing what it does.' },
  { label: 'Add types', text: 'Add precise type annotations; change nothing else.' },
  { label: 'Extract function', text: 'Extract the repeated or separable part into a well-named function, and call it.' },
  { label: 'Add error handling', text: 'Add error handling for the failures this code can meet; keep the happy path unchanged.' },
  { label: 'Add documentation', text: 'Add documentation comments in the style of the language; change no code.' },
];

type Item = vscode.QuickPickItem & { instruction: Instruction };

/** Undefined when the user pressed Escape. */
export function pickInstruction(): Promise<Instruction | undefined> {
  const presets: Item[] = PRESETS.map((p) => ({ label: p.label, detail: p.text, instruction: p }));
  const pick = vscode.window.createQuickPick<Item>();
  pick.title = 'Flashcode: Refactor…';
  pick.placeholder = 'Choose a refactoring, or type your own instruction';
  pick.items = presets;
  pick.matchOnDetail = true;
  pick.onDidChangeValue((value) => {
    const typed = value.trim();
    const own: Item[] = typed === '' ? [] : [{ label: typed, description: 'your instruction', alwaysShow: true, instruction: { label: typed, text: typed } }];
    pick.items = [...own, ...presets];
  });
  return new Promise((resolve) => {
    let chosen: Instruction | undefined;
    pick.onDidAccept(() => {
      chosen = pick.selectedItems[0]?.instruction;
      pick.hide();
    });
    pick.onDidHide(() => {
      pick.dispose();
      resolve(chosen);
    });
    pick.show();
  });
}
