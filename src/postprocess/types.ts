import type { Block } from '../common/block';

/** The text around the cursor a suggestion is judged against. */
export interface SuggestionContext {
  prefix: string;
  suffix: string;
  /** VS Code language id: picks the grammar for syntax-aware truncation. */
  languageId?: string;
  /** Parses now or not at all; without it (or its answer) truncation follows indentation. */
  syntax?: BlockFinder;
}

/** What syntax-aware truncation asks of a parser; src/context/syntax.ts's SyntaxService answers. */
export interface BlockFinder {
  /** The innermost block around `offset` in `text`, synchronously; undefined when no parse is
   *  available right now. Never throws. */
  blockAt(text: string, offset: number, languageId: string): Block | undefined;
}

/** One post-processing step: the suggestion in, the suggestion out, or undefined to drop it. */
export type PostProcessor = (suggestion: string, context: SuggestionContext) => string | undefined;
