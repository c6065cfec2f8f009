// A completion request as context gathering sees it: a document, a cursor in it, and a source of
// code from outside the prompt's window. Plain data, no vscode; src/completion/types.ts re-exports it.

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

/** Code from outside the window for the prompt (./extraContext.ts). */
export interface ExtraContextSource {
  /** Code to put before the prefix of a prompt whose window starts at document offset
   *  `windowStart`, at most `maxChars` long ('' for none). It must change only when what it is made
   *  of changes — not on every keystroke — so the engine can reuse the prompt's cached keys and
   *  values. Synchronous and quick: it runs before every new engine call. */
  gather(request: CompletionRequest, windowStart: number, maxChars: number): string;
}
