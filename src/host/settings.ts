// The one reader of Flashcode's settings: typed values, bounds applied.

import * as vscode from 'vscode';
import { boundedInteger, SETTINGS } from '../common/settingsSchema';

export interface Settings {
  completion: { enabled: boolean; maxTokens: number; timeBudgetMs: number; debounceMs: number; prefetch: boolean };
  engine: { modelPath: string; threads: number };
  cloud: CloudSettings;
  router: { localMaxTokens: number };
}

export interface CloudSettings {
  enabled: boolean;
  baseUrl: string;
  model: string;
  maxContextTokens: number;
  timeoutMs: number;
  /** Patterns of files never sent: the user's (or the default) plus any a workspace adds. */
  exclude: string[];
}

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration();
  const enabled = config.get<unknown>(SETTINGS.completionEnabled.key);
  const prefetch = config.get<unknown>(SETTINGS.prefetch.key);
  const modelPath = config.get<unknown>(SETTINGS.modelPath.key);
  return {
    completion: {
      enabled: typeof enabled === 'boolean' ? enabled : SETTINGS.completionEnabled.default,
      maxTokens: boundedInteger(config.get<unknown>(SETTINGS.maxTokens.key), SETTINGS.maxTokens),
      timeBudgetMs: boundedInteger(config.get<unknown>(SETTINGS.timeBudgetMs.key), SETTINGS.timeBudgetMs),
      debounceMs: boundedInteger(config.get<unknown>(SETTINGS.debounceMs.key), SETTINGS.debounceMs),
      prefetch: typeof prefetch === 'boolean' ? prefetch : SETTINGS.prefetch.default,
    },
    engine: {
      modelPath: typeof modelPath === 'string' ? modelPath : SETTINGS.modelPath.default,
      threads: boundedInteger(config.get<unknown>(SETTINGS.threads.key), SETTINGS.threads),
    },
    cloud: readCloudSettings(config),
    router: { localMaxTokens: boundedInteger(config.get<unknown>(SETTINGS.localMaxTokens.key), SETTINGS.localMaxTokens) },
  };
}

function readCloudSettings(config: vscode.WorkspaceConfiguration): CloudSettings {
  // Whether code leaves the machine, and where to, is the user's call: workspace values are ignored
  // even if a workspace sets them (package.json also scopes them to the application).
  const userValue = (key: string) => config.inspect<unknown>(key)?.globalValue;
  const enabled = userValue(SETTINGS.cloudEnabled.key);
  const baseUrl = userValue(SETTINGS.cloudBaseUrl.key);
  const model = config.get<unknown>(SETTINGS.cloudModel.key);
  const exclude = config.inspect<unknown>(SETTINGS.cloudExclude.key);
  return {
    enabled: typeof enabled === 'boolean' ? enabled : SETTINGS.cloudEnabled.default,
    baseUrl: typeof baseUrl === 'string' && baseUrl.trim() !== '' ? baseUrl.trim() : SETTINGS.cloudBaseUrl.default,
    model: typeof model === 'string' && model.trim() !== '' ? model.trim() : SETTINGS.cloudModel.default,
    maxContextTokens: boundedInteger(config.get<unknown>(SETTINGS.cloudMaxContextTokens.key), SETTINGS.cloudMaxContextTokens),
    timeoutMs: boundedInteger(config.get<unknown>(SETTINGS.cloudTimeoutMs.key), SETTINGS.cloudTimeoutMs),
    exclude: [...new Set([
      ...strings(exclude?.globalValue ?? SETTINGS.cloudExclude.default),
      ...strings(exclude?.workspaceValue),
      ...strings(exclude?.workspaceFolderValue),
    ])],
  };
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '') : [];
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
