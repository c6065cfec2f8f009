// The cloud client against a real HTTP server on loopback that speaks OpenAI's streaming protocol.
import assert from 'node:assert/strict';
import { streamChat, type CloudConfig } from '../../src/cloud/client';
import { CloudError, type CloudErrorCode } from '../../src/cloud/errors';
import type { ChatMessage } from '../../src/cloud/types';
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

  describe('a misbehaving endpoint is bounded', () => {
    it('streams a chunk every 50 ms for ever: cut after 10 × timeoutMs, with a notice, connection closed', async () => {
      server.script({ kind: 'forever', chunk: 'more ', delayMs: 50 });
      const t0 = performance.now();
      const r = await chat({}, { timeoutMs: 300 });
      const ms = performance.now() - t0;
      assert.ok(ms >= 2900 && ms < 4500, `${ms} ms`);
      assert.match(r.text, /^(more )+$/);
      assert.match(r.cutNotice ?? '', /still answering after 3 s \(10 × flashcode\.cloud\.timeoutMs\); the answer is cut there/);
      assert.equal(await server.requests[0].ended, 'client-closed');
    });

    it('sends 200 MB: the answer is cut at its size bound, the rest is never read', async () => {
      server.script({ kind: 'flood', totalBytes: 200 * 1024 * 1024, chunkBytes: 16 * 1024 });
      const deltas: string[] = [];
      const r = await chat({ maxTokens: 64, onText: (d) => deltas.push(d) });
      assert.equal(r.text.length, 64 * 1024);
      assert.equal(deltas.join(''), r.text);
      assert.match(r.cutNotice ?? '', /sent more than the 64 tokens asked for; the answer is cut at 65,536 characters/);
      assert.equal(await server.requests[0].ended, 'client-closed');
      assert.ok(server.floodedBytes < 32 * 1024 * 1024, `${server.floodedBytes} bytes sent before the client hung up`);
    });

    it('a 307 to another origin: refused, the code is not re-sent there', async () => {
      const elsewhere = await OpenAiTestServer.start();
      try {
        server.script({ kind: 'redirect', status: 307, location: `${elsewhere.baseUrl}/chat/completions` });
        const e = await rejectsWith(chat(), 'config', /redirected the request \(HTTP 307\) to http:\/\/127\.0\.0\.1:\d+ — Flashcode does not follow redirects/);
        assert.ok(e.message.includes(new URL(elsewhere.baseUrl).origin));
        assert.equal(elsewhere.requests.length, 0);
        assert.equal(server.requests.length, 1, 'not retried');
      } finally {
        await elsewhere.close();
      }
    });

    it('a same-origin redirect is refused too (it would change what the consent named)', async () => {
      server.script({ kind: 'redirect', status: 308, location: '/v2/chat/completions' });
      await rejectsWith(chat(), 'config', /redirected the request \(HTTP 308\)/);
      assert.equal(server.requests.length, 1);
    });

    it('a connection reset mid-stream: network, says the connection dropped', async () => {
      server.script({ kind: 'reset', chunks: ['partial ', 'answer'] });
      await rejectsWith(chat({}, { maxRetries: 0 }), 'network', /dropped the connection before the answer was complete/);
    });

    it('429 with Retry-After: 50 and a 3 s timeout: rate-limit at once, naming the wait', async () => {
      server.defaultReply = status(429, { 'retry-after': '50' });
      const t0 = performance.now();
      await rejectsWith(chat({}, { timeoutMs: 3000 }), 'rate-limit', /asked Flashcode to wait 50 s before trying again \(HTTP 429\)/);
      assert.ok(performance.now() - t0 < 1500);
      assert.equal(server.requests.length, 1);
    });

    it('429 with a Retry-After within the timeout: waited for, not taken for silence', async () => {
      server.script(status(429, { 'retry-after-ms': '400' }), answer('after the wait'));
      assert.equal((await chat({}, { timeoutMs: 1000 })).text, 'after the wait');
    });

    for (const key of ['sk-abc\u200bdef', '\ufeffsk-abc', 'sk-abcé']) {
      it(`an API key with ${JSON.stringify(key)}: auth error naming the character, nothing sent`, async () => {
        await rejectsWith(chat({}, { apiKey: key }), 'auth', /invisible or non-ASCII character \(U\+[0-9A-F]{4}\).*Set Cloud API Key/);
        assert.equal(server.requests.length, 0);
      });
    }
  });
});
