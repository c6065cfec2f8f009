// Consent to send code to the cloud, per workspace: the first time, a read-only preview of exactly
// what would be sent and a modal question; the answer is remembered until reset.

import * as vscode from 'vscode';
import type { ChatMessage } from '../cloud/types';
import type { CloudConsent } from '../router/types';
import { closeTabs, type ReadOnlyDocs } from './readOnlyDocs';

const STATE_KEY = 'flashcode.cloud.consent';
export const SEND = 'Send';

export interface ConsentPreview {
  host: string;
  model: string;
  messages: ChatMessage[];
}

export class CloudConsentUi {
  constructor(private readonly state: vscode.Memento, private readonly docs: ReadOnlyDocs) {}

  get current(): CloudConsent {
    const value = this.state.get<unknown>(STATE_KEY);
    return value === 'granted' || value === 'denied' ? value : 'unasked';
  }

  /** Shows the preview beside the code, asks, remembers the answer; Escape counts as no. */
  async ask(preview: ConsentPreview): Promise<boolean> {
    const uri = this.docs.put(`/Flashcode - to be sent to ${preview.host.replace(/[:/\\]/g, '_')}.txt`, previewText(preview));
    await vscode.window.showTextDocument(uri, { viewColumn: vscode.ViewColumn.Beside, preview: false, preserveFocus: true });
    const size = preview.messages.reduce((n, m) => n + m.content.length, 0).toLocaleString('en-US');
    const choice = await vscode.window.showWarningMessage(`Send this to ${preview.host}?`, {
      modal: true,
      detail: `Flashcode wants to send the text in the preview (${size} characters) to the cloud model ${preview.model} at ${preview.host}. `
        + 'The answer is remembered for this workspace; "Flashcode: Reset Cloud Consent for This Workspace" forgets it.',
    }, SEND);
    const granted = choice === SEND;
    await this.state.update(STATE_KEY, granted ? 'granted' : 'denied');
    await closeTabs(this.docs.scheme, (u) => u.toString() === uri.toString());
    this.docs.forget(uri);
    return granted;
  }

  async reset(): Promise<void> {
    await this.state.update(STATE_KEY, undefined);
    void vscode.window.showInformationMessage('Flashcode: the next cloud request in this workspace will ask for consent again.');
  }
}

/** The request's content verbatim, message by message; the API key travels too but is not shown. */
export function previewText({ host, model, messages }: ConsentPreview): string {
  const head = [
    `Flashcode will send this to ${host} (model ${model}), and nothing else from your workspace.`,
    'The request also carries your API key (not shown here) and the answer-length and streaming options.',
    '',
  ];
  return [...head, ...messages.flatMap((m) => [`──────── ${m.role} message ────────`, m.content, ''])].join('\n');
}
