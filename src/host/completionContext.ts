// What completions know beyond the text around the cursor, for the pipeline: tree-sitter, loaded at
// activation in the background (the active editor's grammar warmed first), for syntax-aware
// truncation and the file's header; and code recently edited or viewed in other files. Files the
// privacy patterns (flashcode.cloud.exclude) name never get in.

import * as vscode from 'vscode';
import { SETTINGS } from '../settingsSchema';
import type { PipelineOptions } from '../completion/pipeline';
import { ExtraContext } from '../context/extraContext';
import { RecentChunks } from '../context/recentChunks';
import type { SyntaxService } from '../context/syntax';
import { isExcluded } from '../privacy/exclude';
import { RecentCodeFeed } from './recentCode';
import { readSettings } from './settings';

export class CompletionContext implements vscode.Disposable {
  readonly pipelineOptions: PipelineOptions;
  private syntax: SyntaxService | undefined;
  private readonly recent = new RecentChunks((fileName) => isExcluded(vscode.workspace.asRelativePath(fileName, false), readSettings().cloud.exclude));
  private readonly subscriptions: vscode.Disposable[];

  /** `loadSyntax` loads tree-sitter (once; Explain and Refactor share it). */
  constructor(loadSyntax: () => Promise<SyntaxService | undefined>) {
    // Until tree-sitter is loaded, completions are truncated by indentation and get no header.
    const syntax = {
      blockAt: (text: string, offset: number, languageId: string) => this.syntax?.blockAt(text, offset, languageId),
      outline: (key: string, text: string, cursor: number, languageId: string, budgetMs?: number) => this.syntax?.outline(key, text, cursor, languageId, budgetMs),
    };
    this.pipelineOptions = { syntax, extraContext: new ExtraContext({ outlines: syntax, recent: this.recent }) };
    this.subscriptions = [
      new RecentCodeFeed(this.recent),
      vscode.window.onDidChangeActiveTextEditor((editor) => this.warm(editor?.document.languageId)),
      vscode.workspace.onDidChangeConfiguration((event) => { if (event.affectsConfiguration(SETTINGS.cloudExclude.key)) this.recent.prune(); }),
    ];
    // After activation returns: loading compiles wasm, which must not hold up the extension host.
    setImmediate(() => void loadSyntax().then((loaded) => {
      this.syntax = loaded;
      this.warm(vscode.window.activeTextEditor?.document.languageId);
    }));
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }

  private warm(languageId: string | undefined): void {
    if (languageId !== undefined) void this.syntax?.warm(languageId);
  }
}
