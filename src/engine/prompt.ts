// Renders prompt parts with the model's template and fits them to the context window at token
// level: the end of the prefix and the start of the suffix are what matter for the next tokens.
import type { Manifest } from './manifest';
import type { TextTokenizer } from './tokenizer';
import type { PromptParts } from './types';

/** Share of the prompt budget the suffix may take when both sides are long. */
const SUFFIX_SHARE = 0.25;

export function renderPromptIds(parts: PromptParts, tok: TextTokenizer, manifest: Manifest, budgetTokens: number): number[] {
  if (parts.kind === 'text') {
    const ids = tok.encode(parts.text);
    return ids.slice(Math.max(0, ids.length - budgetTokens));
  }
  const { fim } = manifest;
  const room = Math.max(0, budgetTokens - 3); // three FIM control tokens
  let prefix = tok.encode(parts.prefix);
  let suffix = tok.encode(parts.suffix);
  if (prefix.length + suffix.length > room) {
    const suffixRoom = Math.min(suffix.length, Math.max(Math.floor(room * SUFFIX_SHARE), room - prefix.length));
    prefix = prefix.slice(Math.max(0, prefix.length - (room - suffixRoom)));
    suffix = suffix.slice(0, suffixRoom);
  }
  return [
    tok.specialId(fim.prefixToken), ...prefix,
    tok.specialId(fim.suffixToken), ...suffix,
    tok.specialId(fim.middleToken),
  ];
}
