// The engine's public surface. Callers above engine/ import from here only.
import { InProcessEngine } from './inProcessEngine';
import type { Engine, EngineOptions } from './types';
import { WorkerEngine } from './worker/proxy';

export * from './types';
export * from './errors';

export function loadInProcessEngine(options: EngineOptions): Promise<InProcessEngine> {
  return InProcessEngine.load(options);
}

/** `workerScript`: the bundled dist/engineWorker.js. */
export function startWorkerEngine(options: EngineOptions & { workerScript: string }): Promise<Engine> {
  return WorkerEngine.start(options);
}
