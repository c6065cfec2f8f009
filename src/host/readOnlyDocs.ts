// Read-only documents held in memory under one URI scheme: the refactor diff's two sides and the
// consent preview. VS Code opens content-provider documents read-only.

import * as vscode from 'vscode';

export class ReadOnlyDocs implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration: vscode.Disposable;

  constructor(readonly scheme: string) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(scheme, this);
  }

  /** Holds `text` at `path` (its extension picks the language) and returns the document's URI. */
  put(path: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: this.scheme, path });
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
    return uri;
  }

  forget(uri: vscode.Uri): void {
    this.texts.delete(uri.toString());
  }

  forgetWhere(match: (uri: vscode.Uri) => boolean): void {
    for (const key of [...this.texts.keys()]) if (match(vscode.Uri.parse(key))) this.texts.delete(key);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
    this.texts.clear();
  }
}

/** Closes every editor tab showing a document of `scheme` that `match` accepts (diffs included). */
export async function closeTabs(scheme: string, match: (uri: vscode.Uri) => boolean = () => true): Promise<void> {
  const hits = (uri: unknown) => uri instanceof vscode.Uri && uri.scheme === scheme && match(uri);
  const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((tab) => {
    const input = tab.input;
    if (input instanceof vscode.TabInputTextDiff) return hits(input.original) || hits(input.modified);
    return input instanceof vscode.TabInputText && hits(input.uri);
  });
  if (tabs.length > 0) await vscode.window.tabGroups.close(tabs, true);
}
