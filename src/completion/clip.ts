// Cuts the document down to a bounded window around the cursor. Only the window is ever read from
// the document, so the cost is independent of the document's size.

import type { ClippedContext, TextSource } from './types';

export interface ClipLimits {
  maxPrefixChars: number;
  maxSuffixChars: number;
}

export const DEFAULT_CLIP_LIMITS: ClipLimits = { maxPrefixChars: 8_000, maxSuffixChars: 2_000 };

/** A prefix cut from a longer document starts at a multiple of this share of `maxPrefixChars`
 *  (then at the next line), so its start stays put while the user types: it moves once every
 *  step's worth of typing, not once per line, and the engine can reuse the cached keys and values
 *  of the whole window. The prefix keeps between 3/4 of its limit (less a line) and all of it. */
const PREFIX_STEP_SHARE = 1 / 4;

/** The cursor's neighbourhood: at most `maxPrefixChars` before it and `maxSuffixChars` after it.
 *  A window cut inside a line drops that partial line, so the model never sees half a line at the
 *  edges (unless the window is a single line, which is kept as is). `offset` is clamped.
 *  `origin` is the document offset of `source`'s first character when `source` is itself a window
 *  of a document: the prefix then starts where a clip of the whole document would start it. */
export function clipAroundCursor(source: TextSource, offset: number, limits = DEFAULT_CLIP_LIMITS, origin = 0): ClippedContext {
  const cursor = Math.min(Math.max(0, Math.trunc(offset) || 0), source.length);

  const start = prefixWindowStart(cursor, limits.maxPrefixChars, origin);
  let prefix = source.slice(start, cursor);
  if (start > 0) prefix = dropPartialFirstLine(prefix);

  const suffixEnd = Math.min(source.length, cursor + limits.maxSuffixChars);
  let suffix = source.slice(cursor, suffixEnd);
  if (suffixEnd < source.length) suffix = dropPartialLastLine(suffix);

  return { prefix, suffix, prefixStart: origin + cursor - prefix.length };
}

/** Where, in `source`, the prefix window of a cursor at `cursor` begins (before dropping a partial
 *  line): 0 when the limit reaches back that far, else the first step boundary of the document
 *  within the limit. */
function prefixWindowStart(cursor: number, maxChars: number, origin: number): number {
  const earliest = cursor - Math.max(0, maxChars);
  if (earliest <= 0) return 0;
  const step = Math.max(1, Math.floor(maxChars * PREFIX_STEP_SHARE));
  return Math.max(0, Math.ceil((origin + earliest) / step) * step - origin);
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
