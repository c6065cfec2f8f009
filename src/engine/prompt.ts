// Renders prompt parts with the model's template and fits them to the context window at token
// level (./promptBudget.ts shares it out): the end of the prefix and the start of the suffix are
// what matter for the next tokens.
import type { Manifest } from './manifest';
import { FIM_CONTROL_TOKENS, splitFimTokens } from './promptBudget';
import type { TextTokenizer } from './tokenizer';
import type { ChatFormat, PromptParts } from './types';

/** A too-long prefix loses a multiple of this many tokens from its front, so its first kept token
 *  stays put while the user types at its end and the engine can reuse the cached keys and values
 *  of the whole window. Up to one chunk of the budget goes unused by the prefix. */
const DROP_CHUNK_TOKENS = 64;

export function renderPromptIds(parts: PromptParts, tok: TextTokenizer, manifest: Manifest, budgetTokens: number): number[] {
  if (parts.kind === 'text') return keepEnd(tok.encode(parts.text), budgetTokens);
  if (parts.kind === 'chat') return renderChatIds(parts, tok, chatFormat(manifest), budgetTokens);
  const { fim } = manifest;
  if (!fim) return keepEnd(tok.encode(parts.prefix), budgetTokens); // no FIM tokens (v2 may omit them): the prefix alone
  const room = Math.max(0, budgetTokens - FIM_CONTROL_TOKENS);
  let prefix = tok.encode(parts.prefix);
  let suffix = tok.encode(parts.suffix);
  const [pre, suf, mid] = [tok.specialId(fim.prefixToken), tok.specialId(fim.suffixToken), tok.specialId(fim.middleToken)];
  const keep = splitFimTokens(room, { prefixTokens: prefix.length, suffixTokens: suffix.length }, fim.order);
  if (fim.order === 'spm') {
    // Suffix first: typing at the cursor changes only the end of the prompt, so the next keystroke
    // reuses the cached keys and values of everything before it.
    suffix = suffix.slice(0, keep.suffixTokens);
    prefix = keepEnd(prefix, keep.prefixTokens);
    return [pre, suf, ...suffix, mid, ...prefix];
  }
  prefix = keepEnd(prefix, keep.prefixTokens);
  suffix = suffix.slice(0, room - prefix.length); // the suffix may use what the prefix's cut left over
  return [pre, ...prefix, suf, ...suffix, mid];
}

/** At most `keep` tokens from the end of `ids`, dropping whole chunks from the front. The chunk is
 *  at most a quarter of `keep`, so a small budget still keeps three quarters of it. */
function keepEnd(ids: number[], keep: number): number[] {
  if (ids.length <= keep) return ids;
  const chunk = Math.max(1, Math.min(DROP_CHUNK_TOKENS, Math.floor(keep / 4)));
  return ids.slice(Math.ceil((ids.length - keep) / chunk) * chunk);
}

/** The chat template the engine renders for this manifest; undefined when it has none we know. */
export function chatFormat(manifest: Manifest): ChatFormat | undefined {
  return 'chat' in manifest && manifest.chat?.format === 'chatml' ? 'chatml' : undefined;
}

const CHATML = { start: '<|im_start|>', end: '<|im_end|>' } as const;

/** A chat prompt as text: ChatML ending where the assistant's turn starts, or without a template
 *  the system text, a blank line and the user's. Counting its tokens as plain text over-counts
 *  ChatML's control tokens a little, never under-counts. */
export function renderChatText(system: string, user: string, format: ChatFormat | undefined): string {
  if (!format) return `${system}\n\n${user}\n\n`;
  return `${CHATML.start}system\n${system}${CHATML.end}\n${CHATML.start}user\n${user}${CHATML.end}\n${CHATML.start}assistant\n`;
}

/** ChatML with its control tokens as ids; when too long, the user's text loses its start, the
 *  system text and the turn markers stay. (The tokenizer, as for FIM prompts, also reads a control
 *  token written in the user's code as that token.) */
function renderChatIds(parts: { system: string; user: string }, tok: TextTokenizer, format: ChatFormat | undefined, budgetTokens: number): number[] {
  if (!format) return keepEnd(tok.encode(renderChatText(parts.system, parts.user, undefined)), budgetTokens);
  const [start, end] = [tok.specialId(CHATML.start), tok.specialId(CHATML.end)];
  const newline = tok.encode('\n');
  const head = [start, ...tok.encode(`system\n${parts.system}`), end, ...newline, start, ...tok.encode('user\n')];
  const tail = [end, ...newline, start, ...tok.encode('assistant\n')];
  const user = keepEnd(tok.encode(parts.user), Math.max(0, budgetTokens - head.length - tail.length));
  return [...head, ...user, ...tail];
}
