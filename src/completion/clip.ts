// Cuts the document down to a bounded window around the cursor. Only the window is ever read from
// the document, so the cost is independent of the document's size.

import type { CursorContext, TextSource } from './types';

export interface ClipLimits {
  maxPrefixChars: number;
  maxSuffixChars: number;
}

export const DEFAULT_CLIP_LIMITS: ClipLimits = { maxPrefixChars: 8_000, maxSuffixChars: 2_000 };

/** The cursor's neighbourhood: at most `maxPrefixChars` before it and `maxSuffixChars` after it.
 *  A window cut inside a line drops that partial line, so the model never sees half a line at the
 *  edges (unless the window is a single line, which is kept as is). `offset` is clamped. */
export function clipAroundCursor(source: TextSource, offset: number, limits = DEFAULT_CLIP_LIMITS): CursorContext {
  const cursor = Math.min(Math.max(0, Math.trunc(offset) || 0), source.length);

  const prefixStart = Math.max(0, cursor - limits.maxPrefixChars);
  let prefix = source.slice(prefixStart, cursor);
  if (prefixStart > 0) prefix = dropPartialFirstLine(prefix);

  const suffixEnd = Math.min(source.length, cursor + limits.maxSuffixChars);
  let suffix = source.slice(cursor, suffixEnd);
  if (suffixEnd < source.length) suffix = dropPartialLastLine(suffix);

  return { prefix, suffix };
}

function dropPartialFirstLine(text: string): string {
  const newline = text.indexOf('\n');
  if (newline >= 0) return text.slice(newline + 1);
  return isLowSurrogate(text.charCodeAt(0)) ? text.slice(1) : text;
}

function dropPartialLastLine(text: string): string {
  const newline = text.lastIndexOf('\n');
  if (newline >= 0) return text.slice(0, newline + 1);
  return isHighSurrogate(text.charCodeAt(text.length - 1)) ? text.slice(0, -1) : text;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
