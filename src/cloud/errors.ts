// What went wrong with the cloud model, as one named error with a stable `code` and a message
// that says what to do. Messages name the host, never the API key: server text is redacted and
// the original error is not kept as `cause` (it may hold request details).
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { TOTAL_TIME_FACTOR } from './limits';

export type CloudErrorCode = 'auth' | 'rate-limit' | 'server' | 'timeout' | 'network' | 'protocol' | 'config';

export class CloudError extends Error {
  constructor(readonly code: CloudErrorCode, message: string) {
    super(message);
    this.name = 'CloudError';
  }
}

export interface ErrorContext {
  host: string;
  model: string;
  apiKey: string | undefined;
  timeoutMs: number;
  retries: number;
}

export const badBaseUrl = () =>
  new CloudError('config', "flashcode.cloud.baseUrl is not an http(s) URL — set it to the endpoint's base URL, e.g. https://api.openai.com/v1");

export const stalled = (ctx: ErrorContext) =>
  new CloudError('timeout', `${ctx.host} sent nothing for ${seconds(ctx.timeoutMs)} — the endpoint may be overloaded or down; try again later`);

export const redirected = (ctx: ErrorContext, status: number, to: string) =>
  new CloudError('config', `${ctx.host} redirected the request (HTTP ${status}) to ${to} — Flashcode does not follow redirects, so your code goes only where you consented; set flashcode.cloud.baseUrl to the endpoint's final URL`);

export const badKey = (problem: string) =>
  new CloudError('auth', `the cloud API key cannot be sent: ${problem} Run 'Flashcode: Set Cloud API Key' again`);

export const mustWait = (ctx: ErrorContext, status: number, waitMs: number) =>
  new CloudError(status === 429 ? 'rate-limit' : 'server', `${ctx.host} asked Flashcode to wait ${seconds(waitMs)} before trying again (HTTP ${status}), longer than flashcode.cloud.timeoutMs allows — try again after that${status === 429 ? ", or check your plan's limits" : ''}`);

export const tooSlow = (ctx: ErrorContext, limitMs: number) =>
  new CloudError('timeout', `${ctx.host} did not finish its answer within ${seconds(limitMs)} (${TOTAL_TIME_FACTOR} × flashcode.cloud.timeoutMs) — the endpoint may be overloaded; try again later`);

export const noEvents = (ctx: ErrorContext) =>
  new CloudError('protocol', `${ctx.host} answered without a chat-completions event stream — check that flashcode.cloud.baseUrl is an OpenAI-compatible endpoint (it usually ends in /v1)`);

/** Maps what the openai package throws (or anything else) to a CloudError. */
export function toCloudError(error: unknown, ctx: ErrorContext): CloudError {
  const { host } = ctx;
  if (error instanceof CloudError) return error;
  if (error instanceof APIConnectionTimeoutError) return stalled(ctx);
  if (error instanceof APIConnectionError) {
    return new CloudError('network', `could not reach ${host} (${causeCode(error)}) — check your network connection and flashcode.cloud.baseUrl`);
  }
  if (error instanceof APIError) {
    const said = redact(error.message.replace(/^\d{3} /, ''), ctx.apiKey);
    const { status } = error;
    if (status === 401 || status === 403) {
      return new CloudError('auth', `${host} rejected the API key (HTTP ${status}) — run 'Flashcode: Set Cloud API Key' with a key that may use ${ctx.model}`);
    }
    if (status === 429) {
      return new CloudError('rate-limit', `${host} is limiting requests (HTTP 429, ${retried(ctx)}) — wait a minute and try again, or check your plan's limits`);
    }
    if (status === undefined || status >= 500) {
      return new CloudError('server', `${host} failed (${status ? `HTTP ${status}, ${retried(ctx)}` : said}) — try again later`);
    }
    if (status === 400 || status === 404 || status === 422) {
      return new CloudError('config', `${host} refused the request (HTTP ${status}: ${said}) — check flashcode.cloud.baseUrl (it usually ends in /v1) and flashcode.cloud.model ('${ctx.model}')`);
    }
    return new CloudError('protocol', `${host} answered HTTP ${status} (${said}) — check flashcode.cloud.baseUrl`);
  }
  const dropped = error instanceof Error && !(error instanceof SyntaxError) ? socketCode(error) : undefined;
  if (dropped) return new CloudError('network', `${host} dropped the connection before the answer was complete (${dropped}) — try again; if it keeps happening, check your network or proxy`);
  const what = error instanceof SyntaxError ? 'malformed event data' : error instanceof Error ? error.name : typeof error;
  return new CloudError('protocol', `${host} sent an answer Flashcode could not read (${what}) — check that flashcode.cloud.baseUrl is an OpenAI-compatible endpoint`);
}

/** Servers sometimes echo the key they rejected; it never reaches a message. Cut to one line. */
export function redact(text: string, apiKey: string | undefined): string {
  const clean = apiKey ? text.split(apiKey).join('[API key]') : text;
  const line = clean.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** ECONNREFUSED, ENOTFOUND…: the lowest `code` in the cause chain. */
function causeCode(error: Error): string {
  let code = 'connection failed';
  for (let e: unknown = error.cause, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') code = c;
  }
  return code;
}

/** The stream broke at the socket (reset, closed mid-body): undici's 'terminated' TypeError or a
 *  connection error, found by its code in the cause chain. */
function socketCode(error: Error): string | undefined {
  const codes = ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED', 'UND_ERR_CLOSED'];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string' && codes.includes(c)) return c === 'UND_ERR_SOCKET' ? 'connection closed' : c;
    if (depth === 0 && e.message === 'terminated') return 'connection closed';
  }
  return undefined;
}

function retried(ctx: ErrorContext): string {
  return ctx.retries > 0 ? `still after ${ctx.retries} ${ctx.retries === 1 ? 'retry' : 'retries'}` : 'not retried';
}

export function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
