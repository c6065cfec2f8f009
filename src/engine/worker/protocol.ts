// Messages between the extension host (WorkerEngine) and the inference worker (worker/main.ts).
import type { EngineErrorCode } from '../errors';
import type { EngineOptions, GenerateRequest, GenerateResult, ModelInfo } from '../types';

export type ToWorker =
  | { type: 'load'; options: EngineOptions }
  | { type: 'generate'; id: number; request: GenerateRequest }
  | { type: 'abort'; id: number }
  | { type: 'count'; id: number; text: string }
  | { type: 'dispose' };

/** Errors cross the boundary as plain data (structured clone drops prototypes). */
export interface WireError {
  name: string;
  message: string;
  code?: EngineErrorCode;
}

export type FromWorker =
  | { type: 'loaded'; info: ModelInfo }
  | { type: 'load-failed'; error: WireError }
  | { type: 'text'; id: number; delta: string }
  | { type: 'done'; id: number; result: GenerateResult }
  | { type: 'failed'; id: number; error: WireError }
  | { type: 'counted'; id: number; tokens: number }
  | { type: 'disposed' };
