// The one reader of Flashcode's settings: typed values, bounds applied.

import * as vscode from 'vscode';
import { boundedInteger, SETTINGS } from '../common/settingsSchema';

export interface Settings {
  completion: { enabled: boolean; maxTokens: number; timeBudgetMs: number };
  engine: { modelPath: string; threads: number };
}

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration();
  const enabled = config.get<unknown>(SETTINGS.completionEnabled.key);
  const modelPath = config.get<unknown>(SETTINGS.modelPath.key);
  return {
    completion: {
      enabled: typeof enabled === 'boolean' ? enabled : SETTINGS.completionEnabled.default,
      maxTokens: boundedInteger(config.get<unknown>(SETTINGS.maxTokens.key), SETTINGS.maxTokens),
      timeBudgetMs: boundedInteger(config.get<unknown>(SETTINGS.timeBudgetMs.key), SETTINGS.timeBudgetMs),
    },
    engine: {
      modelPath: typeof modelPath === 'string' ? modelPath : SETTINGS.modelPath.default,
      threads: boundedInteger(config.get<unknown>(SETTINGS.threads.key), SETTINGS.threads),
    },
  };
}

/** Whether the change needs the model loaded again. */
export function affectsEngine(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(SETTINGS.modelPath.key) || event.affectsConfiguration(SETTINGS.threads.key);
}

export function affectsCompletionEnabled(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(SETTINGS.completionEnabled.key);
}

/** Writes `flashcode.completion.enabled` where it is currently decided (workspace folder, workspace
 *  or user settings), so the change takes effect rather than being shadowed. */
export async function setCompletionsEnabled(enabled: boolean): Promise<void> {
  const config = vscode.workspace.getConfiguration();
  const inspected = config.inspect<boolean>(SETTINGS.completionEnabled.key);
  const target = inspected?.workspaceFolderValue !== undefined ? vscode.ConfigurationTarget.WorkspaceFolder
    : inspected?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace
      : vscode.ConfigurationTarget.Global;
  await config.update(SETTINGS.completionEnabled.key, enabled, target);
}
