// Composition root: build the parts, wire them together, register them. Nothing here waits for the
// model: it loads in the background and completions stay off until it is ready.

import * as vscode from 'vscode';
import { completionGate } from './common/completionGate';
import { CompletionPipeline } from './completion/pipeline';
import { ExtraContext } from './context/extraContext';
import { SyntaxService } from './context/syntax';
import { COMMANDS } from './host/commandIds';
import { CompletionContext } from './host/completionContext';
import { CloudConsentUi } from './host/consent';
import { EngineHost } from './host/engineHost';
import { ExplainPanel } from './host/explainPanel';
import { TypingHeartbeat } from './host/heartbeat';
import { InlineProvider } from './host/inlineProvider';
import { ModelPicker } from './host/modelPicker';
import { toggleLanguageCompletions } from './host/languageToggle';
import { OutputLog } from './host/output';
import { bundlePaths, resolveModelDir } from './host/paths';
import { PowerWatch } from './host/power';
import { ReadOnlyDocs } from './host/readOnlyDocs';
import { RefactorReview } from './host/refactorReview';
import { CloudKey } from './host/secrets';
import { affectsCompletionGate, affectsEngine, readSettings, setCompletionsEnabled } from './host/settings';
import { StatusBar } from './host/statusBar';
import { showStatusMenu } from './host/statusMenu';
import { TaskCommands } from './host/tasks';

export function activate(context: vscode.ExtensionContext): void {
  const paths = bundlePaths(context.extensionPath);
  const log = new OutputLog();
  // Tree-sitter loads right after activation, for completions and for Explain / Refactor.
  let syntax: Promise<SyntaxService | undefined> | undefined;
  const loadSyntax = () => syntax ??= SyntaxService.load(paths.syntaxDir, { log: (m) => log.info(m) }).catch((error: unknown) => {
    log.error(error, 'loading tree-sitter');
    return undefined;
  });
  // One keystroke: InlineProvider → CompletionPipeline (budget, clip, cache, prompt) → the engine
  // → post-processing → ghost text. The pipeline is rebuilt over every model loaded.
  const completionContext = new CompletionContext(loadSyntax);
  const extraContext = new ExtraContext({ outlines: completionContext.syntax, recent: completionContext.recent });
  const engineHost = new EngineHost(log, (engine) => new CompletionPipeline(engine, { syntax: completionContext.syntax, extraContext }));
  const power = new PowerWatch(log);
  power.follow(readSettings().completion.pauseOnBattery);
  const statusBar = new StatusBar(engineHost, () => completionGate({
    ...readSettings().completion,
    languageId: vscode.window.activeTextEditor?.document.languageId,
    onBattery: power.onBattery,
    explicit: false,
  }));
  const provider = new InlineProvider(engineHost, log, (result) => statusBar.showCompletion(result), power);
  const isActiveDocument = (document: vscode.TextDocument) => document.uri.toString() === vscode.window.activeTextEditor?.document.uri.toString();

  const loadModel = () => {
    const { modelPath, threads, sparseFfn, memoryBudgetMB, neuronWindowTokens, backend } = readSettings().engine;
    const modelDir = resolveModelDir(modelPath, paths.defaultModelDir);
    const flash = { mode: sparseFfn ? 'sparse' : 'dense', memoryBudgetMB, windowTokens: neuronWindowTokens } as const;
    void engineHost.load({ modelDir, threads, flash, backend, workerScript: paths.workerScript, ortWasmDir: paths.ortWasmDir });
  };

  const refactorDocs = new ReadOnlyDocs('flashcode-refactor');
  const previewDocs = new ReadOnlyDocs('flashcode-preview');
  const key = new CloudKey(context.secrets);
  const consent = new CloudConsentUi(context.workspaceState, previewDocs);
  const panel = new ExplainPanel();
  const review = new RefactorReview(refactorDocs);
  const tasks = new TaskCommands({ engineHost, syntax: loadSyntax, key, consent, log, panel, review, statusBar });
  const models = new ModelPicker(context.globalStorageUri.fsPath, paths.importWorkerScript, paths.defaultModelDir, engineHost, log);

  context.subscriptions.push(
    log,
    engineHost,
    new TypingHeartbeat(log, () => engineHost.pipeline?.stats),
    power,
    statusBar,
    refactorDocs,
    previewDocs,
    panel,
    review,
    completionContext,
    { dispose: () => void syntax?.then((s) => s?.dispose()) },
    vscode.languages.registerInlineCompletionItemProvider({ pattern: '**' }, provider),
    vscode.commands.registerCommand(COMMANDS.toggleCompletions, () => setCompletionsEnabled(!readSettings().completion.enabled)),
    vscode.commands.registerCommand(COMMANDS.toggleLanguageCompletions, () => toggleLanguageCompletions()),
    vscode.commands.registerCommand(COMMANDS.showLog, () => log.show()),
    vscode.commands.registerCommand(COMMANDS.explain, () => tasks.explain()),
    vscode.commands.registerCommand(COMMANDS.refactor, () => tasks.refactor()),
    vscode.commands.registerCommand(COMMANDS.cancelTask, () => tasks.cancel()),
    vscode.commands.registerCommand(COMMANDS.applyRefactor, () => review.apply()),
    vscode.commands.registerCommand(COMMANDS.discardRefactor, () => review.discard()),
    vscode.commands.registerCommand(COMMANDS.setCloudApiKey, () => key.promptAndStore(readSettings().cloud.baseUrl)),
    vscode.commands.registerCommand(COMMANDS.clearCloudApiKey, () => key.clear()),
    vscode.commands.registerCommand(COMMANDS.resetCloudConsent, () => consent.reset()),
    vscode.commands.registerCommand(COMMANDS.chooseModel, () => models.choose()),
    vscode.commands.registerCommand(COMMANDS.removeModel, () => models.remove()),
    vscode.commands.registerCommand(COMMANDS.revealModelFolder, () => models.reveal()),
    vscode.commands.registerCommand(COMMANDS.statusMenu, () => showStatusMenu(readSettings().completion.enabled)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (affectsEngine(event)) loadModel();
      if (!affectsCompletionGate(event)) return;
      power.follow(readSettings().completion.pauseOnBattery);
      statusBar.update();
    }),
    power.onDidChange(() => statusBar.update()),
    vscode.window.onDidChangeActiveTextEditor(() => statusBar.update()),
    // A language change (Change Language Mode) reopens the document.
    vscode.workspace.onDidOpenTextDocument((document) => { if (isActiveDocument(document)) statusBar.update(); }),
  );
  loadModel();
}

export function deactivate(): void {}
