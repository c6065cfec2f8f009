// One streamed chat completion from an OpenAI-compatible endpoint, through the official openai
// package (it retries 429 and 5xx with backoff, honouring Retry-After). On top of it: a silence
// timeout (the package's own timeout ends when the headers arrive), cancellation as AbortError,
// and every failure as a CloudError.
import OpenAI from 'openai';
import type { ChatMessage } from '../commands/types';
import { AbortedError } from '../engine/errors';
import { cloudHost } from './config';
import { badBaseUrl, noEvents, stalled, toCloudError, type ErrorContext } from './errors';

export interface CloudConfig {
  baseUrl: string;
  model: string;
  /** From SecretStorage; undefined for a keyless local endpoint. */
  apiKey: string | undefined;
  /** Longest silence tolerated: before the answer starts and between two chunks. */
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
}

export async function streamChat(config: CloudConfig, request: ChatRequest): Promise<ChatResult> {
  const started = performance.now();
  const host = cloudHost(config.baseUrl);
  if (host === undefined) throw badBaseUrl();
  if (request.signal?.aborted) throw new AbortedError();
  const maxRetries = config.maxRetries ?? 2;
  const ctx: ErrorContext = { host, model: config.model, apiKey: config.apiKey, timeoutMs: config.timeoutMs, retries: maxRetries };

  const controller = new AbortController();
  const cancel = () => controller.abort();
  request.signal?.addEventListener('abort', cancel, { once: true });
  let silent = false;
  const onSilence = () => { silent = true; controller.abort(); };
  let timer = setTimeout(onSilence, config.timeoutMs);
  const heard = () => {
    clearTimeout(timer);
    timer = setTimeout(onSilence, config.timeoutMs);
  };

  const client = new OpenAI({
    baseURL: config.baseUrl,
    apiKey: config.apiKey ?? 'none',
    timeout: config.timeoutMs,
    maxRetries,
    logLevel: config.logLevel ?? 'warn',
    logger: packageLogger(config.log),
    // Each answer, a retried one too, is a sign of life: the silence timer restarts.
    fetch: async (url, init) => {
      const response = await fetch(url, init);
      heard();
      return response;
    },
  });
  let text = '';
  let model = config.model;
  let events = 0;
  let ttfsMs: number | undefined;
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
      text += delta;
      request.onText?.(delta);
    }
    // The package ends the stream quietly when it is aborted; an abort is not an answer.
    if (controller.signal.aborted) throw new AbortedError();
    if (events === 0) throw noEvents(ctx);
    const totalMs = performance.now() - started;
    config.log?.(`cloud: ${host} ${model}: ${text.length} chars in ${Math.round(totalMs)} ms`);
    return { text, model, host, ttfsMs: ttfsMs ?? totalMs, totalMs };
  } catch (error) {
    if (request.signal?.aborted) throw new AbortedError();
    const failure = silent ? stalled(ctx) : toCloudError(error, ctx);
    config.log?.(`cloud: ${failure.code}: ${failure.message}`);
    throw failure;
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', cancel);
    controller.abort(); // closes a stream left half-read
  }
}

function packageLogger(log: ((line: string) => void) | undefined) {
  const line = (level: string) => (message: string, ...rest: unknown[]) =>
    log?.(`openai ${level}: ${[message, ...rest.map((r) => JSON.stringify(r))].join(' ')}`);
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}
