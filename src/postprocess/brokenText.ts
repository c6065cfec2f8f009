import type { PostProcessor } from './types';

/** The last guard before text reaches the document (the engine's decoder already ends at bytes
 *  that are not UTF-8): cut at a control character other than newline (\n, \r\n) and tab, at a lone
 *  surrogate, and at U+FFFD unless the document already holds one (then it may be meant). */
export const cutAtBrokenText: PostProcessor = (suggestion, { prefix, suffix }) => {
  const replacementAllowed = prefix.includes('\uFFFD') || suffix.includes('\uFFFD');
  for (let i = 0; i < suggestion.length; i++) {
    const c = suggestion.charCodeAt(i);
    const high = c >= 0xd800 && c <= 0xdbff;
    const low = c >= 0xdc00 && c <= 0xdfff;
    if (high) {
      const next = suggestion.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) { i++; continue; }
    }
    const crlf = c === 0x0d && suggestion.charCodeAt(i + 1) === 0x0a;
    const control = c !== 0x09 && c !== 0x0a && !crlf && (c < 0x20 || (c >= 0x7f && c < 0xa0));
    if (high || low || control || (c === 0xfffd && !replacementAllowed)) return suggestion.slice(0, i);
  }
  return suggestion;
};
