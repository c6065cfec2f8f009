// The cloud client against a real HTTP server on loopback that speaks OpenAI's streaming protocol.
import assert from 'node:assert/strict';
import { streamChat, type CloudConfig } from '../../src/cloud/client';
import { CloudError, type CloudErrorCode } from '../../src/cloud/errors';
import type { ChatMessage } from '../../src/commands/types';
import { isAbort } from '../../src/engine/errors';
import { answer, OpenAiTestServer, status, type Reply } from '../helpers/openaiServer';

const KEY = 'sk-SECRET-flashcode-test-9f8e7d6c5b4a';
const messages: ChatMessage[] = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Explain x = 1' }];
const fast = { 'retry-after-ms': '10' };

async function rejectsWith(promise: Promise<unknown>, code: CloudErrorCode, message?: RegExp): Promise<CloudError> {
  const error = await promise.then(() => assert.fail('resolved, expected a CloudError'), (e: unknown) => e);
  assert.ok(error instanceof CloudError, `not a CloudError: ${String(error)}`);
  assert.equal(error.code, code, error.message);
  if (message) assert.match(error.message, message);
  return error;
}

describe('cloud client against a loopback OpenAI-compatible server', () => {
  let server: OpenAiTestServer;
  let config: CloudConfig;
  const chat = (over: Partial<Parameters<typeof streamChat>[1]> = {}, configOver: Partial<CloudConfig> = {}) =>
    streamChat({ ...config, ...configOver }, { messages, maxTokens: 64, ...over });

  beforeEach(async () => {
    server = await OpenAiTestServer.start();
    config = { baseUrl: server.baseUrl, model: 'test-model', apiKey: KEY, timeoutMs: 2000 };
  });
  afterEach(() => server.close());

  it('streams the answer in order and sends the messages, the model and the key', async () => {
    server.script({ kind: 'stream', chunks: ['Hel', 'lo', ' world'], delayMs: 5, model: 'served-model' });
    const deltas: string[] = [];
    const r = await chat({ onText: (d) => deltas.push(d) });
    assert.deepEqual(deltas, ['Hel', 'lo', ' world']);
    assert.equal(r.text, 'Hello world');
    assert.equal(r.model, 'served-model');
    assert.equal(r.host, new URL(server.baseUrl).host);
    assert.ok(r.ttfsMs <= r.totalMs);
    const [req] = server.requests;
    assert.equal(req.path, '/v1/chat/completions');
    assert.equal(req.headers.authorization, `Bearer ${KEY}`);
    assert.deepEqual(req.body?.messages, messages);
    assert.equal(req.body?.model, 'test-model');
    assert.equal(req.body?.stream, true);
    assert.equal(req.body?.max_tokens, 64);
    assert.equal(await req.ended, 'finished');
  });

  it('works without a key for a keyless local endpoint', async () => {
    const r = await chat({}, { apiKey: undefined });
    assert.equal(r.text, 'Hello from the loopback cloud.');
    assert.equal(server.requests[0].headers.authorization, 'Bearer none');
  });

  it('401: auth, says to set the key, not retried', async () => {
    server.script(status(401));
    await rejectsWith(chat(), 'auth', /rejected the API key .* 'Flashcode: Set Cloud API Key'/);
    assert.equal(server.requests.length, 1);
  });

  it('429 then success: retried after Retry-After', async () => {
    server.script(status(429, fast), answer('after the wait'));
    assert.equal((await chat()).text, 'after the wait');
    assert.equal(server.requests.length, 2);
  });

  it('429 every time: rate-limit after the retries', async () => {
    server.defaultReply = status(429, fast);
    await rejectsWith(chat(), 'rate-limit', /HTTP 429, still after 2 retries/);
    assert.equal(server.requests.length, 3);
  });

  it('500 every time: retried, then server', async () => {
    server.defaultReply = status(500, fast);
    await rejectsWith(chat(), 'server', /failed \(HTTP 500, still after 2 retries\) — try again later/);
    assert.equal(server.requests.length, 3);
  });

  it('500 once, then an answer: retried with the default backoff', async () => {
    server.script(status(500), answer('recovered'));
    assert.equal((await chat()).text, 'recovered');
  });

  it('malformed event data: protocol', async () => {
    server.script({ kind: 'malformed' });
    await rejectsWith(chat(), 'protocol', /could not read/);
  });

  it('an HTML page instead of an event stream: protocol', async () => {
    server.script({ kind: 'raw', status: 200, headers: { 'content-type': 'text/html' }, body: '<html>Sign in to the Wi-Fi</html>' });
    await rejectsWith(chat(), 'protocol', /without a chat-completions event stream/);
  });

  it('404 (base URL without /v1): config, names the settings', async () => {
    await rejectsWith(chat({}, { baseUrl: server.baseUrl.replace(/\/v1$/, '') }), 'config', /HTTP 404.*flashcode\.cloud\.baseUrl/);
  });

  it('a stream that stalls after the first chunk: timeout within the bound, connection closed', async () => {
    server.script({ kind: 'stream', chunks: ['first', 'never'], stallAfterChunks: 1 });
    const deltas: string[] = [];
    const t0 = performance.now();
    await rejectsWith(chat({ onText: (d) => deltas.push(d) }, { timeoutMs: 300 }), 'timeout', /sent nothing for 300 ms/);
    const ms = performance.now() - t0;
    assert.ok(ms >= 280 && ms < 1500, `${ms} ms`);
    assert.deepEqual(deltas, ['first']);
    assert.equal(await server.requests[0].ended, 'client-closed');
  });

  it('a server that never answers: timeout within the bound', async () => {
    server.defaultReply = { kind: 'hang' };
    const t0 = performance.now();
    await rejectsWith(chat({}, { timeoutMs: 300 }), 'timeout');
    assert.ok(performance.now() - t0 < 1500);
  });

  it('cancelled mid-stream: AbortError at once, and the server sees the connection close', async () => {
    server.script({ kind: 'stream', chunks: Array.from({ length: 50 }, (_, i) => `c${i} `), delayMs: 40 });
    const controller = new AbortController();
    let abortedAt = 0;
    const run = chat({ signal: controller.signal, onText: () => { if (!abortedAt) { abortedAt = performance.now(); controller.abort(); } } });
    const error = await run.then(() => assert.fail('resolved'), (e: unknown) => e);
    assert.ok(isAbort(error), String(error));
    assert.ok(performance.now() - abortedAt < 200);
    assert.equal(await server.requests[0].ended, 'client-closed');
  });

  it('an already aborted signal: AbortError and no request', async () => {
    const controller = new AbortController();
    controller.abort();
    assert.ok(isAbort(await chat({ signal: controller.signal }).catch((e: unknown) => e)));
    assert.equal(server.requests.length, 0);
  });

  it('connection refused: network, names the cause', async () => {
    const baseUrl = server.baseUrl;
    await server.close();
    await rejectsWith(chat({}, { baseUrl, maxRetries: 1 }), 'network', /could not reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  for (const baseUrl of ['not a url', 'ftp://example.com/v1', '', KEY]) {
    it(`bad base URL ${JSON.stringify(baseUrl.slice(0, 12))}: config, without echoing it`, async () => {
      const error = await rejectsWith(chat({}, { baseUrl }), 'config', /flashcode\.cloud\.baseUrl is not an http\(s\) URL/);
      if (baseUrl) assert.ok(!error.message.includes(baseUrl));
      assert.equal(server.requests.length, 0);
    });
  }

  it('never puts the API key in an error message, String(error), error.stack or a log line', async () => {
    const echo = `Incorrect API key provided: ${KEY}`;
    const replies: Reply[] = [
      status(401, {}, echo), status(403, {}, echo), status(400, {}, echo), status(404, {}, echo), status(418, {}, echo),
      status(429, { 'retry-after-ms': '1' }, echo), status(500, { 'retry-after-ms': '1' }, echo),
      { kind: 'malformed' }, { kind: 'stream', chunks: [KEY], stallAfterChunks: 1 },
    ];
    const lines: string[] = [];
    const errors: unknown[] = [];
    for (const reply of replies) {
      server.defaultReply = reply;
      errors.push(await chat({}, { timeoutMs: 200, log: (l) => lines.push(l), logLevel: 'debug' }).catch((e: unknown) => e));
    }
    const port = new URL(server.baseUrl).port;
    await server.close();
    errors.push(await chat({}, { baseUrl: `http://127.0.0.1:${port}/v1`, maxRetries: 0, log: (l) => lines.push(l), logLevel: 'debug' }).catch((e: unknown) => e));

    assert.ok(server.requests.every((r) => r.headers.authorization === `Bearer ${KEY}`), 'the key was sent, so it was in play');
    assert.ok(lines.length > replies.length, 'the log was written');
    assert.equal(errors.length, replies.length + 1);
    for (const e of errors) {
      assert.ok(e instanceof CloudError, `${errors.indexOf(e)}: ${String(e)}`);
      for (const text of [e.message, String(e), e.stack ?? '', JSON.stringify(e)]) assert.ok(!text.includes(KEY), `key in: ${text}`);
    }
    for (const line of lines) assert.ok(!line.includes(KEY), `key in log line: ${line}`);
  });
});
