// The completion pipeline on the real in-process engine and the committed fixture model.
import assert from 'node:assert/strict';
import path from 'node:path';
import { CompletionPipeline } from '../../src/completion/pipeline';
import type { CompletionRequest, CompletionResult } from '../../src/completion/types';
import { ExtraContext } from '../../src/context/extraContext';
import { SyntaxService } from '../../src/context/syntax';
import { isAbort, type Engine, type GenerateRequest, type GenerateResult } from '../../src/engine';
import { loadInProcessEngine } from '../../src/engine/local';
import type { InProcessEngine } from '../../src/engine/inProcessEngine';
import { fixtureModelDir, repoRoot } from '../helpers/fixture';

const settings = { maxNewTokens: 16, timeBudgetMs: 30_000 };

function at(text: string, cursor = '❚'): CompletionRequest {
  const offset = text.indexOf(cursor);
  assert.ok(offset >= 0, 'the document marks the cursor');
  return { document: text.slice(0, offset) + text.slice(offset + cursor.length), offset, languageId: '', fileName: 'untitled' };
}

interface ObservedCall {
  streamed: string;
  /** Text deltas the engine produced after the call's signal had fired (one per token here). */
  deltasAfterAbort: number;
  outcome: 'running' | 'done' | 'aborted' | 'failed';
}

/** The real engine, with a count of calls that have not settled yet (to show the queue stays
 *  bounded) and what each call streamed and how it ended. */
function counted(engine: Engine) {
  const stats = { calls: 0, outstanding: 0, peakOutstanding: 0 };
  const calls: ObservedCall[] = [];
  const listeners = new Set<() => void>();
  const wrapped: Engine = {
    info: engine.info,
    generate(request, { signal, onText } = {}) {
      stats.calls++;
      stats.peakOutstanding = Math.max(stats.peakOutstanding, ++stats.outstanding);
      const call: ObservedCall = { streamed: '', deltasAfterAbort: 0, outcome: 'running' };
      calls.push(call);
      const observe = (delta: string) => {
        call.streamed += delta;
        if (signal?.aborted) call.deltasAfterAbort++;
        onText?.(delta);
        for (const listener of [...listeners]) listener();
      };
      return engine.generate(request, { signal, onText: observe })
        .then((result) => { call.outcome = 'done'; return result; }, (error: unknown) => { call.outcome = isAbort(error) ? 'aborted' : 'failed'; throw error; })
        .finally(() => stats.outstanding--);
    },
    countTokens: (text) => engine.countTokens(text),
    dispose: () => engine.dispose(),
  };
  /** Settles once call number `index` has streamed at least `chars` characters. */
  const streamedAtLeast = (index: number, chars: number) => new Promise<void>((resolve) => {
    const check = () => {
      if ((calls[index]?.streamed.length ?? -1) < chars) return;
      listeners.delete(check);
      resolve();
    };
    listeners.add(check);
    check();
  });
  return { engine: wrapped, stats, calls, streamedAtLeast };
}

function assertPrintable(text: string) {
  assert.ok(!/[\u0000-\u0008\u000b\u000e-\u001f\u007f\ufffd]/.test(text), `printable: ${JSON.stringify(text)}`);
}

describe('completion pipeline on the fixture model', function () {
  let engine: InProcessEngine;
  before(async () => {
    engine = await loadInProcessEngine({ modelDir: fixtureModelDir });
  });
  after(() => engine?.dispose());

  const prompts = {
    typescript: 'export function add(a: number, b: number): number {\n  return ❚\n}\n',
    python: 'def greet(name):\n    message = ❚\n    return message\n',
  };
  for (const [language, doc] of Object.entries(prompts)) {
    it(`completes a ${language} prompt with printable text, the same every time`, async () => {
      const pipeline = new CompletionPipeline(engine);
      const first = await pipeline.complete(at(doc), settings);
      const second = await pipeline.complete(at(doc), settings);
      assert.ok(first && second, 'a result');
      assert.ok(first.generatedTokens > 0 && first.promptTokens > 0);
      assert.notEqual(first.text, '', 'some text survives post-processing');
      assertPrintable(first.text);
      assert.equal(first.text.trimEnd(), first.text);
      assert.equal(second.text, first.text);
      assert.ok(first.latencyMs >= first.ttfsMs);
    });
  }

  it('typing at the cursor prefills only the tokens around the edit, with the same results as a cold engine', async () => {
    const results: GenerateResult[] = [];
    const recording: Engine = {
      info: engine.info,
      generate: async (request, callbacks) => {
        const result = await engine.generate(request, callbacks);
        results.push(result);
        return result;
      },
      countTokens: (text) => engine.countTokens(text),
      dispose: () => engine.dispose(),
    };
    const cold = await loadInProcessEngine({ modelDir: fixtureModelDir, maxCachedKvBytes: 0 });
    try {
      const typing = new CompletionPipeline(recording);
      const reference = new CompletionPipeline(cold);
      const doc = 'def total(items):\n    s = 0\n    for item in items:\n        s += item.price❚\n    return s\n';
      const [before, after] = doc.split('❚');
      for (const typed of ['', ' ', ' *', ' * ', ' * i']) {
        const request = at(`${before}${typed}❚${after}`);
        const [got, want] = [await typing.complete(request, settings), await reference.complete(request, settings)];
        assert.equal(got?.text, want?.text, `after typing ${JSON.stringify(typed)}`);
      }
      for (const r of results.slice(1)) {
        assert.ok(r.prefilledPromptTokens <= r.promptTokens - 20, `${r.prefilledPromptTokens} of ${r.promptTokens} prompt tokens prefilled`);
      }
    } finally {
      await cold.dispose();
    }
  });

  it('with extra context, puts the enclosing signatures first and still prefills only the tokens around the edit while typing', async () => {
    const syntax = await SyntaxService.load(path.join(repoRoot, 'node_modules/@vscode/tree-sitter-wasm/wasm'), { runtimeDir: path.join(repoRoot, 'node_modules/web-tree-sitter') });
    await syntax.warm('typescript');
    try {
      const requests: GenerateRequest[] = [];
      const results: GenerateResult[] = [];
      const recording: Engine = {
        info: engine.info,
        generate: async (request, callbacks) => {
          requests.push(request);
          const result = await engine.generate(request, callbacks);
          results.push(result);
          return result;
        },
        countTokens: (text) => engine.countTokens(text),
        dispose: () => engine.dispose(),
      };
      const pipeline = new CompletionPipeline(recording, {
        syntax: { blockAt: (text, offset, languageId) => syntax.blockAt(text, offset, languageId, 1_000) },
        extraContext: new ExtraContext({ outlines: syntax, outlineBudgetMs: 1_000 }),
      });
      const methods = Array.from({ length: 60 }, (_, i) => `  method${i}(value: number): number {\n    return value * ${i};\n  }\n`).join('\n');
      const doc = `import { Base } from './base';\n\nexport class Shapes extends Base {\n${methods}\n  area(width: number, height: number): number {\n    const w = width;\n    ❚\n  }\n}\n`;
      const [before, after] = doc.split('❚');
      for (const typed of ['', 'c', 'co', 'const', 'const a = w;', 'const a = w;\n    r', 'const a = w;\n    return']) {
        await pipeline.complete({ ...at(`${before}${typed}❚${after}`), languageId: 'typescript', fileName: 'shapes.ts' }, { ...settings, extraContext: true });
      }
      const prompt = requests[0]!.prompt;
      // The class's line is out of view; the method's is in the window.
      assert.ok(prompt.kind === 'fim' && prompt.prefix.startsWith('export class Shapes extends Base {\n'), 'the signature around the cursor comes first');
      for (const line of ['export class Shapes', 'area(width: number, height: number)']) assert.equal(prompt.kind === 'fim' && prompt.prefix.split(line).length, 2, line);
      for (const [i, r] of results.entries()) {
        if (i > 0) assert.ok(r.prefilledPromptTokens <= r.promptTokens - 300, `call ${i}: ${r.prefilledPromptTokens} of ${r.promptTokens} prompt tokens prefilled`);
      }
    } finally {
      syntax.dispose();
    }
  });

  it('keeps the prompt bounded on a several-MB document', async () => {
    const line = 'const value = compute(alpha, beta); // ordinary code\n';
    const doc = line.repeat(Math.ceil(5_000_000 / line.length));
    const pipeline = new CompletionPipeline(engine);
    for (const offset of [0, Math.floor(doc.length / 2), doc.length]) {
      const result = await pipeline.complete({ document: doc, offset, languageId: 'typescript', fileName: 'big.ts' }, settings);
      assert.ok(result, `a result at offset ${offset}`);
      assert.ok(result.promptTokens <= engine.info.contextTokens, `${result.promptTokens} prompt tokens`);
      assertPrintable(result.text);
    }
  });

  it('handles an empty document and the cursor at either end', async () => {
    const pipeline = new CompletionPipeline(engine);
    const doc = 'x = 1\ny = 2\n';
    for (const request of [at('❚'), { ...at(doc + '❚'), offset: 0 }, at(doc + '❚')]) {
      const result = await pipeline.complete(request, settings);
      assert.ok(result, 'a result (its text may be empty)');
      assertPrintable(result.text);
    }
  });

  it('skips binary-looking text without calling the engine', async () => {
    const { engine: spied, stats } = counted(engine);
    const pipeline = new CompletionPipeline(spied);
    const binary = '\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0'.repeat(200);
    assert.equal(await pipeline.complete({ document: binary, offset: 1_000, languageId: '', fileName: 'a.out' }, settings), undefined);
    assert.equal(stats.calls, 0);
  });

  it('resolves to undefined, not an error, when the caller cancels', async () => {
    const pipeline = new CompletionPipeline(engine);
    const controller = new AbortController();
    const pending = pipeline.complete(at(prompts.typescript), { ...settings, maxNewTokens: 64 }, controller.signal);
    controller.abort();
    assert.equal(await pending, undefined);
  });

  it('a cancelled request resolves to undefined and its engine call stops within one token', async () => {
    const observed = counted(engine);
    const pipeline = new CompletionPipeline(observed.engine, { abandonedJobGraceMs: 0 });
    const controller = new AbortController();
    const pending = pipeline.complete(at(prompts.typescript), { ...settings, maxNewTokens: 256 }, controller.signal);
    await observed.streamedAtLeast(0, 3);
    controller.abort();
    assert.equal(await pending, undefined);
    await pipeline.idle();
    const [call] = observed.calls;
    assert.equal(call.outcome, 'aborted');
    assert.ok(call.deltasAfterAbort <= 1, `${call.deltasAfterAbort} tokens after the abort`);
  });

  it('a request typed into the running generation gets the rest of the text that generation gives when left alone', async () => {
    const whole = await new CompletionPipeline(engine).complete(at(prompts.typescript), settings);
    assert.ok(whole && whole.text.length > 3, 'a suggestion long enough to type into');
    const typed = whole.text.slice(0, 2);

    const observed = counted(engine);
    const pipeline = new CompletionPipeline(observed.engine);
    const first = pipeline.complete(at(prompts.typescript), settings);
    await observed.streamedAtLeast(0, typed.length);
    const second = pipeline.complete(at(prompts.typescript.replace('❚', `${typed}❚`)), settings);
    assert.equal(await first, undefined, 'the superseded request gets nothing');
    const joined = await second;
    assert.deepEqual({ text: joined?.text, source: joined?.source }, { text: whole.text.slice(typed.length), source: 'inflight' });
    assert.equal(observed.stats.calls, 1);
    assert.deepEqual(pipeline.stats, { requests: 2, cacheHits: 0, inflightJoins: 1, prefetches: 0, prefetchHits: 0 });
  });

  it('prefetches the suggestion after the shown one into the cache: the text a request there gets', async () => {
    const withPrefetch = { ...settings, prefetch: true };
    const observed = counted(engine);
    const pipeline = new CompletionPipeline(observed.engine);
    const shown = await pipeline.complete(at(prompts.python), withPrefetch);
    assert.ok(shown && shown.text !== '');
    await pipeline.idle();
    assert.equal(observed.stats.calls, 2, 'the request and its prefetch');

    const accepted = prompts.python.replace('❚', `${shown.text}❚`);
    const next = await pipeline.complete(at(accepted), withPrefetch);
    pipeline.cancel(); // before it prefetches the suggestion after that one
    assert.equal(next?.source, 'cache');
    assert.equal(observed.stats.calls, 2);
    assert.deepEqual(pipeline.stats, { requests: 2, cacheHits: 1, inflightJoins: 0, prefetches: 1, prefetchHits: 1 });
    const fresh = await new CompletionPipeline(engine).complete(at(accepted), settings);
    assert.equal(next?.text, fresh?.text);
  });

  it('aborts a running prefetch the moment a real request elsewhere arrives', async () => {
    const observed = counted(engine);
    const pipeline = new CompletionPipeline(observed.engine);
    await pipeline.complete(at(prompts.python), { ...settings, maxNewTokens: 256, prefetch: true });
    await observed.streamedAtLeast(1, 1);
    const real = await pipeline.complete(at(prompts.typescript), settings);
    assert.equal(real?.source, 'engine');
    const [, prefetch] = observed.calls;
    assert.equal(prefetch.outcome, 'aborted');
    assert.ok(prefetch.deltasAfterAbort <= 1, `${prefetch.deltasAfterAbort} prefetch tokens after the abort`);
    assert.equal(observed.stats.peakOutstanding, 1, 'the real request never queued behind the prefetch');
    assert.equal(real?.text, (await new CompletionPipeline(engine).complete(at(prompts.typescript), settings))?.text);
  });

  /** Fires 300 requests (with `pause` between them, if given) and checks the latest-wins contract. */
  async function storm(pause?: () => Promise<void>) {
    const { engine: spied, stats } = counted(engine);
    const pipeline = new CompletionPipeline(spied);
    engine.peakRunning = 0;
    global.gc?.();
    const heapBeforeBytes = process.memoryUsage().heapUsed;

    const runs: Promise<CompletionResult | undefined>[] = [];
    for (let i = 0; i < 300; i++) {
      runs.push(pipeline.complete(at(`const v${i} = ❚;\n`), settings));
      if (pause) await pause();
    }
    const results = await Promise.all(runs);

    assert.deepEqual(results.slice(0, -1).filter((r) => r !== undefined), [], 'every superseded request resolves to undefined');
    assert.ok(results[299], 'the latest request resolves to a result');
    assert.equal(engine.peakRunning, 1, 'the engine never runs two generations at once');
    assert.equal(stats.peakOutstanding, 1, 'the pipeline never queues a second engine call');
    assert.equal(stats.outstanding, 0);
    global.gc?.();
    const grownMB = (process.memoryUsage().heapUsed - heapBeforeBytes) / 2 ** 20;
    assert.ok(grownMB < 20, `heap grew ${grownMB.toFixed(1)} MB`);
    return stats.calls;
  }

  it('latest request wins: 300 requests fired without awaiting reach the engine at most twice', async () => {
    const calls = await storm();
    assert.ok(calls <= 2, `${calls} engine calls`);
  });

  it('latest request wins while typing: requests arriving during a generation never queue up in the engine', async () => {
    const calls = await storm(() => new Promise((resolve) => setImmediate(resolve)));
    assert.ok(calls > 2, `${calls} engine calls: the requests overlapped running generations`);
  });
});
