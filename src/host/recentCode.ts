// Feeds the ring of recent code (src/context/recentChunks.ts) from the editor: when the user leaves
// a file, the lines around where they last edited it (else around the cursor) go in. Only then, so
// the ring — and the extra context of the prompt with it — stays the same while they type.

import * as vscode from 'vscode';
import { CHUNK_LINES, type RecentChunks } from '../context/recentChunks';

/** Documents of these schemes are the user's code; others (output, git, settings) are not. */
const CODE_SCHEMES = ['file', 'untitled', 'vscode-remote'];

export class RecentCodeFeed implements vscode.Disposable {
  /** The active editor's document, and the line last edited in it (else the cursor's). */
  private current: { document: vscode.TextDocument; line: number; edited: boolean } | undefined;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly ring: RecentChunks) {
    this.follow(vscode.window.activeTextEditor);
    this.subscriptions = [
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        this.leave();
        this.follow(editor);
      }),
      vscode.window.onDidChangeTextEditorSelection(({ textEditor, selections }) => {
        const current = this.current;
        if (current && !current.edited && textEditor.document === current.document && selections[0]) current.line = selections[0].active.line;
      }),
      vscode.workspace.onDidChangeTextDocument(({ document, contentChanges }) => {
        const current = this.current;
        if (!current || document !== current.document || !contentChanges[0]) return;
        current.line = contentChanges[0].range.start.line;
        current.edited = true;
      }),
      vscode.workspace.onDidCloseTextDocument((document) => ring.forget(document.fileName)),
    ];
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }

  private follow(editor: vscode.TextEditor | undefined): void {
    const document = editor?.document;
    this.current = document && CODE_SCHEMES.includes(document.uri.scheme)
      ? { document, line: editor.selection.active.line, edited: false }
      : undefined;
  }

  private leave(): void {
    const current = this.current;
    if (!current || current.document.isClosed) return;
    const start = Math.max(0, current.line - CHUNK_LINES / 2);
    const end = Math.min(current.document.lineCount, start + CHUNK_LINES);
    this.ring.add(current.document.fileName, current.document.getText(new vscode.Range(start, 0, end, 0)));
  }
}
