/** The text around the cursor a suggestion is judged against. */
export interface SuggestionContext {
  prefix: string;
  suffix: string;
}

/** One post-processing step: the suggestion in, the suggestion out, or undefined to drop it. */
export type PostProcessor = (suggestion: string, context: SuggestionContext) => string | undefined;
