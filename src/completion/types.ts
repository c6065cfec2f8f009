// Plain data that crosses from the editor into the completion pipeline and back. No `vscode` here:
// the host turns a TextDocument into a TextSource and a CancellationToken into an AbortSignal.

import type { StopReason } from '../engine';

/** Read access to a document by UTF-16 offsets. A plain string satisfies it, and so does a thin
 *  adapter over an editor document, so a multi-MB document is never copied whole. */
export interface TextSource {
  readonly length: number;
  slice(start: number, end: number): string;
}

export interface CompletionRequest {
  document: TextSource;
  /** Cursor position, in UTF-16 code units from the start of the document. */
  offset: number;
  languageId: string;
  fileName: string;
}

export interface CompletionResult {
  /** Text to insert at the cursor; '' when post-processing dropped the model's output. */
  text: string;
  /** From the pipeline call to the post-processed result. */
  latencyMs: number;
  /** From the engine call to its first streamed text. */
  ttfsMs: number;
  promptTokens: number;
  generatedTokens: number;
  stopReason: StopReason;
}

export interface CompletionSettings {
  maxNewTokens: number;
  timeBudgetMs: number;
}

/** The document around the cursor that the prompt is built from. */
export interface CursorContext {
  prefix: string;
  suffix: string;
}
