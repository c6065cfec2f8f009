// A proposed refactor as a diff (original file ↔ file with the proposal), then Apply or Discard.
// Apply is one WorkspaceEdit (one undo step), made only if the original range is unchanged.

import path from 'node:path';
import * as vscode from 'vscode';
import { CONTEXT_KEYS } from './commandIds';
import { closeTabs, type ReadOnlyDocs } from './readOnlyDocs';

export interface Proposal {
  document: vscode.TextDocument;
  /** UTF-16 offsets of the original code in the document, and that code. */
  start: number;
  end: number;
  original: string;
  proposed: string;
  instruction: string;
  notices: string[];
}

const APPLY = 'Apply';
const DISCARD = 'Discard';

export class RefactorReview implements vscode.Disposable {
  private pending: (Proposal & { id: number; uri: vscode.Uri }) | undefined;
  private nextId = 1;

  constructor(private readonly docs: ReadOnlyDocs) {}

  /** Opens the diff and offers Apply / Discard; a newer proposal replaces an older one. */
  async show(p: Proposal): Promise<void> {
    await this.clear();
    const id = this.nextId++;
    const name = path.basename(p.document.uri.path) || 'untitled';
    const text = p.document.getText();
    if (text.slice(p.start, p.end) !== p.original) {
      void vscode.window.showWarningMessage(`Flashcode: ${name} changed where the refactor would go while it was being written; run Refactor again.`);
      return;
    }
    const left = this.docs.put(`/${id}/original/${name}`, text);
    const right = this.docs.put(`/${id}/proposed/${name}`, text.slice(0, p.start) + p.proposed + text.slice(p.end));
    this.pending = { ...p, id, uri: p.document.uri };
    await vscode.commands.executeCommand('setContext', CONTEXT_KEYS.refactorPending, true);
    await vscode.commands.executeCommand('vscode.diff', left, right, `${name}: ${p.instruction} (Flashcode proposal)`, { preview: false });
    const notes = p.notices.length > 0 ? ` Note: ${p.notices.join(' ')}` : '';
    const choice = await vscode.window.showInformationMessage(`Flashcode: apply the proposed change to ${name}?${notes}`, APPLY, DISCARD);
    if (this.pending?.id !== id) return; // applied, discarded or replaced meanwhile
    if (choice === APPLY) await this.apply();
    else if (choice === DISCARD) await this.discard();
  }

  async apply(): Promise<void> {
    const p = this.pending;
    if (!p) {
      void vscode.window.showInformationMessage('Flashcode: there is no proposed refactor to apply.');
      return;
    }
    const document = await vscode.workspace.openTextDocument(p.uri);
    const range = new vscode.Range(document.positionAt(p.start), document.positionAt(p.end));
    if (p.end > document.getText().length || document.getText(range) !== p.original) {
      await this.clear(false);
      void vscode.window.showWarningMessage(
        `Flashcode: ${vscode.workspace.asRelativePath(p.uri)} changed where the refactor would go since it was proposed, so nothing was applied. Run Refactor again.`);
      return;
    }
    const edit = new vscode.WorkspaceEdit();
    edit.replace(p.uri, range, p.proposed);
    if (!(await vscode.workspace.applyEdit(edit))) {
      void vscode.window.showErrorMessage(`Flashcode: VS Code refused the edit to ${vscode.workspace.asRelativePath(p.uri)}; nothing was changed.`);
      return;
    }
    await this.clear();
    const end = document.positionAt(p.start + p.proposed.length);
    await vscode.window.showTextDocument(document, { selection: new vscode.Range(range.start, end), preview: false });
  }

  async discard(): Promise<void> {
    await this.clear();
  }

  dispose(): void {
    void this.clear();
  }

  /** Forgets the pending proposal; `closeDiff` false leaves the diff open to read (a refused Apply). */
  private async clear(closeDiff = true): Promise<void> {
    const p = this.pending;
    this.pending = undefined;
    await vscode.commands.executeCommand('setContext', CONTEXT_KEYS.refactorPending, false);
    if (!p) return;
    const mine = (u: vscode.Uri) => u.path.startsWith(`/${p.id}/`);
    if (!closeDiff) return;
    await closeTabs(this.docs.scheme, mine);
    this.docs.forgetWhere(mine);
  }
}
