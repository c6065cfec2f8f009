// What completions know beyond the text around the cursor, kept up to date from the editor (the
// composition root, src/extension.ts, hands it to the pipeline): tree-sitter, loaded at activation
// in the background (the active editor's grammar warmed first), for syntax-aware truncation and the
// file's header; and code recently edited or viewed in other files. Files the privacy patterns
// (flashcode.cloud.exclude) name never get in.

import * as vscode from 'vscode';
import { SETTINGS } from '../settingsSchema';
import type { OutlineFinder } from '../context/extraContext';
import { RecentChunks } from '../context/recentChunks';
import type { SyntaxService } from '../context/syntax';
import type { BlockFinder } from '../postprocess';
import { isExcluded } from '../privacy/exclude';
import { RecentCodeFeed } from './recentCode';
import { readSettings } from './settings';

export class CompletionContext implements vscode.Disposable {
  /** Tree-sitter once it is loaded; until then, completions are truncated by indentation and get
   *  no header. */
  readonly syntax: BlockFinder & OutlineFinder;
  readonly recent = new RecentChunks((fileName) => isExcluded(vscode.workspace.asRelativePath(fileName, false), readSettings().cloud.exclude));
  private loaded: SyntaxService | undefined;
  private readonly subscriptions: vscode.Disposable[];

  /** `loadSyntax` loads tree-sitter (once; Explain and Refactor share it). */
  constructor(loadSyntax: () => Promise<SyntaxService | undefined>) {
    this.syntax = {
      blockAt: (text: string, offset: number, languageId: string) => this.loaded?.blockAt(text, offset, languageId),
      outline: (key: string, text: string, cursor: number, languageId: string, budgetMs?: number) => this.loaded?.outline(key, text, cursor, languageId, budgetMs),
    };
    this.subscriptions = [
      new RecentCodeFeed(this.recent),
      vscode.window.onDidChangeActiveTextEditor((editor) => this.warm(editor?.document.languageId)),
      vscode.workspace.onDidChangeConfiguration((event) => { if (event.affectsConfiguration(SETTINGS.cloudExclude.key)) this.recent.prune(); }),
    ];
    // After activation returns: loading compiles wasm, which must not hold up the extension host.
    setImmediate(() => void loadSyntax().then((loaded) => {
      this.loaded = loaded;
      this.warm(vscode.window.activeTextEditor?.document.languageId);
    }));
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }

  private warm(languageId: string | undefined): void {
    if (languageId !== undefined) void this.loaded?.warm(languageId);
  }
}
