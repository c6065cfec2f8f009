// The pipeline's orchestration on a scripted engine: typed-ahead cache, joining the running call,
// debounce, prefetch and cancellation. test/integration/pipeline.test.ts runs it on the real model.
import assert from 'node:assert/strict';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { CompletionPipeline } from '../../../src/completion/pipeline';
import { PREFETCH_AFTER_IDLE_MS } from '../../../src/completion/prefetch';
import type { CompletionMode, CompletionRequest, CompletionSettings, ExtraContextSource } from '../../../src/completion/types';
import type { GenerateRequest } from '../../../src/engine';
import type { BlockFinder } from '../../../src/postprocess';
import { FakeEngine } from '../../helpers/fakeEngine';

/** A request on a document with ❚ at the cursor. */
function at(doc: string): CompletionRequest {
  const offset = doc.indexOf('❚');
  assert.ok(offset >= 0, 'the document marks the cursor');
  return { document: doc.slice(0, offset) + doc.slice(offset + 1), offset, languageId: 'typescript', fileName: 'a.ts' };
}

/** The model's answer by the text of the cursor's line before the cursor. */
const ANSWERS: Record<string, string> = {
  '  return ': 'foo(bar);',
  '  return foo(bar);': ' // done',
  'const a = ': 'compute',
  'const a = compute': '();',
  'let b = ': 'other()',
};
const answer = (prefix: string) => ANSWERS[prefix.slice(prefix.lastIndexOf('\n') + 1)] ?? 'x';

const RETURN = 'function f() {\n  return ❚\n}\n';
const typedAtReturn = (typed: string) => RETURN.replace('❚', `${typed}❚`);
const settings: CompletionSettings = { maxNewTokens: 64, timeBudgetMs: 10_000 };

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await nextTurn();
}

describe('completion pipeline: typed-ahead cache', () => {
  it('serves characters typed into a suggestion from the cache, with no engine call', async () => {
    const engine = new FakeEngine(answer);
    const pipeline = new CompletionPipeline(engine);
    const first = await pipeline.complete(at(RETURN), settings);
    assert.equal(first?.source, 'engine');
    assert.equal(first?.text, 'foo(bar);');

    for (const [typed, rest] of [['f', 'oo(bar);'], ['foo(', 'bar);'], ['', 'foo(bar);']]) {
      const result = await pipeline.complete(at(typedAtReturn(typed)), settings);
      assert.deepEqual({ text: result?.text, source: result?.source, generatedTokens: result?.generatedTokens }, { text: rest, source: 'cache', generatedTokens: 0 });
    }
    assert.equal(engine.calls.length, 1);
    assert.deepEqual(pipeline.stats, { requests: 4, cacheHits: 3, inflightJoins: 0, prefetches: 0, prefetchHits: 0 });
  });

  it('makes a new engine call once the typing diverges from the suggestion', async () => {
    const engine = new FakeEngine(answer);
    const pipeline = new CompletionPipeline(engine);
    await pipeline.complete(at(RETURN), settings);
    const result = await pipeline.complete(at(typedAtReturn('fox')), settings);
    assert.equal(result?.source, 'engine');
    assert.equal(engine.calls.length, 2);
    assert.equal(engine.calls[1].prefix, 'function f() {\n  return fox');
  });
});

describe('completion pipeline: empty answers and explicit requests', () => {
  it('never serves an empty answer from the cache: the same cursor asks the model again', async () => {
    const engine = new FakeEngine((prefix) => (prefix.endsWith('blank ') ? '   ' : answer(prefix)));
    const pipeline = new CompletionPipeline(engine);
    for (let i = 0; i < 2; i++) {
      const result = await pipeline.complete(at('blank ❚'), settings);
      assert.deepEqual({ text: result?.text, source: result?.source }, { text: '', source: 'engine' });
    }
    assert.equal(engine.calls.length, 2);
    assert.equal(pipeline.stats.cacheHits, 0);
  });

  it('an explicit request computes anew where the cache has an answer', async () => {
    const engine = new FakeEngine(answer);
    const pipeline = new CompletionPipeline(engine);
    await pipeline.complete(at(RETURN), settings);
    const again = await pipeline.complete(at(RETURN), { ...settings, explicit: true });
    assert.deepEqual({ text: again?.text, source: again?.source }, { text: 'foo(bar);', source: 'engine' });
    assert.equal(engine.calls.length, 2);
    assert.equal((await pipeline.complete(at(RETURN), settings))?.source, 'cache', 'an automatic request still uses it');
  });
});

describe('completion pipeline: the running engine call', () => {
  it('serves a request typed ahead into what the running call streamed, without a second call', async () => {
    const engine = new FakeEngine(answer, 2);
    const pipeline = new CompletionPipeline(engine);
    const first = pipeline.complete(at(RETURN), settings);
    await engine.streamedAtLeast(3);
    const second = pipeline.complete(at(typedAtReturn('foo')), settings);
    assert.equal(await first, undefined, 'the superseded request gets nothing');
    const result = await second;
    assert.deepEqual({ text: result?.text, source: result?.source }, { text: '(bar);', source: 'inflight' });
    assert.equal(engine.calls.length, 1);
    assert.equal(engine.calls[0].outcome, 'done');
    assert.equal(pipeline.stats.inflightJoins, 1);
  });

  it('is taken over by the next keystroke\'s request even when VS Code cancelled the previous one first', async () => {
    const engine = new FakeEngine(answer, 2);
    const pipeline = new CompletionPipeline(engine);
    const cancellation = new AbortController();
    const first = pipeline.complete(at(RETURN), settings, cancellation.signal);
    await engine.streamedAtLeast(2);
    cancellation.abort();
    assert.equal(await first, undefined);
    const result = await pipeline.complete(at(typedAtReturn('fo')), settings);
    assert.deepEqual({ text: result?.text, source: result?.source }, { text: 'o(bar);', source: 'inflight' });
    assert.equal(engine.calls.length, 1);
  });

  it('is aborted once nobody has waited on it for the grace period', async () => {
    const engine = new FakeEngine(answer, 5);
    const pipeline = new CompletionPipeline(engine, { abandonedJobGraceMs: 20 });
    const cancellation = new AbortController();
    const first = pipeline.complete(at(RETURN), settings, cancellation.signal);
    await engine.streamedAtLeast(1);
    cancellation.abort();
    assert.equal(await first, undefined);
    assert.equal(engine.calls[0].outcome, 'running', 'still running within the grace');
    await pipeline.idle();
    assert.equal(engine.calls[0].outcome, 'aborted');
  });

  it('is aborted at once on cancellation without a grace period', async () => {
    const engine = new FakeEngine(answer, 5);
    const pipeline = new CompletionPipeline(engine, { abandonedJobGraceMs: 0 });
    const cancellation = new AbortController();
    const first = pipeline.complete(at(RETURN), settings, cancellation.signal);
    await engine.streamedAtLeast(1);
    cancellation.abort();
    assert.equal(await first, undefined);
    await pipeline.idle();
    assert.equal(engine.calls[0].outcome, 'aborted');
    assert.ok(engine.calls[0].streamed.length <= 2, `${engine.calls[0].streamed.length} characters streamed`);
  });

  const unusable: Array<{ name: string; doc: string }> = [
    { name: 'at another cursor', doc: 'let b = ❚\n' },
    { name: 'typed past what it has streamed', doc: typedAtReturn('foo(b') },
    { name: 'typed differently', doc: typedAtReturn('fa') },
  ];
  for (const c of unusable) {
    it(`is aborted by a request ${c.name}, which then runs alone`, async () => {
      const engine = new FakeEngine(answer, 2);
      const pipeline = new CompletionPipeline(engine);
      const first = pipeline.complete(at(RETURN), settings);
      await engine.streamedAtLeast(3);
      const second = pipeline.complete(at(c.doc), settings);
      assert.equal(await first, undefined);
      assert.equal((await second)?.source, 'engine');
      assert.equal(engine.calls[0].outcome, 'aborted');
      assert.equal(engine.calls.length, 2);
      assert.equal(engine.peakRunning, 1, 'never two engine calls at once');
    });
  }
});

describe('completion pipeline: debounce', () => {
  it('makes a request typed mid-word wait debounceMs before the engine call', async () => {
    const engine = new FakeEngine(answer);
    const pipeline = new CompletionPipeline(engine);
    const startMs = performance.now();
    const pending = pipeline.complete(at('const a = comp❚'), { ...settings, debounceMs: 60 });
    await sleep(20);
    assert.equal(engine.calls.length, 0, 'no engine call during the wait');
    assert.ok(await pending);
    assert.ok(engine.calls[0].startedMs - startMs >= 55, `called after ${(engine.calls[0].startedMs - startMs).toFixed(0)} ms`);
  });

  it('drops a mid-word request superseded during its wait, without an engine call', async () => {
    const engine = new FakeEngine(answer);
    const pipeline = new CompletionPipeline(engine);
    const first = pipeline.complete(at('const a = comp❚'), { ...settings, debounceMs: 40 });
    await sleep(10);
    const second = pipeline.complete(at('const a = compu❚'), { ...settings, debounceMs: 40 });
    assert.equal(await first, undefined);
    assert.ok(await second);
    assert.deepEqual(engine.calls.map((c) => c.prefix), ['const a = compu']);
  });

  const immediate: Array<{ name: string; doc: string }> = [
    { name: 'at the start of a line', doc: 'function f() {\n  ❚\n}\n' },
    { name: 'after a space', doc: 'const a = ❚' },
    { name: 'after punctuation', doc: 'items.❚' },
  ];
  for (const c of immediate) {
    it(`calls the engine at once for a request ${c.name}`, async () => {
      const engine = new FakeEngine(answer);
      const pipeline = new CompletionPipeline(engine);
      const pending = pipeline.complete(at(c.doc), { ...settings, debounceMs: 10_000 });
      await turns(3);
      assert.equal(engine.calls.length, 1);
      await pending;
    });
  }

  it('calls the engine at once right after an accept, even mid-word', async () => {
    const engine = new FakeEngine(answer);
    const pipeline = new CompletionPipeline(engine);
    const slow = { ...settings, debounceMs: 10_000 };
    assert.equal((await pipeline.complete(at('const a = ❚'), slow))?.text, 'compute');
    const pending = pipeline.complete(at('const a = compute❚'), slow);
    await turns(3);
    assert.equal(engine.calls.length, 2, 'the accepted suggestion ends mid-word, yet the request went at once');
    assert.equal((await pending)?.text, '();');

    const fresh = new CompletionPipeline(engine);
    const waiting = fresh.complete(at('const a = compute❚'), slow);
    await turns(3);
    assert.equal(engine.calls.length, 2, 'the same cursor without an accept waits');
    fresh.cancel();
    assert.equal(await waiting, undefined);
  });
});

describe('completion pipeline: prefetch', () => {
  const withPrefetch = { ...settings, prefetch: true };
  const ACCEPTED = 'function f() {\n  return foo(bar);❚\n}\n';

  it('computes the suggestion after the shown one and serves it from the cache on accept', async () => {
    const engine = new FakeEngine(answer);
    const pipeline = new CompletionPipeline(engine);
    assert.equal((await pipeline.complete(at(RETURN), withPrefetch))?.text, 'foo(bar);');
    await pipeline.idle();
    assert.deepEqual(engine.calls.map((c) => c.prefix), ['function f() {\n  return ', 'function f() {\n  return foo(bar);']);
    assert.equal((await pipeline.complete(at(typedAtReturn('foo')), withPrefetch))?.source, 'cache');
    await pipeline.idle();
    assert.equal(engine.calls.length, 2, 'typing into the suggestion does not prefetch what is cached already');
    const next = await pipeline.complete(at(ACCEPTED), withPrefetch);
    assert.deepEqual({ text: next?.text, source: next?.source }, { text: ' // done', source: 'cache' });
    assert.equal(engine.calls.length, 2);
    assert.deepEqual(pipeline.stats, { requests: 3, cacheHits: 2, inflightJoins: 0, prefetches: 1, prefetchHits: 1 });
  });

  it('after a suggestion that replaces the closer after the cursor, prefetches where Tab leaves the document', async () => {
    const engine = new FakeEngine((prefix) => (prefix.endsWith('points.map(') ? 'points);' : ''));
    const pipeline = new CompletionPipeline(engine);
    const shown = await pipeline.complete(at('  return points.map(❚)\n'), withPrefetch);
    assert.deepEqual({ text: shown?.text, replacedAfterCursor: shown?.replacedAfterCursor }, { text: 'points);', replacedAfterCursor: 1 });
    await pipeline.idle();
    assert.deepEqual(engine.calls.map((c) => [c.prefix, c.suffix]), [['  return points.map(', ')\n'], ['  return points.map(points);', '\n']]);
  });

  it('is aborted the moment a real request that cannot use it arrives', async () => {
    const engine = new FakeEngine(answer, 3);
    const pipeline = new CompletionPipeline(engine);
    await pipeline.complete(at(RETURN), withPrefetch);
    while (engine.calls.length < 2) await sleep(1);
    const elsewhere = await pipeline.complete(at('let b = ❚\n'), withPrefetch);
    assert.deepEqual({ text: elsewhere?.text, source: elsewhere?.source }, { text: 'other()', source: 'engine' });
    assert.equal(engine.calls[1].outcome, 'aborted');
    assert.equal(engine.peakRunning, 1);
    assert.equal(pipeline.stats.prefetchHits, 0);
    pipeline.cancel();
  });

  it('is joined by a request at the accepted cursor while it runs', async () => {
    const engine = new FakeEngine(answer, 3);
    const pipeline = new CompletionPipeline(engine);
    await pipeline.complete(at(RETURN), withPrefetch);
    while (engine.calls.length < 2) await sleep(1);
    const next = await pipeline.complete(at(ACCEPTED), withPrefetch);
    assert.deepEqual({ text: next?.text, source: next?.source }, { text: ' // done', source: 'inflight' });
    assert.equal(engine.calls.length, 2);
    assert.equal(pipeline.stats.prefetchHits, 1);
    pipeline.cancel();
  });

  it('waits for the user to leave the suggestion alone: a keystroke sooner cancels it before it starts', async () => {
    const engine = new FakeEngine(answer);
    const pipeline = new CompletionPipeline(engine);
    const started = performance.now();
    await pipeline.complete(at(RETURN), withPrefetch);
    await sleep(PREFETCH_AFTER_IDLE_MS / 3);
    assert.equal(engine.calls.length, 1, 'no prefetch while the user may still be typing');
    await pipeline.complete(at(typedAtReturn('x')), withPrefetch); // not the suggestion: an engine call, then its own prefetch later
    assert.equal(engine.calls.length, 2);
    await pipeline.idle();
    assert.equal(engine.calls.length, 3, 'only the last suggestion\'s prefetch ran');
    assert.equal(pipeline.stats.prefetches, 1);
    assert.ok(performance.now() - started >= PREFETCH_AFTER_IDLE_MS, 'and not before the pause');
  });

  it('does not run unless asked for, nor after an empty suggestion', async () => {
    const engine = new FakeEngine((prefix) => (prefix.endsWith('blank ') ? '   ' : answer(prefix)));
    const pipeline = new CompletionPipeline(engine);
    await pipeline.complete(at(RETURN), settings);
    await pipeline.idle();
    assert.equal((await pipeline.complete(at('blank ❚'), withPrefetch))?.text, '');
    await pipeline.idle();
    assert.equal(engine.calls.length, 2);
    assert.equal(pipeline.stats.prefetches, 0);
  });
});

describe('completion pipeline: cancellation and failures', () => {
  it('cancel() aborts the request and its engine call', async () => {
    const engine = new FakeEngine(answer, 5);
    const pipeline = new CompletionPipeline(engine);
    const pending = pipeline.complete(at(RETURN), settings);
    await engine.streamedAtLeast(1);
    pipeline.cancel();
    assert.equal(await pending, undefined);
    await pipeline.idle();
    assert.equal(engine.calls[0].outcome, 'aborted');
  });

  it('rejects with the engine\'s failure', async () => {
    const engine = new FakeEngine(() => 'unused');
    engine.generate = () => Promise.reject(new Error('the worker died'));
    const pipeline = new CompletionPipeline(engine);
    await assert.rejects(pipeline.complete(at(RETURN), settings), /the worker died/);
  });
});

describe('completion pipeline: what each engine call is asked', () => {
  /** `engine`, recording every request it gets. */
  function recording(engine: FakeEngine) {
    const requests: GenerateRequest[] = [];
    const generate = engine.generate.bind(engine);
    engine.generate = (request, callbacks) => {
      requests.push(request);
      return generate(request, callbacks);
    };
    return requests;
  }

  it('post-processes with the document\'s language and the syntax finder, prefetches included', async () => {
    const asked: string[] = [];
    const syntax: BlockFinder = { blockAt: (_text, _offset, languageId) => { asked.push(languageId); return undefined; } };
    const engine = new FakeEngine(() => 'if (x) {\n    y();\n  }');
    const pipeline = new CompletionPipeline(engine, { syntax });
    const result = await pipeline.complete(at('function f() {\n  ❚\n}\n'), { ...settings, prefetch: true });
    assert.equal(result?.text, 'if (x) {\n    y();\n  }');
    await pipeline.idle();
    assert.equal(engine.calls.length, 2, 'the request and its prefetch');
    assert.deepEqual(asked, ['typescript', 'typescript']);
  });

  const modes: Array<{ doc: string; mode?: CompletionMode; stop: string[] | undefined }> = [
    { doc: 'const a = ❚', stop: ['\n'] },
    { doc: 'f(❚);\n', stop: ['\n'] },
    { doc: 'function f() {\n  ❚\n}\n', stop: undefined },
    { doc: 'function f() {\n  ❚\n}\n', mode: 'singleLine', stop: ['\n'] },
    { doc: 'const a = ❚', mode: 'multiLine', stop: undefined },
  ];
  for (const c of modes) {
    it(`stops at a newline or not: ${JSON.stringify(c.doc)} (${c.mode ?? 'auto'})`, async () => {
      const engine = new FakeEngine(() => 'x');
      const requests = recording(engine);
      await new CompletionPipeline(engine).complete(at(c.doc), { ...settings, mode: c.mode });
      assert.deepEqual(requests[0]?.stopStrings, c.stop);
    });
  }

  it('puts extra context before the prefix when the settings ask for it, within its budget', async () => {
    const gathered: Array<{ windowStart: number; maxChars: number }> = [];
    const extraContext: ExtraContextSource = {
      gather: (_request, windowStart, maxChars) => {
        gathered.push({ windowStart, maxChars });
        return 'import { x } from "x";\n';
      },
    };
    const engine = new FakeEngine(() => 'x');
    const pipeline = new CompletionPipeline(engine, { extraContext });
    await pipeline.complete(at(RETURN), settings);
    assert.equal(engine.calls[0].prefix, 'function f() {\n  return ');
    assert.equal(gathered.length, 0, 'off unless asked for');

    await pipeline.complete(at(typedAtReturn('a')), { ...settings, extraContext: true });
    assert.equal(engine.calls[1].prefix, 'import { x } from "x";\nfunction f() {\n  return a');
    assert.equal(gathered[0].windowStart, 0);
    assert.ok(gathered[0].maxChars > 0);
  });

  it('gives the prefix the room kept for extra context when there is none, the same for the same cursor', async () => {
    let extra = '';
    const extraContext: ExtraContextSource = { gather: () => extra };
    const engine = new FakeEngine(() => 'x');
    const pipeline = new CompletionPipeline(engine, { extraContext });
    const doc = `${'const a = 1;\n'.repeat(2_000)}return ❚;\n`;
    const on = { ...settings, extraContext: true };
    await pipeline.complete(at(doc), on);
    extra = 'import { x } from "x";\n';
    await pipeline.complete(at(doc.replace('❚', 'a❚')), on);
    const [without, withExtra] = engine.calls;
    assert.ok(without.prefix.length > withExtra.prefix.length + 200, `${without.prefix.length} vs ${withExtra.prefix.length}`);
    assert.ok(withExtra.prefix.startsWith(extra));
    const off = new FakeEngine(() => 'x');
    await new CompletionPipeline(off).complete(at(doc), settings);
    assert.equal(without.prefix, off.calls[0].prefix, 'no extra context: the prompt extra context off gives');
  });

  it('cuts a long document to the model\'s context window at the pipeline, not the engine', async () => {
    const engine = new FakeEngine(() => 'x'); // one token a character, 2,048 tokens of context
    const doc = `${'const a = 1;\n'.repeat(2_000)}❚${'const b = 2;\n'.repeat(2_000)}`;
    await new CompletionPipeline(engine).complete(at(doc), settings);
    const { prefix } = engine.calls[0];
    // The engine keeps a prefix whole when it leaves the suffix a quarter of the room (engine/prompt.ts).
    const room = engine.info.contextTokens - settings.maxNewTokens - 3;
    assert.ok(prefix.length <= room - Math.floor(room / 4) && prefix.length > room / 2, String(prefix.length));
  });
});
