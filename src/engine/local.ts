// The engine in the calling thread (CLI, tests, benchmarks, and the worker's own inside).
import { InProcessEngine } from './inProcessEngine';
import type { EngineOptions } from './types';

export type { InProcessEngine };

export function loadInProcessEngine(options: EngineOptions): Promise<InProcessEngine> {
  return InProcessEngine.load(options);
}
