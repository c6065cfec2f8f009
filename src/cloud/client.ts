// One streamed chat completion from an OpenAI-compatible endpoint, through the official openai
// package (it retries 429 and 5xx with backoff, honouring Retry-After). On top of it: a silence
// timeout (the package's own timeout ends when the headers arrive), a total time and answer size
// bound (limits.ts: the answer is cut with a notice), no redirects, cancellation as AbortError,
// and every failure as a CloudError.
import OpenAI from 'openai';
import { AbortedError } from '../common/abortable';
import { cloudHost } from './config';
import { badBaseUrl, badKey, CloudError, mustWait, noEvents, redirected, seconds, stalled, toCloudError, tooSlow, type ErrorContext } from './errors';
import { answerLimitChars, apiKeyProblem, retryAfterMs, TOTAL_TIME_FACTOR, totalLimitMs } from './limits';
import type { ChatMessage } from './types';

export interface CloudConfig {
  baseUrl: string;
  model: string;
  /** From SecretStorage; undefined for a keyless local endpoint. */
  apiKey: string | undefined;
  /** Longest silence tolerated: before the answer starts and between two chunks. A whole request
   *  may last TOTAL_TIME_FACTOR times this. */
  timeoutMs: number;
  /** Retries of 429 / 5xx / connection failures (default 2). */
  maxRetries?: number;
  /** Receives one line per request and the openai package's own log (which redacts the key). */
  log?: (line: string) => void;
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'off';
}

export interface ChatRequest {
  messages: ChatMessage[];
  maxTokens: number;
  signal?: AbortSignal;
  onText?: (delta: string) => void;
}

export interface ChatResult {
  text: string;
  /** As the endpoint names it in its answer (falls back to the configured model). */
  model: string;
  host: string;
  /** From the call to the first streamed text; equals totalMs when nothing streamed. */
  ttfsMs: number;
  totalMs: number;
  /** Set when the answer was cut (too long, or the total time ran out): what to tell the user. */
  cutNotice?: string;
}

export async function streamChat(config: CloudConfig, request: ChatRequest): Promise<ChatResult> {
  const started = performance.now();
  const host = cloudHost(config.baseUrl);
  if (host === undefined) throw badBaseUrl();
  const keyProblem = config.apiKey === undefined ? undefined : apiKeyProblem(config.apiKey);
  if (keyProblem) throw badKey(keyProblem);
  if (request.signal?.aborted) throw new AbortedError();
  const maxRetries = config.maxRetries ?? 2;
  const ctx: ErrorContext = { host, model: config.model, apiKey: config.apiKey, timeoutMs: config.timeoutMs, retries: maxRetries };
  const totalMs = totalLimitMs(config.timeoutMs);
  const maxChars = answerLimitChars(request.maxTokens);

  const controller = new AbortController();
  const cancel = () => controller.abort();
  request.signal?.addEventListener('abort', cancel, { once: true });
  // Why this side stopped the request, when it did (undefined: the user cancelled or nothing did).
  let stopped: CloudError | 'total-time' | undefined;
  const stop = (why: NonNullable<typeof stopped>) => { stopped ??= why; controller.abort(); };
  let timer = setTimeout(() => stop(stalled(ctx)), config.timeoutMs);
  const heard = (waitMs = 0) => {
    clearTimeout(timer);
    timer = setTimeout(() => stop(stalled(ctx)), config.timeoutMs + waitMs);
  };
  const deadline = setTimeout(() => stop('total-time'), totalMs);

  const client = new OpenAI({
    baseURL: config.baseUrl,
    apiKey: config.apiKey ?? 'none',
    timeout: config.timeoutMs,
    maxRetries,
    logLevel: config.logLevel ?? 'warn',
    logger: packageLogger(config.log),
    fetch: async (url, init) => {
      // A redirect would re-send the code to where the user never consented: refused, not followed.
      const response = await fetch(url, { ...init, redirect: 'manual' });
      if (response.status >= 300 && response.status < 400) {
        const location = response.headers.get('location');
        const to = location && URL.canParse(location, String(url)) ? new URL(location, String(url)).origin : 'another address';
        stop(redirected(ctx, response.status, to));
        return response;
      }
      // Each answer, a retried one too, is a sign of life; a Retry-After wait is not silence, but a
      // wait past what the settings allow ends the request now, saying so.
      const waitMs = response.status === 429 || response.status >= 500 ? retryAfterMs(response.headers) : undefined;
      if (waitMs !== undefined && waitMs <= 60_000 && (waitMs > config.timeoutMs || performance.now() - started + waitMs > totalMs)) {
        stop(mustWait(ctx, response.status, waitMs));
      }
      heard(waitMs ?? 0);
      return response;
    },
  });
  let text = '';
  let model = config.model;
  let events = 0;
  let ttfsMs: number | undefined;
  let cutNotice: string | undefined;
  const answer = (): ChatResult => {
    if (stopped === 'total-time') cutNotice ??= `${host} was still answering after ${seconds(totalMs)} (${TOTAL_TIME_FACTOR} × flashcode.cloud.timeoutMs); the answer is cut there.`;
    const elapsedMs = performance.now() - started;
    config.log?.(`cloud: ${host} ${model}: ${text.length} chars in ${Math.round(elapsedMs)} ms${cutNotice ? ' (cut)' : ''}`);
    return { text, model, host, ttfsMs: ttfsMs ?? elapsedMs, totalMs: elapsedMs, ...(cutNotice ? { cutNotice } : {}) };
  };
  try {
    const stream = await client.chat.completions.create(
      { model: config.model, messages: request.messages, max_tokens: request.maxTokens, stream: true },
      { signal: controller.signal },
    );
    for await (const chunk of stream) {
      heard();
      events++;
      model = chunk.model || model;
      const delta = chunk.choices[0]?.delta?.content;
      if (!delta) continue;
      ttfsMs ??= performance.now() - started;
      const room = maxChars - text.length;
      const kept = delta.length > room ? delta.slice(0, room) : delta;
      text += kept;
      if (kept) request.onText?.(kept);
      if (delta.length > room) {
        cutNotice = `${host} sent more than the ${request.maxTokens} tokens asked for; the answer is cut at ${maxChars.toLocaleString('en-US')} characters.`;
        return answer();
      }
    }
    // The package ends the stream quietly when it is aborted; an abort is not an answer.
    if (controller.signal.aborted && !(stopped === 'total-time' && text !== '')) throw new AbortedError();
    if (events === 0) throw noEvents(ctx);
    return answer();
  } catch (error) {
    if (request.signal?.aborted) throw new AbortedError();
    if (stopped === 'total-time' && text !== '') return answer();
    const failure = stopped instanceof CloudError ? stopped : stopped === 'total-time' ? tooSlow(ctx, totalMs) : toCloudError(error, ctx);
    config.log?.(`cloud: ${failure.code}: ${failure.message}`);
    throw failure;
  } finally {
    clearTimeout(timer);
    clearTimeout(deadline);
    request.signal?.removeEventListener('abort', cancel);
    controller.abort(); // closes a stream left half-read
  }
}

function packageLogger(log: ((line: string) => void) | undefined) {
  const line = (level: string) => (message: string, ...rest: unknown[]) =>
    log?.(`openai ${level}: ${[message, ...rest.map((r) => JSON.stringify(r))].join(' ')}`);
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}
