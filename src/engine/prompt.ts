// Renders prompt parts with the model's template and fits them to the context window at token
// level: the end of the prefix and the start of the suffix are what matter for the next tokens.
import type { Manifest } from './manifest';
import type { TextTokenizer } from './tokenizer';
import type { PromptParts } from './types';

/** The FIM control tokens a fill-in-the-middle prompt adds around prefix and suffix. */
export const FIM_CONTROL_TOKENS = 3;
/** A tiny context still gets this many prompt tokens. */
const MIN_PROMPT_TOKENS = 16;

/** Tokens a prompt may take: the context less room for the answer, never below a small floor. */
export function promptBudgetTokens(contextTokens: number, maxNewTokens: number): number {
  return Math.max(MIN_PROMPT_TOKENS, contextTokens - maxNewTokens);
}

/** Share of the prompt budget the suffix may take when both sides are long. */
const SUFFIX_SHARE = 0.25;

/** A too-long prefix loses a multiple of this many tokens from its front, so its first kept token
 *  stays put while the user types at its end and the engine can reuse the cached keys and values
 *  of the whole window. Up to one chunk of the budget goes unused by the prefix. */
const DROP_CHUNK_TOKENS = 64;

export function renderPromptIds(parts: PromptParts, tok: TextTokenizer, manifest: Manifest, budgetTokens: number): number[] {
  if (parts.kind === 'text') return keepEnd(tok.encode(parts.text), budgetTokens);
  const { fim } = manifest;
  if (!fim) return keepEnd(tok.encode(parts.prefix), budgetTokens); // no FIM tokens (v2 may omit them): the prefix alone
  const room = Math.max(0, budgetTokens - FIM_CONTROL_TOKENS);
  let prefix = tok.encode(parts.prefix);
  let suffix = tok.encode(parts.suffix);
  const [pre, suf, mid] = [tok.specialId(fim.prefixToken), tok.specialId(fim.suffixToken), tok.specialId(fim.middleToken)];
  if (fim.order === 'spm') {
    // Suffix first: typing at the cursor changes only the end of the prompt, so the next keystroke
    // reuses the cached keys and values of everything before it. The suffix's cut therefore must
    // not move as the prefix grows: when both do not fit, it keeps exactly its share.
    if (prefix.length + suffix.length > room) {
      suffix = suffix.slice(0, Math.min(suffix.length, Math.floor(room * SUFFIX_SHARE)));
      prefix = keepEnd(prefix, room - suffix.length);
    }
    return [pre, suf, ...suffix, mid, ...prefix];
  }
  if (prefix.length + suffix.length > room) {
    const suffixRoom = Math.min(suffix.length, Math.max(Math.floor(room * SUFFIX_SHARE), room - prefix.length));
    prefix = keepEnd(prefix, room - suffixRoom);
    suffix = suffix.slice(0, room - prefix.length); // the suffix may use what the prefix's cut left over
  }
  return [pre, ...prefix, suf, ...suffix, mid];
}

/** At most `keep` tokens from the end of `ids`, dropping whole chunks from the front. The chunk is
 *  at most a quarter of `keep`, so a small budget still keeps three quarters of it. */
function keepEnd(ids: number[], keep: number): number[] {
  if (ids.length <= keep) return ids;
  const chunk = Math.max(1, Math.min(DROP_CHUNK_TOKENS, Math.floor(keep / 4)));
  return ids.slice(Math.ceil((ids.length - keep) / chunk) * chunk);
}
