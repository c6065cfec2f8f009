// Composition root: build the parts, wire them together, register them. Nothing here waits for the
// model: it loads in the background and completions stay off until it is ready.

import * as vscode from 'vscode';
import { EngineHost } from './host/engineHost';
import { InlineProvider } from './host/inlineProvider';
import { OutputLog } from './host/output';
import { bundlePaths, resolveModelDir } from './host/paths';
import { affectsCompletionEnabled, affectsEngine, readSettings, setCompletionsEnabled } from './host/settings';
import { StatusBar, TOGGLE_COMMAND } from './host/statusBar';

export function activate(context: vscode.ExtensionContext): void {
  const paths = bundlePaths(context.extensionPath);
  const log = new OutputLog();
  const engineHost = new EngineHost(log);
  const statusBar = new StatusBar(engineHost, () => readSettings().completion.enabled);
  const provider = new InlineProvider(engineHost, log, (result) => statusBar.showLatency(result.latencyMs));

  const loadModel = () => {
    const { modelPath, threads } = readSettings().engine;
    const modelDir = resolveModelDir(modelPath, paths.defaultModelDir);
    void engineHost.load({ modelDir, threads, workerScript: paths.workerScript, ortWasmDir: paths.ortWasmDir });
  };

  context.subscriptions.push(
    log,
    engineHost,
    statusBar,
    vscode.languages.registerInlineCompletionItemProvider({ pattern: '**' }, provider),
    vscode.commands.registerCommand(TOGGLE_COMMAND, () => setCompletionsEnabled(!readSettings().completion.enabled)),
    vscode.commands.registerCommand('flashcode.showLog', () => log.show()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (affectsEngine(event)) loadModel();
      if (affectsCompletionEnabled(event)) statusBar.update();
    }),
  );
  loadModel();
}

export function deactivate(): void {}
