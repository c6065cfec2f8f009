// The post-processing chain applied to every raw model output, in order: small filters, each of
// which may change the suggestion or drop it; the chain stops at the first that drops it.

import { cutAtBrokenText } from './brokenText';
import { dedupeClosers } from './closers';
import { matchIndentation } from './indentation';
import { cutAtSuffixEcho, dropSuffixEcho } from './suffixEcho';
import { truncateToBlock } from './truncate';
import type { PostProcessor, SuggestionContext } from './types';
import { dropBlank, trimTrailingWhitespace } from './whitespace';

export { closersReplaced } from './closers';
export type { BlockFinder, PostProcessor, SuggestionContext } from './types';

export const DEFAULT_POSTPROCESSORS: readonly PostProcessor[] = [
  cutAtBrokenText,
  trimTrailingWhitespace,
  dropBlank,
  matchIndentation,
  // Cut at the block's end first: the echo filters then see the closing line the suggestion ends with.
  truncateToBlock,
  cutAtSuffixEcho,
  dropSuffixEcho,
  dedupeClosers,
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
