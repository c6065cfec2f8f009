import type { ModelInfo } from '../engine';

/** Where the model stands, as the status bar and the inline provider see it. */
export type EngineState =
  | { kind: 'loading'; modelDir: string }
  | { kind: 'ready'; modelDir: string; info: ModelInfo; threads: number }
  | { kind: 'error'; modelDir: string; message: string };
