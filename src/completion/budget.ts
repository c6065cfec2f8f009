// How the model's context window is shared between the prefix (extra context at its front), the
// suffix and the tokens to generate. The pipeline cuts the document to these sizes itself, at
// stable places (./clip), so that the engine never has to cut the prefix's front — which would drop
// the extra context first and move the window start. Sizes are in characters, converted from
// tokens with the language's measured characters per token (./tokenRatio). Pure.

import { FIM_CONTROL_TOKENS, promptBudgetTokens } from '../engine';
import type { ClipLimits } from './clip';

export interface BudgetInput {
  contextTokens: number;
  maxNewTokens: number;
  charsPerToken: number;
  /** Characters after the cursor in the document: all of them may not need the suffix's share. */
  charsAfterCursor: number;
  /** Whether to keep room for extra context. */
  extraContext: boolean;
}

export interface PromptBudget {
  /** The window, with room kept for extra context. */
  clip: ClipLimits;
  /** Most characters of extra context before the prefix (0 without it). */
  extraChars: number;
  /** The window when there turns out to be no extra context: the prefix takes its room. */
  clipWithoutExtra: ClipLimits;
}

/** Token counts are estimates: what a window really takes varies by some 10% around the ratio. */
const ESTIMATE_SAFETY = 0.9;
/** The suffix takes what the prefix leaves, at least this share of the room when it is long (as the
 *  engine gives it: the engine then cuts nothing from the prefix). */
const SUFFIX_SHARE = 0.25;
/** Share of the prefix's side that extra context may take. */
const EXTRA_SHARE = 0.25;

export function promptBudget(input: BudgetInput, caps: ClipLimits): PromptBudget {
  const ratio = Math.max(0.5, input.charsPerToken);
  const room = promptBudgetTokens(input.contextTokens, input.maxNewTokens) - FIM_CONTROL_TOKENS;
  const usable = Math.floor(room * ESTIMATE_SAFETY);
  const suffixTokens = Math.min(Math.ceil(input.charsAfterCursor / ratio), Math.floor(usable * SUFFIX_SHARE));
  const prefixSide = Math.max(0, usable - suffixTokens);
  const extraTokens = input.extraContext ? Math.floor(prefixSide * EXTRA_SHARE) : 0;
  const clip = (prefixTokens: number) => ({ maxPrefixChars: Math.min(caps.maxPrefixChars, Math.floor(prefixTokens * ratio)), maxSuffixChars: caps.maxSuffixChars });
  return { clip: clip(prefixSide - extraTokens), extraChars: Math.floor(extraTokens * ratio), clipWithoutExtra: clip(prefixSide) };
}
