// What Explain and Refactor need before runTask: a ready local model, the editor's task, and the
// dependencies filled from settings, SecretStorage and the consent UI.

import * as vscode from 'vscode';
import { cloudHost } from '../cloud/config';
import type { TaskDeps } from '../commands/types';
import type { SyntaxService } from '../context/syntax';
import type { Engine } from '../engine';
import type { Route } from '../router/types';
import type { CloudConsentUi } from './consent';
import type { EngineHost } from './engineHost';
import type { OutputLog } from './output';
import type { CloudKey } from './secrets';
import { readSettings } from './settings';
import { taskFromEditor, type EditorTask } from './taskInput';

export interface ReadyTask {
  editor: vscode.TextEditor;
  engine: Engine;
  task: EditorTask;
}

/** The task in the active editor, or undefined after telling the user why there is none. */
export async function prepareTask(engineHost: EngineHost, syntax: SyntaxService | undefined): Promise<ReadyTask | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('Flashcode: open a file and select code (or put the cursor in a function) first.');
    return undefined;
  }
  // The local model is needed even for a cloud task: its tokenizer measures the prompt.
  const engine = engineHost.readyEngine;
  const state = engineHost.state;
  if (!engine) {
    void vscode.window.showWarningMessage(state.kind === 'error'
      ? `Flashcode: the local model did not load, and Explain / Refactor need it (${state.message}).`
      : 'Flashcode: the local model is still loading; try again in a moment.');
    return undefined;
  }
  const task = await taskFromEditor(editor, syntax, readSettings().cloud.exclude);
  if ('message' in task) {
    void vscode.window.showInformationMessage(`Flashcode: ${task.message}`);
    return undefined;
  }
  return { editor, engine, task };
}

export interface DepsSources {
  key: CloudKey;
  consent: CloudConsentUi;
  log: OutputLog;
}

export async function taskDeps(engine: Engine, s: DepsSources, waitingForConsent: () => void): Promise<TaskDeps> {
  const { cloud, router } = readSettings();
  return {
    engine,
    cloud: {
      enabled: cloud.enabled, baseUrl: cloud.baseUrl, model: cloud.model, maxContextTokens: cloud.maxContextTokens,
      timeoutMs: cloud.timeoutMs, apiKey: await s.key.get(), log: (line) => s.log.info(line),
    },
    localMaxTokens: router.localMaxTokens,
    excludePatterns: cloud.exclude,
    consent: s.consent.current,
    askConsent: (preview) => {
      waitingForConsent();
      return s.consent.ask(preview);
    },
  };
}

/** The cloud host a route sends to (undefined for local), and the progress line to show. */
export function describeRoute(route: Route, engine: Engine): { cloudHost: string | undefined; line: string } {
  if (route.target === 'cloud') {
    const host = cloudHost(readSettings().cloud.baseUrl) ?? 'the cloud';
    return { cloudHost: host, line: `Waiting for the cloud model at ${host}…` };
  }
  const cut = route.target === 'local-cut' ? ' (the task was cut to fit)' : '';
  return { cloudHost: undefined, line: `Generating with the local model ${engine.info.displayName}${cut}…` };
}
