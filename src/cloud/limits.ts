// Bounds on one cloud request, so a misbehaving endpoint cannot keep a task (and the Explain view)
// busy for ever or fill memory: total time, answer size, redirects, and Retry-After waits.

/** A whole request may last this many times the silence timeout (5 minutes at the default 30 s):
 *  long enough for 4,096 tokens at ~15 tokens/s, short enough that a trickling endpoint ends. */
export const TOTAL_TIME_FACTOR = 10;

/** Characters allowed per requested answer token, and the floor: a token is rarely over a few
 *  characters, so an answer past this ignores max_tokens. Explain (1,024 tokens) → 64 KiB,
 *  Refactor (4,096) → 128 KiB of text. */
export const CHARS_PER_TOKEN = 32;
export const MIN_ANSWER_CHARS = 64 * 1024;

export function totalLimitMs(timeoutMs: number): number {
  return timeoutMs * TOTAL_TIME_FACTOR;
}

export function answerLimitChars(maxTokens: number): number {
  return Math.max(MIN_ANSWER_CHARS, maxTokens * CHARS_PER_TOKEN);
}

/** Retry-After as the openai package reads it (retry-after-ms, else seconds, else an HTTP date);
 *  undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers): number | undefined {
  const ms = parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = parseFloat(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** Why a key would fail in an HTTP header, or undefined when it is fine: an invisible character
 *  (zero-width space, BOM) or any non-ASCII one pasted along with it. */
export function apiKeyProblem(key: string): string | undefined {
  const bad = [...key].find((c) => !/[\x21-\x7e]/.test(c));
  if (bad === undefined) return undefined;
  const code = `U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return /[ \t\r\n]/.test(bad) ? 'An API key has no spaces in it.' : `The key contains an invisible or non-ASCII character (${code}) — paste the key alone, as the provider shows it.`;
}
