// The decode loop: prefill the prompt (only the part the KV cache does not already hold), then one
// token at a time until a stop token, a stop string, the token limit, the context end, the time
// budget or an abort. Text streams as it becomes final. (Speculative decoding by prompt lookup was
// tried and deleted: on SmolLM2 it lost on single-line completions, 0.73×, and gained 1.1× on
// multi-line ones; bench/speculative.ts in git history.)
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { AbortedError } from './errors';
import type { KvPositions } from './kvCache';
import type { ForwardPass } from './forwardPass';
import { sampleToken, seededRandom } from './sampling';
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
  kv?: KvPositions;
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
  const ids: number[] = [];
  // Token bytes → text: a character split across tokens shows once complete; bytes that are not
  // UTF-8 or a control character (other than newline and tab) end the text there.
  const decoder = tokenizer.streamDecoder();
  let text = '';
  let streamed = 0; // chars of `text` already passed to onText
  let ttfsMs: number | undefined;
  let stopReason: StopReason;

  for (;;) {
    await yieldToEventLoop(); // lets an abort message in between tokens
    checkAbort();
    const next = sampleToken(logits, { temperature: request.temperature, topP: request.topP, random });
    if (stopIds.has(next)) { stopReason = 'stop-token'; break; }
    ids.push(next);
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
    // Tokens run by now: the prompt and every id before `next`.
    if (promptIds.length + ids.length - 1 >= input.contextTokens) { stopReason = 'context-full'; break; }
    if (elapsedMs() >= request.timeBudgetMs) { stopReason = 'time-budget'; break; }
    logits = await model.forward([next], kv);
  }
  // The cache holds the prompt and every generated token that ran: the last one only if a stop token
  // followed it (only then was it run to get the next logits).
  if (text.length > streamed) {
    onText?.(text.slice(streamed));
    ttfsMs ??= elapsedMs();
  }
  const totalMs = elapsedMs();
  return {
    text, tokenIds: ids, promptTokens: promptIds.length, generatedTokens: ids.length, ttfsMs: ttfsMs ?? totalMs, totalMs, stopReason,
    reusedPromptTokens, prefilledPromptTokens: promptIds.length - reusedPromptTokens,
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
