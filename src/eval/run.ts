// One evaluation, top to bottom: for each task the document is prefix + suffix with the cursor
// between them → the completion pipeline the extension runs (clipping, extra context, prompt
// fitting, greedy generation, post-processing) → the score against the expected text. Tasks run one
// at a time.

import { languageIdForName } from '../common/languageIds';
import { CompletionPipeline, type PipelineOptions } from '../completion/pipeline';
import type { CompletionRequest, CompletionSettings } from '../completion/types';
import type { Engine, StopReason } from '../engine';
import { scoreCompletion, type Score } from './score';
import type { EvalTask, TaskKind } from './tasks';

export interface TaskResult extends Score {
  id: string;
  language: string;
  kind: TaskKind;
  expected: string;
  /** The whole suggestion the extension would show ('' when there is none). */
  completion: string;
  /** Wall-clock time of the pipeline call. */
  ms: number;
  generatedTokens: number;
  /** Why generation ended; 'skipped' when the pipeline made no engine call. */
  stopReason: StopReason | 'skipped';
}

export async function runEval(
  engine: Engine,
  tasks: readonly EvalTask[],
  settings: CompletionSettings,
  onResult?: (result: TaskResult, done: number) => void,
  pipelineOptions: PipelineOptions = {},
): Promise<TaskResult[]> {
  const pipeline = new CompletionPipeline(engine, pipelineOptions);
  // Unscored warm-up, so the first task's time budget is not spent on first-run allocations.
  if (tasks.length > 0) await pipeline.complete(requestFor(tasks[0]), settings);

  const results: TaskResult[] = [];
  for (const task of tasks) {
    const startMs = performance.now();
    const result = await pipeline.complete(requestFor(task), settings);
    const ms = performance.now() - startMs;
    const completion = result?.text ?? '';
    results.push({
      id: task.id,
      language: task.language,
      kind: task.kind,
      expected: task.expected,
      ...scoreCompletion(completion, task.expected, task.kind),
      completion,
      ms,
      generatedTokens: result?.generatedTokens ?? 0,
      stopReason: result?.stopReason ?? 'skipped',
    });
    onResult?.(results[results.length - 1], results.length);
  }
  return results;
}

export function requestFor(task: EvalTask): CompletionRequest {
  return {
    document: task.prefix + task.suffix,
    offset: task.prefix.length,
    languageId: languageIdForName(task.language),
    fileName: `eval-task-${task.line}`,
  };
}
