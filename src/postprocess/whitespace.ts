import type { PostProcessor } from './types';

/** Whitespace at the end of a suggestion would only leave trailing spaces or blank lines behind. */
export const trimTrailingWhitespace: PostProcessor = (suggestion) => suggestion.trimEnd();

/** Nothing visible, nothing to show. */
export const dropBlank: PostProcessor = (suggestion) => (suggestion.trim() === '' ? undefined : suggestion);
