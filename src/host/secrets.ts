// The cloud API key lives in VS Code's SecretStorage and nowhere else: not in settings, the log,
// or any message.

import * as vscode from 'vscode';
import { apiKeyProblem } from '../cloud/limits';

const SECRET_KEY = 'flashcode.cloud.apiKey';

export class CloudKey {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  async get(): Promise<string | undefined> {
    const key = await this.secrets.get(SECRET_KEY);
    return key && key.trim() !== '' ? key.trim() : undefined;
  }

  /** Asks for the key in a password box; Escape keeps the old one. */
  async promptAndStore(baseUrl: string): Promise<void> {
    const key = await vscode.window.showInputBox({
      title: 'Flashcode: Set Cloud API Key',
      prompt: `API key for ${baseUrl} (kept in VS Code's secret storage, never in settings)`,
      password: true,
      ignoreFocusOut: true,
      placeHolder: 'sk-…',
      // A zero-width space pasted along with the key would only fail later, inside an HTTP header.
      validateInput: (value) => apiKeyProblem(value.trim()),
    });
    if (key === undefined) return;
    if (key.trim() === '') {
      void vscode.window.showWarningMessage('Flashcode: no key entered; the cloud API key is unchanged.');
      return;
    }
    await this.secrets.store(SECRET_KEY, key.trim());
    void vscode.window.showInformationMessage("Flashcode: the cloud API key is saved in VS Code's secret storage.");
  }

  async clear(): Promise<void> {
    await this.secrets.delete(SECRET_KEY);
    void vscode.window.showInformationMessage('Flashcode: the cloud API key is removed.');
  }
}
