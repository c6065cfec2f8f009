// The decode loop: prefill the prompt (only the part the KV cache does not already hold), then one
// token at a time until a stop token, a stop string, the token limit, the context end, the time
// budget or an abort. Text streams as it becomes final. Greedy decoding may run drafted tokens
// along with each token (speculate.ts); the drafts it keeps then go through the same checks, one at
// a time, as if each had been decoded alone.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { AbortedError } from './errors';
import type { KvCache } from './kvCache';
import type { ForwardPass } from './forwardPass';
import { sampleToken, seededRandom } from './sampling';
import { MAX_DRAFT_TOKENS, nextDraftLength, verifyDrafts, type Drafter } from './speculate';
import type { TextTokenizer } from './tokenizer';
import type { GenerateCallbacks, GenerateRequest, GenerateResult, StopReason } from './types';

export interface GenerateInput {
  model: ForwardPass;
  tokenizer: TextTokenizer;
  promptIds: number[];
  stopIds: ReadonlySet<number>;
  contextTokens: number;
  /** The cache left by the previous generation, whose longest common prefix with `promptIds` is
   *  reused; it ends holding the prompt and the generated tokens that were run. Absent: a fresh one. */
  kv?: KvCache;
  /** Speculative decoding when the request is greedy (temperature 0): drafts to verify after each
   *  sampled token (speculate.ts's lookupDrafts). Absent: one token per forward pass. */
  drafter?: Drafter;
}

export async function generateTokens(input: GenerateInput, request: GenerateRequest, callbacks: GenerateCallbacks = {}): Promise<GenerateResult> {
  const started = performance.now();
  const elapsedMs = () => performance.now() - started;
  const { model, tokenizer, promptIds, stopIds } = input;
  const { signal, onText } = callbacks;
  const stopStrings = (request.stopStrings ?? []).filter((s) => s !== '');
  const random = seededRandom(request.seed);
  const checkAbort = () => { if (signal?.aborted) throw new AbortedError(); };

  checkAbort();
  const kv = input.kv ?? model.newCache();
  const reusedPromptTokens = kv.keepCommonPrefix(promptIds);
  let logits = await model.forward(promptIds.slice(reusedPromptTokens), kv);
  const drafter = request.temperature <= 0 ? input.drafter : undefined;
  const context = [...promptIds]; // what drafts are looked up in: the prompt, then `ids`
  const ids: number[] = [];
  /** Accepted drafts not yet taken: already run (the cache holds them), `logits` follows the last. */
  const drafted: number[] = [];
  let draftLength = MAX_DRAFT_TOKENS;
  let draftTokens = 0;
  let acceptedDraftTokens = 0;
  // Token bytes → text: a character split across tokens shows once complete; bytes that are not
  // UTF-8 or a control character (other than newline and tab) end the text there.
  const decoder = tokenizer.streamDecoder();
  let text = '';
  let streamed = 0; // chars of `text` already passed to onText
  let ttfsMs: number | undefined;
  let stopReason: StopReason;

  for (;;) {
    await yieldToEventLoop(); // lets an abort message in between tokens
    if (signal?.aborted) kv.truncate(kv.length - drafted.length); // what plain decoding would hold
    checkAbort();
    const alreadyRun = drafted.length > 0;
    const next = drafted.shift() ?? sampleToken(logits, { temperature: request.temperature, topP: request.topP, random });
    if (stopIds.has(next)) { stopReason = 'stop-token'; break; }
    ids.push(next);
    context.push(next);
    decoder.push(next);
    text = decoder.text;
    const stopAt = firstStop(text, stopStrings);
    if (stopAt >= 0) { text = text.slice(0, stopAt); stopReason = 'stop-string'; break; }
    if (decoder.ended) { stopReason = 'bad-text'; break; }
    const final = finalLength(text, stopStrings);
    if (final > streamed) {
      onText?.(text.slice(streamed, final));
      streamed = final;
      ttfsMs ??= elapsedMs();
    }
    if (ids.length >= request.maxNewTokens) { stopReason = 'max-tokens'; break; }
    // Tokens plain decoding would have run by now: the prompt and every id before `next`.
    if (promptIds.length + ids.length - 1 >= input.contextTokens) { stopReason = 'context-full'; break; }
    if (elapsedMs() >= request.timeBudgetMs) { stopReason = 'time-budget'; break; }
    if (alreadyRun) continue;
    // Drafts never reach past the token limit (the pass itself gives one more token) or the context.
    const room = Math.min(draftLength, request.maxNewTokens - ids.length - 1, input.contextTokens - kv.length - 1);
    const drafts = drafter && room > 0 ? drafter(context, room).slice(0, room) : [];
    if (drafts.length === 0) {
      logits = await model.forward([next], kv);
      continue;
    }
    const verified = await verifyDrafts(model, kv, next, drafts);
    draftTokens += drafts.length;
    acceptedDraftTokens += verified.accepted.length;
    draftLength = nextDraftLength(drafts.length, verified.accepted.length);
    drafted.push(...verified.accepted);
    logits = verified.logits;
  }
  // The cache ends as plain decoding leaves it: no drafts accepted past the stop, and the last
  // generated token only if a stop token followed it (only then did it run).
  kv.truncate(promptIds.length + ids.length - (stopReason === 'stop-token' ? 0 : 1));
  if (text.length > streamed) {
    onText?.(text.slice(streamed));
    ttfsMs ??= elapsedMs();
  }
  const totalMs = elapsedMs();
  return {
    text, tokenIds: ids, promptTokens: promptIds.length, generatedTokens: ids.length, ttfsMs: ttfsMs ?? totalMs, totalMs, stopReason,
    reusedPromptTokens, prefilledPromptTokens: promptIds.length - reusedPromptTokens, draftTokens, acceptedDraftTokens,
  };
}

function firstStop(text: string, stops: readonly string[]): number {
  let at = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}

/** How much of `text` can no longer change: not a possible start of a stop string. */
function finalLength(text: string, stops: readonly string[]): number {
  let end = text.length;
  for (const s of stops) {
    for (let k = Math.min(s.length - 1, end); k > 0; k--) {
      if (text.slice(end - k, end) === s.slice(0, k)) { end -= k; break; }
    }
  }
  return end;
}
