// The post-processing chain applied to every raw model output, in order. Each step may drop the
// suggestion; the chain stops at the first that does.

import { cutAtSuffixEcho, dropSuffixEcho } from './suffixEcho';
import type { PostProcessor, SuggestionContext } from './types';
import { dropBlank, trimTrailingWhitespace } from './whitespace';

export type { PostProcessor, SuggestionContext } from './types';

export const DEFAULT_POSTPROCESSORS: readonly PostProcessor[] = [
  cutAtSuffixEcho,
  dropSuffixEcho,
  trimTrailingWhitespace,
  dropBlank,
];

export function postprocess(
  suggestion: string,
  context: SuggestionContext,
  steps: readonly PostProcessor[] = DEFAULT_POSTPROCESSORS,
): string | undefined {
  let text: string | undefined = suggestion;
  for (const step of steps) {
    if (text === undefined) break;
    text = step(text, context);
  }
  return text;
}
