// The thin adapter between VS Code and the completion pipeline: document, position and
// cancellation token in; one ghost-text item at the cursor out. Whether to complete at all (off,
// off for the language, paused on battery) is decided first, before any work.

import * as vscode from 'vscode';
import { completionGate } from '../common/completionGate';
import type { CompletionResult, TextSource } from '../completion/types';
import type { EngineHost } from './engineHost';
import type { OutputLog } from './output';
import { readSettings } from './settings';

export class InlineProvider implements vscode.InlineCompletionItemProvider {
  constructor(
    private readonly engineHost: EngineHost,
    private readonly log: OutputLog,
    private readonly onCompleted: (result: CompletionResult) => void,
    private readonly power: { readonly onBattery: boolean },
  ) {}

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const settings = readSettings().completion;
    const explicit = context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
    const gate = completionGate({ ...settings, languageId: document.languageId, onBattery: this.power.onBattery, explicit });
    const pipeline = this.engineHost.pipeline;
    if (gate.kind !== 'on' || !pipeline || token.isCancellationRequested) return undefined;

    const controller = new AbortController();
    const cancellation = token.onCancellationRequested(() => controller.abort());
    try {
      const request = { document: documentSource(document), offset: document.offsetAt(position), languageId: document.languageId, fileName: document.fileName };
      const result = await pipeline.complete(request, {
        maxNewTokens: settings.maxTokens,
        timeBudgetMs: settings.timeBudgetMs,
        debounceMs: settings.debounceMs,
        prefetch: settings.prefetch && !gate.batterySaving,
        mode: settings.mode,
        extraContext: settings.extraContext,
        explicit,
      }, controller.signal);
      // The model was switched (Choose Model) while this ran: the old model's answer is not shown.
      if (!result || this.engineHost.pipeline !== pipeline) return undefined;
      this.onCompleted(result);
      if (result.text === '') return undefined;
      // Plain text (no snippet): what VS Code's partial accept (Accept Next Word / Line) splits,
      // leaving the rest shown. The range is empty at the cursor unless the text ends with the
      // closers the line has after the cursor: then it covers them, and VS Code shows the text as
      // ghost text around them instead of inserting a second copy.
      const end = document.positionAt(document.offsetAt(position) + result.replacedAfterCursor);
      return [new vscode.InlineCompletionItem(result.text, new vscode.Range(position, end))];
    } catch (error) {
      this.log.error(error, `completing in ${document.fileName}`);
      this.engineHost.restartAfterCrash(error);
      return undefined;
    } finally {
      cancellation.dispose();
    }
  }
}

/** Reads only the requested ranges, so a multi-MB document is never copied whole per keystroke. */
function documentSource(document: vscode.TextDocument): TextSource {
  const length = document.offsetAt(document.lineAt(document.lineCount - 1).range.end);
  return {
    length,
    slice: (start, end) => document.getText(new vscode.Range(document.positionAt(start), document.positionAt(end))),
  };
}
