// Requests that are not worth a model run. Skipping is silent: no completion, no error.

import type { CursorContext } from './types';

/** Above this share of control characters (or U+FFFD, what undecodable bytes become) a window is
 *  taken for binary data rather than code. */
const MAX_CONTROL_SHARE = 0.1;

export function isBinaryLooking(text: string): boolean {
  if (text.length === 0) return false;
  let suspicious = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0) return true;
    if (isControl(code) || code === 0xfffd) suspicious++;
  }
  return suspicious / text.length > MAX_CONTROL_SHARE;
}

/** Why a request gets no model run, or undefined when it should get one. */
export function skipReason(context: CursorContext): string | undefined {
  if (isBinaryLooking(context.prefix) || isBinaryLooking(context.suffix)) return 'binary-looking text';
  // Text inserted there would split a character (an emoji, say) in two.
  const before = context.prefix.charCodeAt(context.prefix.length - 1);
  const after = context.suffix.charCodeAt(0);
  if (before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff) return 'cursor inside a surrogate pair';
  return undefined;
}

function isControl(code: number): boolean {
  // Tab, line feed, form feed and carriage return are ordinary in source files.
  if (code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d) return false;
  return code < 0x20 || (code >= 0x7f && code < 0xa0);
}
