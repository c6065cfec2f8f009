// Explain / Refactor end to end on the real fixture engine and the loopback OpenAI-compatible
// server: which model answers, what reaches the cloud, and what the user is told.
import assert from 'node:assert/strict';
import { fitPrompt } from '../../src/commands/fit';
import { buildLocalPrompt, buildMessages } from '../../src/commands/prompts';
import { runTask } from '../../src/commands/runTask';
import type { ChatMessage } from '../../src/cloud/types';
import type { TaskCallbacks, TaskDeps, TaskInput, TaskResult } from '../../src/commands/types';
import { isAbort } from '../../src/engine/errors';
import { loadInProcessEngine, type InProcessEngine } from '../../src/engine/local';
import { DEFAULT_EXCLUDE_PATTERNS } from '../../src/privacy/exclude';
import type { Route } from '../../src/router/types';
import { fixtureModelDir } from '../helpers/fixture';
import { answer, OpenAiTestServer, status } from '../helpers/openaiServer';

const KEY = 'sk-test-runtask';
const lines = (n: number) => Array.from({ length: n }, (_, i) => `  const value${i} = compute(${i}, "item ${i}");\n`).join('');
const shortCode = 'function add(a: number, b: number) {\n  return a + b;\n}\n';
const longCode = `function big() {\n${lines(120)}}\n`; // ~3,000 fixture tokens: over the 2,048 window

const task = (code: string, over: Partial<TaskInput> = {}): TaskInput => ({
  kind: 'explain',
  target: { code, languageId: 'typescript', fileName: 'src/big.ts', start: 0, end: code.length },
  context: [{ label: 'the rest of big.ts', fileName: 'src/big.ts', text: 'import { compute } from "./compute";\n' }],
  ...over,
});

interface Run {
  result: TaskResult;
  streamed: string;
  routes: Route[];
  asked: { host: string; model: string; messages: ChatMessage[] }[];
}

describe('runTask on the fixture engine and the loopback cloud', () => {
  let engine: InProcessEngine;
  let server: OpenAiTestServer;
  before(async () => { engine = await loadInProcessEngine({ modelDir: fixtureModelDir }); });
  after(() => engine.dispose());
  beforeEach(async () => { server = await OpenAiTestServer.start(); });
  afterEach(() => server.close());

  const deps = (over: Partial<Omit<TaskDeps, 'cloud'>> & { cloud?: Partial<TaskDeps['cloud']> } = {}, consentAnswer = true, asked: Run['asked'] = []): TaskDeps => ({
    engine,
    localMaxTokens: 4096,
    excludePatterns: DEFAULT_EXCLUDE_PATTERNS,
    consent: 'granted',
    askConsent: async (preview) => { asked.push(preview); return consentAnswer; },
    ...over,
    cloud: { enabled: true, baseUrl: server.baseUrl, model: 'cloud-model', apiKey: KEY, maxContextTokens: 128_000, timeoutMs: 2000, ...over.cloud },
  });

  async function run(input: TaskInput, over: Parameters<typeof deps>[0] = {}, consentAnswer = true, callbacks: TaskCallbacks = {}): Promise<Run> {
    const asked: Run['asked'] = [];
    const routes: Route[] = [];
    let streamed = '';
    const result = await runTask(input, deps(over, consentAnswer, asked), {
      ...callbacks,
      onText: (d) => { streamed += d; callbacks.onText?.(d); },
      onRoute: (r) => { routes.push(r); streamed = ''; },
    });
    return { result, streamed, routes, asked };
  }

  it('short task: the local model answers, streaming, and the cloud hears nothing', async () => {
    const { result, streamed, routes } = await run(task(shortCode));
    assert.deepEqual(routes, [{ target: 'local' }]);
    assert.deepEqual(result.answeredBy, { kind: 'local', model: engine.info.displayName });
    assert.ok(result.text.length > 0);
    assert.equal(streamed, result.text);
    assert.deepEqual(result.notices, []);
    assert.ok(result.totalMs > 0);
    assert.equal(server.requests.length, 0);
  });

  it('long task, cloud off: local with the prompt cut, and notices that say why and what was left out', async () => {
    const { result, routes } = await run(task(longCode), { cloud: { enabled: false } });
    assert.equal(routes.length, 1);
    assert.equal(routes[0].target, 'local-cut');
    assert.equal(result.answeredBy.kind, 'local');
    assert.match(result.notices[0], /^The code is too long for the local model: with the instruction it takes [\d,]+ tokens, and the local model reads at most 2,048 tokens \(its context window\), 256 of them kept for the answer; the cloud model is off — turn on flashcode\.cloud\.enabled to send long tasks to it\.$/);
    assert.match(result.notices.join('\n'), /Left out: the rest of big\.ts/);
    assert.match(result.notices.join('\n'), /Left out: [\d,]+ lines from the middle of the code/);
    assert.equal(server.requests.length, 0);
  });

  it('a short function in a long file: local, only the context cut, and the model\'s limit said (issue 18)', async () => {
    const input = task(shortCode, { context: [{ label: 'the code before it in the same file', fileName: 'src/big.ts', text: lines(120) }] });
    const { result, routes } = await run(input);
    assert.deepEqual(routes.map((r) => r.target), ['local-cut'], 'the cloud is not asked: the code itself fits');
    assert.equal(server.requests.length, 0);
    assert.deepEqual(result.notices.map((n) => n.replace(/\d[\d,]*/g, 'N')), [
      'The local model reads at most N tokens (its context window), N of them kept for the answer, so the code around it was shortened.',
      'Left out: part of the code before it in the same file (N tokens).',
    ]);
  });

  it('a cut prompt fits the budget in the real tokenizer', async () => {
    const count = (text: string) => engine.countTokens(text);
    for (const budget of [1792, 1000, 400]) {
      const fitted = await fitPrompt(task(longCode), budget, buildLocalPrompt, count);
      assert.equal(fitted.tokens, await count(buildLocalPrompt(fitted.input)));
      assert.ok(fitted.tokens <= budget && fitted.tokens > budget - 100, `budget ${budget}: ${fitted.tokens}`);
    }
  });

  it('long task, cloud on and consented: the cloud answers with the server text, and gets the messages', async () => {
    server.script(answer('The function computes values.', 4, 5));
    const input = task(longCode);
    const { result, streamed, routes, asked } = await run(input);
    assert.deepEqual(routes, [{ target: 'cloud', askConsent: false }]);
    assert.deepEqual(asked, []);
    assert.equal(result.text, 'The function computes values.');
    assert.equal(streamed, result.text);
    assert.deepEqual(result.answeredBy, { kind: 'cloud', model: 'cloud-model', host: new URL(server.baseUrl).host });
    assert.deepEqual(result.notices, []);
    assert.equal(server.requests.length, 1);
    assert.deepEqual(server.requests[0].body?.messages, buildMessages(input));
    assert.equal(server.requests[0].body?.max_tokens, 1024);
  });

  it('a cloud answer far over max_tokens: the Explain answer is cut at its bound, with the notice', async () => {
    server.script({ kind: 'flood', totalBytes: 200 * 1024 * 1024, chunkBytes: 16 * 1024 });
    const { result, streamed } = await run(task(longCode));
    assert.equal(result.answeredBy.kind, 'cloud');
    assert.equal(result.text.length, 64 * 1024);
    assert.equal(streamed, result.text);
    assert.match(result.notices.join('\n'), /sent more than the 1024 tokens asked for; the answer is cut at 65,536 characters/);
  });

  it('consent unasked: asks once, showing exactly the messages that are then sent', async () => {
    const { result, asked } = await run(task(longCode), { consent: 'unasked' }, true);
    assert.equal(asked.length, 1);
    assert.equal(asked[0].host, new URL(server.baseUrl).host);
    assert.equal(asked[0].model, 'cloud-model');
    assert.deepEqual(server.requests.map((r) => r.body?.messages), [asked[0].messages]);
    assert.equal(result.answeredBy.kind, 'cloud');
  });

  it('consent declined: local with the prompt cut, a notice, and nothing sent', async () => {
    const { result, asked, routes } = await run(task(longCode), { consent: 'unasked' }, false);
    assert.equal(asked.length, 1);
    assert.deepEqual(routes.map((r) => r.target), ['local-cut']);
    assert.equal(result.answeredBy.kind, 'local');
    assert.match(result.notices[0], /you declined sending code to the cloud model/);
    assert.equal(server.requests.length, 0);
  });

  it('context from an excluded file never reaches the cloud, and the user is told', async () => {
    const secret = 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI-never-send';
    const input = task(longCode, { context: [...task(longCode).context, { label: 'open file .env', fileName: 'config/.env', text: secret }] });
    const { result, asked } = await run(input, { consent: 'unasked' });
    assert.equal(result.answeredBy.kind, 'cloud');
    assert.ok(!JSON.stringify(asked).includes('wJalrXUtnFEMI'), 'not in the consent preview');
    assert.equal(server.requests.length, 1);
    assert.ok(!JSON.stringify(server.requests[0].body).includes('wJalrXUtnFEMI'), 'not in the request');
    assert.ok(JSON.stringify(server.requests[0].body).includes('value119'), 'the code itself was sent');
    assert.deepEqual(result.notices, ['Left out: open file .env (config/.env matches flashcode.cloud.exclude).']);
  });

  it('a long target in an excluded file stays local, even with consent', async () => {
    const input = task(longCode, { target: { ...task(longCode).target, fileName: 'deploy/secrets/big.ts' } });
    const { result, asked } = await run(input, { consent: 'unasked' });
    assert.equal(result.answeredBy.kind, 'local');
    assert.deepEqual(asked, []);
    assert.equal(server.requests.length, 0);
    assert.match(result.notices[0], /matches flashcode\.cloud\.exclude, so it never goes to the cloud/);
  });

  it('not set up (no key, remote endpoint): local cut, says what to set, nothing contacted', async () => {
    const { result } = await run(task(longCode), { cloud: { apiKey: undefined, baseUrl: 'https://cloud.example.invalid/v1' } });
    assert.equal(result.answeredBy.kind, 'local');
    assert.match(result.notices[0], /not set up .* 'Flashcode: Set Cloud API Key'/);
  });

  const failures: { name: string; setUp: () => Promise<Parameters<typeof deps>[0]>; notice: RegExp }[] = [
    { name: 'cloud down (server closed)', setUp: async () => { await server.close(); return {}; }, notice: /the cloud model failed: could not reach .*ECONNREFUSED/ },
    { name: 'key rejected (401)', setUp: async () => { server.script(status(401)); return {}; }, notice: /the cloud model failed: .* rejected the API key .* Set Cloud API Key/ },
    { name: 'stream stalls', setUp: async () => { server.script({ kind: 'stream', chunks: ['partial '], stallAfterChunks: 1 }); return { cloud: { timeoutMs: 300 } }; }, notice: /the cloud model failed: .* sent nothing for 300 ms/ },
    { name: 'malformed base URL', setUp: async () => ({ consent: 'unasked', cloud: { baseUrl: 'htp:/broken' } }), notice: /the cloud model failed: flashcode\.cloud\.baseUrl is not an http\(s\) URL/ },
  ];
  for (const f of failures) {
    it(`${f.name}: falls back to the local model with a notice naming the failure, without hanging`, async () => {
      const t0 = performance.now();
      const { result, routes, streamed, asked } = await run(task(longCode), await f.setUp());
      assert.deepEqual(routes.map((r) => r.target), f.name === 'malformed base URL' ? ['local-cut'] : ['cloud', 'local-cut']);
      assert.deepEqual(asked, [], 'no consent asked for a request that cannot be made');
      assert.deepEqual(result.answeredBy, { kind: 'local', model: engine.info.displayName });
      assert.equal(streamed, result.text, 'after the fallback, the local answer streamed from its start');
      assert.match(result.notices[0], f.notice);
      assert.ok(performance.now() - t0 < 10_000);
    });
  }

  it('refactor on the cloud: the replacement code only, with the original trailing newline', async () => {
    server.script(answer('Here you go:\n```typescript\nconst add = (a: number, b: number) => a + b;\n```\nThis is shorter.', 5));
    const input = task(longCode, { kind: 'refactor', instruction: 'simplify' });
    const { result, streamed } = await run(input);
    assert.equal(result.text, 'const add = (a: number, b: number) => a + b;\n');
    assert.ok(streamed.startsWith('Here you go:'), 'onText streams the raw answer');
    assert.match(server.requests[0].body?.messages[1].content ?? '', /Instruction: simplify$/);
    assert.equal(server.requests[0].body?.max_tokens, 4096);
  });

  it('refactor on the local model: the answer as code, ending like the original', async () => {
    const { result } = await run(task(shortCode, { kind: 'refactor', instruction: 'add docs' }));
    assert.equal(result.answeredBy.kind, 'local');
    assert.ok(result.text.length > 0 && result.text.endsWith('\n') && !result.text.endsWith('\n\n'));
  });

  it('explain: an answer that loops is cut after the first time, with a note (issue 18)', async () => {
    const loop = 'The debounced function is a function that is passed to the debounced function. ';
    server.script(answer(`It delays calls. ${loop.repeat(8)}`, 5));
    const { result } = await run(task(longCode));
    assert.equal(result.answeredBy.kind, 'cloud');
    assert.equal(result.text, `It delays calls. ${loop.trimEnd()}`);
    assert.match(result.notices.at(-1)!, /^The answer began repeating itself \(“The debounced function .*” 8 times\), so it was cut after the first time\.$/);
  });

  it('refactor: a proposal that deletes the code is refused, with the reason (issue 18)', async () => {
    server.script(answer('```typescript\n// Adds the numbers.\n```', 2));
    const { result } = await run(task(longCode, { kind: 'refactor', instruction: 'add documentation' }));
    assert.equal(result.text, '// Adds the numbers.\n');
    assert.match(result.refused ?? 'offered', /^it drops most of the original code \(0 of its \d+ names are left\)$/, "no parser here: the comment's words count as names");
  });

  it('refactor: a sound proposal is not refused', async () => {
    server.script(answer(`\`\`\`typescript\n/** Big. */\n${longCode}\`\`\``, 4));
    const { result } = await run(task(longCode, { kind: 'refactor', instruction: 'add documentation' }));
    assert.equal(result.refused, undefined);
  });

  it('asked for the cloud: a short task goes there too', async () => {
    server.script(answer('It adds.', 2));
    const { result, routes } = await run(task(shortCode, { preferCloud: true }));
    assert.deepEqual(routes, [{ target: 'cloud', askConsent: false }]);
    assert.equal(result.text, 'It adds.');
  });

  it('abort during the local answer: rejects with AbortError', async () => {
    const controller = new AbortController();
    const error = await run(task(shortCode), {}, true, { signal: controller.signal, onText: () => controller.abort() }).catch((e: unknown) => e);
    assert.ok(isAbort(error), String(error));
  });

  it('abort during the cloud answer: AbortError, no fallback to local, the connection closed', async () => {
    server.script({ kind: 'stream', chunks: Array.from({ length: 40 }, (_, i) => `w${i} `), delayMs: 30 });
    const controller = new AbortController();
    const routes: Route[] = [];
    const error = await runTask(task(longCode), deps(), { signal: controller.signal, onText: () => controller.abort(), onRoute: (r) => routes.push(r) }).catch((e: unknown) => e);
    assert.ok(isAbort(error), String(error));
    assert.deepEqual(routes.map((r) => r.target), ['cloud']);
    assert.equal(await server.requests[0].ended, 'client-closed');
  });

  it('abort while the consent prompt is open: AbortError, nothing sent', async () => {
    const controller = new AbortController();
    const error = await runTask(task(longCode), { ...deps({ consent: 'unasked' }), askConsent: async () => { controller.abort(); return true; } }, { signal: controller.signal }).catch((e: unknown) => e);
    assert.ok(isAbort(error), String(error));
    assert.equal(server.requests.length, 0);
  });
});
