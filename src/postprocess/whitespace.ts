import type { PostProcessor } from './types';

/** Spaces at line ends and blank lines at the end would only be left behind in the document. */
export const trimTrailingWhitespace: PostProcessor = (suggestion) =>
  suggestion.split('\n').map((line) => line.replace(/[ \t]+(\r?)$/, '$1')).join('\n').trimEnd();

/** Nothing visible, nothing to show. */
export const dropBlank: PostProcessor = (suggestion) => (suggestion.trim() === '' ? undefined : suggestion);
