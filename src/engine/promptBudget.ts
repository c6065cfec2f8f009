// How a model's context window is shared by a fill-in-the-middle prompt: room for the answer, the
// FIM control tokens, then the suffix's share and the prefix (extra context at its front). Two users,
// one rule: the engine cuts a prompt's tokens to it (./prompt.ts), and the completion pipeline clips
// the document to it in characters before that (src/completion/clip.ts), at stable places, so that
// the engine never has to cut the prefix's front — which would drop the extra context first and
// move the window start. Pure.

/** The FIM control tokens a fill-in-the-middle prompt adds around prefix and suffix. */
export const FIM_CONTROL_TOKENS = 3;
/** A tiny context still gets this many prompt tokens. */
const MIN_PROMPT_TOKENS = 16;
/** When prefix and suffix do not both fit, the suffix keeps at most this share of the room. */
const SUFFIX_SHARE = 0.25;

/** Tokens a prompt may take: the context less room for the answer, never below a small floor. */
export function promptBudgetTokens(contextTokens: number, maxNewTokens: number): number {
  return Math.max(MIN_PROMPT_TOKENS, contextTokens - maxNewTokens);
}

export interface FimSplit {
  prefixTokens: number;
  suffixTokens: number;
}

/** The most tokens of each side a FIM prompt keeps in `roomTokens` (the budget less the control
 *  tokens). Both whole when they fit. Otherwise the suffix keeps what it has up to its share, and in
 *  'psm' order also what a short prefix leaves; the prefix takes the rest. In 'spm' order the
 *  suffix's cut must not move as the prefix grows (the prompt ends with the prefix, and the engine
 *  reuses the cached keys and values of everything before the typing), so it keeps exactly its
 *  share. A prefix of Infinity asks for the suffix's quota when the prefix is long. */
export function splitFimTokens(roomTokens: number, want: FimSplit, order: 'psm' | 'spm'): FimSplit {
  const room = Math.max(0, roomTokens);
  if (want.prefixTokens + want.suffixTokens <= room) return want;
  const share = Math.floor(room * SUFFIX_SHARE);
  const suffixTokens = Math.min(want.suffixTokens, order === 'spm' ? share : Math.max(share, room - want.prefixTokens));
  return { prefixTokens: room - suffixTokens, suffixTokens };
}

export interface CharBudgetInput {
  contextTokens: number;
  maxNewTokens: number;
  charsPerToken: number;
  /** Characters after the cursor in the document: all of them may not need the suffix's share. */
  charsAfterCursor: number;
  /** Whether to keep room for extra context. */
  extraContext: boolean;
}

/** Most characters before and after the cursor (src/completion/clip.ts's ClipLimits). */
export interface CharLimits {
  maxPrefixChars: number;
  maxSuffixChars: number;
}

export interface PromptBudget {
  /** The window, with room kept for extra context. */
  clip: CharLimits;
  /** Most characters of extra context before the prefix (0 without it). */
  extraChars: number;
  /** The window when there turns out to be no extra context: the prefix takes its room. */
  clipWithoutExtra: CharLimits;
}

/** Token counts from characters are estimates: what a window really takes varies by some 10%
 *  around the ratio. */
const ESTIMATE_SAFETY = 0.9;
/** Share of the prefix's side that extra context may take. */
const EXTRA_SHARE = 0.25;

/** The budget in characters, converted from tokens with the language's measured characters per
 *  token (src/completion/tokenRatio.ts), never above `caps`. The suffix takes its quota as when the
 *  prefix is long (the engine then cuts nothing from the prefix). */
export function promptBudget(input: CharBudgetInput, caps: CharLimits): PromptBudget {
  const ratio = Math.max(0.5, input.charsPerToken);
  const room = promptBudgetTokens(input.contextTokens, input.maxNewTokens) - FIM_CONTROL_TOKENS;
  const usable = Math.floor(room * ESTIMATE_SAFETY);
  const { prefixTokens: prefixSide } = splitFimTokens(usable, { prefixTokens: Infinity, suffixTokens: Math.ceil(input.charsAfterCursor / ratio) }, 'psm');
  const extraTokens = input.extraContext ? Math.floor(prefixSide * EXTRA_SHARE) : 0;
  const clip = (prefixTokens: number) => ({ maxPrefixChars: Math.min(caps.maxPrefixChars, Math.floor(prefixTokens * ratio)), maxSuffixChars: caps.maxSuffixChars });
  return { clip: clip(prefixSide - extraTokens), extraChars: Math.floor(extraTokens * ratio), clipWithoutExtra: clip(prefixSide) };
}
