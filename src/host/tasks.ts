// Explain and Refactor: from the active editor to runTask and back to the Explain view or the
// refactor diff. The task itself (routing, consent, cloud, fallback) is src/commands/runTask.

import crypto from 'node:crypto';
import * as vscode from 'vscode';
import { isCloudConfigured } from '../cloud/config';
import { runTask } from '../commands/runTask';
import type { TaskDeps, TaskInput } from '../commands/types';
import { describeError } from '../common/describeError';
import type { SyntaxService } from '../context/syntax';
import { isAbort, type Engine } from '../engine';
import type { Route } from '../router/types';
import { CONTEXT_KEYS } from './commandIds';
import type { EngineHost } from './engineHost';
import type { ExplainPanel } from './explainPanel';
import { pickInstruction } from './instructionPick';
import type { Instruction } from './instructions';
import type { RefactorReview } from './refactorReview';
import type { StatusBar } from './statusBar';
import { describeTarget } from './taskInput';
import { describeRoute, prepareTask, taskDeps, type DepsSources, type ReadyTask } from './taskSetup';

export interface TaskHost extends DepsSources {
  engineHost: EngineHost;
  syntax: () => Promise<SyntaxService | undefined>;
  panel: ExplainPanel;
  review: RefactorReview;
  statusBar: StatusBar;
}

export class TaskCommands {
  private refactorRun: AbortController | undefined;
  private running = 0;

  constructor(private readonly h: TaskHost) {}

  async explain(): Promise<void> {
    const ready = await prepareTask(this.h.engineHost, await this.h.syntax());
    if (!ready) return;
    const { editor, engine, task } = ready;
    const run = this.h.panel.start(describeTarget(editor.document, task.target), 'Measuring the task…');
    let routes = 0;
    await this.whileRunning(async () => {
      try {
        const deps = await taskDeps(engine, this.h, () => run.status('Waiting for your consent to send this to the cloud…'));
        const result = await runTask({ kind: 'explain', target: task.target, context: task.context }, deps, {
          signal: run.signal,
          onText: run.append,
          // A second route is the local fallback after a cloud failure: it answers from the start.
          onRoute: (route) => (routes++ === 0 ? run.status : run.restart)(this.routed(route, engine)),
        });
        run.finish(result);
      } catch (error) {
        run.fail(describeError(error));
        this.failed(error, 'Explain');
      }
    });
  }

  async refactor(): Promise<void> {
    const ready = await prepareTask(this.h.engineHost, await this.h.syntax());
    if (!ready) return;
    const instruction = await pickInstruction();
    if (!instruction) return;
    await this.runRefactor(ready, instruction, {});
  }

  /** One try at a rewrite; a proposal that must not be applied offers another try instead. */
  private async runRefactor(ready: ReadyTask, instruction: Instruction, retry: Pick<TaskInput, 'attempt' | 'preferCloud'>): Promise<void> {
    const { editor, engine, task } = ready;
    this.refactorRun?.abort();
    const controller = new AbortController();
    this.refactorRun = controller;
    const where = describeTarget(editor.document, task.target);
    const title = `Flashcode: ${instruction.label} — ${where}`;
    let refusal: Refusal | undefined;
    await this.whileRunning(() => vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      token.onCancellationRequested(() => controller.abort());
      try {
        const deps = { ...await taskDeps(engine, this.h, () => progress.report({ message: 'waiting for your consent…' })), codeReader: await this.h.syntax() };
        const result = await runTask({ kind: 'refactor', target: task.target, context: task.context, instruction: instruction.text, ...retry }, deps,
          { signal: controller.signal, onRoute: (route) => progress.report({ message: this.routed(route, engine) }) });
        this.h.statusBar.showCloudRequest(undefined);
        if (result.text.trim() === '' || result.text === task.target.code) {
          void vscode.window.showInformationMessage(`Flashcode: the model proposed no change to ${where}. ${result.notices.join(' ')}`.trim());
          return;
        }
        const what = result.refused ? `not offered (${result.refused})` : 'proposed';
        this.h.log.info(`refactor of ${where} ${what}: ${result.text.length} characters, sha256 ${sha256(result.text)}`);
        if (result.refused) {
          const local = result.answeredBy.kind === 'local';
          refusal = { why: result.refused, local, cloud: local && cloudUsable(deps) };
          return;
        }
        void this.h.review.show({
          document: editor.document, start: task.target.start, end: task.target.end, original: task.target.code,
          proposed: result.text, instruction: instruction.label, notices: result.notices,
        });
      } catch (error) {
        if (isAbort(error)) void vscode.window.showInformationMessage('Flashcode: Refactor cancelled.');
        else this.failed(error, `Refactor of ${where}`, true);
      }
    }));
    if (!refusal) return;
    const again = await this.offerRetry(where, refusal, retry.attempt ?? 0);
    if (again) await this.runRefactor(ready, instruction, again);
  }

  /** Says why the proposal is not offered (once the progress notification has closed); resolves
   *  to the next try the user chose, if any. */
  private async offerRetry(where: string, { why, local, cloud }: Refusal, attempt: number): Promise<Pick<TaskInput, 'attempt' | 'preferCloud'> | undefined> {
    const hint = local ? ` The local model is small and sometimes answers like this: try again${cloud ? ', or ask the cloud model' : ''}.` : '';
    const choice = await vscode.window.showWarningMessage(`Flashcode: the proposed change to ${where} is not offered for Apply: ${why}.${hint}`, ...(cloud ? [RETRY, USE_CLOUD] : [RETRY]));
    if (choice === RETRY) return { attempt: attempt + 1 };
    if (choice === USE_CLOUD) return { preferCloud: true };
    return undefined;
  }

  /** Cancels the running Explain and Refactor, if any. */
  cancel(): void {
    this.h.panel.cancel();
    this.refactorRun?.abort();
  }

  /** Shows a cloud request in the status bar while it runs; returns the progress line. */
  private routed(route: Route, engine: Engine): string {
    const { cloudHost, line } = describeRoute(route, engine);
    this.h.statusBar.showCloudRequest(cloudHost);
    this.h.log.info(`task route: ${route.target}${cloudHost ? ` (${cloudHost})` : ''}`);
    return line;
  }

  private failed(error: unknown, what: string, show = false): void {
    if (isAbort(error)) return;
    this.h.engineHost.restartAfterCrash(error);
    if (show) this.h.log.error(error, what);
    else this.h.log.info(`${what} failed: ${describeError(error)}`);
  }

  /** The "a task runs" context key (for the Cancel command) stays true while any task runs. */
  private async whileRunning(work: () => Thenable<void> | Promise<void>): Promise<void> {
    if (this.running++ === 0) void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.taskRunning, true);
    try {
      await work();
    } finally {
      this.h.statusBar.showCloudRequest(undefined);
      if (--this.running === 0) void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.taskRunning, false);
    }
  }
}

/** Why a proposal was not offered, and whether the cloud model could answer instead. */
interface Refusal {
  why: string;
  local: boolean;
  cloud: boolean;
}

const RETRY = 'Try Again';
const USE_CLOUD = 'Use the Cloud Model';

/** Whether "Use the Cloud Model" can do anything: on, set up, and not refused for this workspace. */
function cloudUsable(deps: TaskDeps): boolean {
  return deps.cloud.enabled && isCloudConfigured(deps.cloud) && deps.consent !== 'denied';
}

/** Identifies a proposal in the log without writing its code there (the e2e test checks the applied text by it). */
function sha256(text: string): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}
