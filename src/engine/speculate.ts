// Speculative decoding by prompt lookup, greedy only: draft the tokens that followed the latest
// earlier occurrence of the context's last few tokens, run the current token and the drafts in one
// forward pass, and keep the drafts argmax agrees with. Code repeats itself (the next case of a
// switch, the next similar line, a line already in the suffix), so drafts often hold.
import type { KvCache } from './kvCache';
import type { ForwardPass } from './forwardPass';
import { argmax } from './sampling';

/** Longest and shortest n-gram looked up, and most drafts per pass. */
const LOOKUP_MAX_NGRAM = 3;
const LOOKUP_MIN_NGRAM = 1;
export const MAX_DRAFT_TOKENS = 8;

/** Proposes up to `maxDrafts` tokens to follow `context` (the prompt, then the generated ids). */
export type Drafter = (context: readonly number[], maxDrafts: number) => number[];

/** The `maxDrafts` tokens that followed the latest earlier occurrence of the last n tokens of
 *  `context`, trying n from longest to shortest; empty when nothing matches. */
export const lookupDrafts: Drafter = (context, maxDrafts) => {
  const len = context.length;
  if (maxDrafts <= 0) return [];
  for (let n = Math.min(LOOKUP_MAX_NGRAM, len - 1); n >= LOOKUP_MIN_NGRAM; n--) {
    const tail = len - n;
    // Latest start first; start = tail would be the n-gram itself.
    for (let start = tail - 1; start >= 0; start--) {
      let k = 0;
      while (k < n && context[start + k] === context[tail + k]) k++;
      if (k === n) {
        // What followed, read on into the drafts themselves where it reaches the end: a match just
        // before the tail (a run, a short repeated pattern) proposes that pattern again.
        const drafts: number[] = [];
        for (let i = start + n; drafts.length < maxDrafts; i++) drafts.push(i < len ? context[i] : drafts[i - len]);
        return drafts;
      }
    }
  }
  return [];
};

/** Drafts to ask for after a pass that verified `drafted` and kept `accepted` of them: twice as many
 *  after it kept all, one more than it kept otherwise, so runs of rejected drafts cost little more
 *  than plain decoding (one draft per pass) while a repeating stretch soon gets the full length. */
export function nextDraftLength(drafted: number, accepted: number): number {
  return accepted === drafted ? Math.min(MAX_DRAFT_TOKENS, 2 * Math.max(1, drafted)) : accepted + 1;
}

export interface Verified {
  /** The leading drafts greedy decoding would have produced; their keys and values stay in the cache. */
  accepted: number[];
  /** Logits after the last accepted draft (or after `current` when none): [vocab] f32. */
  logits: Float32Array;
}

/** Runs `current` (sampled, not yet run) and `drafts` after what `kv` holds, keeps the longest
 *  prefix of drafts that argmax agrees with, and truncates the cache past the rejected ones. */
export async function verifyDrafts(model: ForwardPass, kv: KvCache, current: number, drafts: readonly number[]): Promise<Verified> {
  const vocab = model.arch.vocabSize;
  const all = await model.forwardAll([current, ...drafts], kv); // [1 + drafts][vocab]
  const row = (i: number) => all.subarray(i * vocab, (i + 1) * vocab);
  let accepted = 0;
  while (accepted < drafts.length && argmax(row(accepted)) === drafts[accepted]) accepted++;
  kv.truncate(kv.length - (drafts.length - accepted));
  return { accepted: drafts.slice(0, accepted), logits: row(accepted) };
}
