// The engine's public surface for the extension host: the contract, the named errors and the
// worker-backed engine. The in-process engine (which pulls ONNX Runtime into the bundle that
// imports it) is in ./local, for the worker itself, the CLI, tests and benchmarks.
import type { Engine, EngineOptions } from './types';
import { WorkerEngine } from './worker/proxy';

export * from './types';
export * from './errors';
export type { FlashOptions } from './ffn/loadFlash';
export { FIM_CONTROL_TOKENS, promptBudget, promptBudgetTokens, splitFimTokens, type CharBudgetInput, type CharLimits, type PromptBudget } from './promptBudget';

/** `workerScript`: the bundled dist/engineWorker.js. */
export function startWorkerEngine(options: EngineOptions & { workerScript: string }): Promise<Engine> {
  return WorkerEngine.start(options);
}
