// The one reader of Flashcode's settings: typed values, bounds applied.

import * as vscode from 'vscode';
import { languageMap, ownEntries, type LanguageMap } from '../common/completionGate';
import { boundedInteger, ENGINE_SETTINGS, SETTINGS } from '../settingsSchema';
import type { CompletionMode } from '../completion/types';
import type { BackendSetting } from '../engine/gpu/backendSetting';

export interface Settings {
  completion: CompletionSettings;
  engine: EngineSettings;
  cloud: CloudSettings;
  router: { localMaxTokens: number };
  models: { hubUrl: string };
}

export interface CompletionSettings {
  enabled: boolean;
  /** Merged by VS Code: the defaults, then the user's entries, then a workspace's. */
  languages: LanguageMap;
  pauseOnBattery: boolean;
  maxTokens: number;
  timeBudgetMs: number;
  debounceMs: number;
  prefetch: boolean;
  mode: CompletionMode;
  extraContext: boolean;
}

export interface EngineSettings {
  modelPath: string;
  threads: number;
  /** Sparse feed-forward layers (predictors + neuron cache); dense when off. */
  sparseFfn: boolean;
  /** Bound on the model's resident memory while sparse (the engine's FlashOptions.memoryBudgetMB). */
  memoryBudgetMB: number;
  /** Neurons used in the last this many tokens stay cached when the model does not fit the budget. */
  neuronWindowTokens: number;
  /** What computes a format-v2 model (the engine's EngineOptions.backend). */
  backend: BackendSetting;
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
  const pauseOnBattery = config.get<unknown>(SETTINGS.pauseOnBattery.key);
  const prefetch = config.get<unknown>(SETTINGS.prefetch.key);
  const mode = config.get<unknown>(SETTINGS.completionMode.key);
  const extraContext = config.get<unknown>(SETTINGS.extraContext.key);
  const modelPath = config.get<unknown>(SETTINGS.modelPath.key);
  const sparseFfn = config.get<unknown>(SETTINGS.sparseFfn.key);
  return {
    completion: {
      enabled: typeof enabled === 'boolean' ? enabled : SETTINGS.completionEnabled.default,
      languages: languageMap(config.get<unknown>(SETTINGS.completionLanguages.key)),
      pauseOnBattery: typeof pauseOnBattery === 'boolean' ? pauseOnBattery : SETTINGS.pauseOnBattery.default,
      maxTokens: boundedInteger(config.get<unknown>(SETTINGS.maxTokens.key), SETTINGS.maxTokens),
      timeBudgetMs: boundedInteger(config.get<unknown>(SETTINGS.timeBudgetMs.key), SETTINGS.timeBudgetMs),
      debounceMs: boundedInteger(config.get<unknown>(SETTINGS.debounceMs.key), SETTINGS.debounceMs),
      prefetch: typeof prefetch === 'boolean' ? prefetch : SETTINGS.prefetch.default,
      mode: SETTINGS.completionMode.values.find((m) => m === mode) ?? SETTINGS.completionMode.default,
      extraContext: typeof extraContext === 'boolean' ? extraContext : SETTINGS.extraContext.default,
    },
    engine: {
      modelPath: typeof modelPath === 'string' ? modelPath : SETTINGS.modelPath.default,
      threads: boundedInteger(config.get<unknown>(SETTINGS.threads.key), SETTINGS.threads),
      sparseFfn: typeof sparseFfn === 'boolean' ? sparseFfn : SETTINGS.sparseFfn.default,
      memoryBudgetMB: boundedInteger(config.get<unknown>(SETTINGS.memoryBudgetMB.key), SETTINGS.memoryBudgetMB),
      neuronWindowTokens: boundedInteger(config.get<unknown>(SETTINGS.neuronWindowTokens.key), SETTINGS.neuronWindowTokens),
      backend: SETTINGS.backend.values.find((b) => b === config.get<unknown>(SETTINGS.backend.key)) ?? SETTINGS.backend.default,
    },
    cloud: readCloudSettings(config),
    router: { localMaxTokens: boundedInteger(config.get<unknown>(SETTINGS.localMaxTokens.key), SETTINGS.localMaxTokens) },
    models: { hubUrl: readHubUrl(config) },
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

/** Where models download from is the user's call, like the cloud endpoint: user settings only. */
function readHubUrl(config: vscode.WorkspaceConfiguration): string {
  const value = config.inspect<unknown>(SETTINGS.hubUrl.key)?.globalValue;
  return typeof value === 'string' && /^https?:\/\/\S+$/.test(value.trim()) ? value.trim().replace(/\/+$/, '') : SETTINGS.hubUrl.default;
}

/** Points flashcode.engine.modelPath at `dir` ('' for the bundled model) in the user settings; the
 *  engine host reloads on the change. */
export async function setModelPath(dir: string): Promise<void> {
  await vscode.workspace.getConfiguration().update(SETTINGS.modelPath.key, dir, vscode.ConfigurationTarget.Global);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '') : [];
}

/** Whether the change needs the model loaded again. */
export function affectsEngine(event: vscode.ConfigurationChangeEvent): boolean {
  return ENGINE_SETTINGS.some((s) => event.affectsConfiguration(s.key));
}

/** Whether the change can turn completions on or off (globally, per language, on battery). */
export function affectsCompletionGate(event: vscode.ConfigurationChangeEvent): boolean {
  return [SETTINGS.completionEnabled, SETTINGS.completionLanguages, SETTINGS.pauseOnBattery].some((s) => event.affectsConfiguration(s.key));
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

/** Sets `languageId`'s entry of `flashcode.completion.languages` in the user settings, keeping the
 *  user's other entries (VS Code merges them over the defaults). False when a workspace setting
 *  names the language too and still decides otherwise. */
export async function setLanguageEnabled(languageId: string, enabled: boolean): Promise<boolean> {
  const config = vscode.workspace.getConfiguration();
  const key = SETTINGS.completionLanguages.key;
  const inspected = config.inspect<unknown>(key);
  await config.update(key, { ...ownEntries(inspected?.globalValue), [languageId]: enabled }, vscode.ConfigurationTarget.Global);
  const workspace = { ...ownEntries(inspected?.workspaceValue), ...ownEntries(inspected?.workspaceFolderValue) };
  return !Object.hasOwn(workspace, languageId) || workspace[languageId] === enabled;
}
