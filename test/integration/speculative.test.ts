// Speculative decoding on the fixture model: drafts verified in one forward pass give exactly the
// tokens, text, stop reason and KV cache of plain greedy decoding. The fixture's random weights
// rarely agree with prompt lookup, so the edge cases use an oracle drafter that proposes the plain
// run's own continuation, with wrong tokens mixed in.
import assert from 'node:assert/strict';
import type { GenerateRequest, GenerateResult } from '../../src/engine';
import { generateTokens, type GenerateInput } from '../../src/engine/generate';
import type { KvCache } from '../../src/engine/kvCache';
import { loadInProcessEngine, type InProcessEngine } from '../../src/engine/local';
import type { Manifest } from '../../src/engine/manifest';
import { Model } from '../../src/engine/model';
import { openModelDir } from '../../src/engine/modelDir';
import { renderPromptIds } from '../../src/engine/prompt';
import { argmax } from '../../src/engine/sampling';
import { verifyDrafts, type Drafter } from '../../src/engine/speculate';
import { TextTokenizer } from '../../src/engine/tokenizer';
import { fixtureModelDir, readGolden } from '../helpers/fixture';

const TOLERANCE = 1e-4;

const switchCode = [
  'function kindName(kind: Kind): string {',
  '  switch (kind) {',
  '    case Kind.Function:',
  '      return "function";',
  '    case Kind.Method:',
  '      return "method";',
  '    case Kind.Class:',
  '      return "class";',
  '    case Kind.',
].join('\n');
const similarLines = 'const width = options.width ?? 80;\nconst height = options.height ?? 24;\nconst depth = options.depth ?? 1;\nconst ';
const pythonCode = 'def area(width, height):\n    """Return the area."""\n    result = width * height\n    ret';
const prose = 'The quick brown fox jumps over the lazy dog while a cat watches';
const prompts: { name: string; prefix: string; suffix: string }[] = [
  { name: 'the next case of a switch', prefix: switchCode, suffix: '\n  }\n}\n' },
  { name: 'the next similar line', prefix: similarLines, suffix: '\nreturn { width, height, depth };\n' },
  { name: 'a line that is already in the suffix', prefix: 'if (a) {\n  ', suffix: '\n}\nelse {\n  total += weight * value;\n}\n' },
  { name: 'a function body', prefix: pythonCode, suffix: '\n\nprint(area(2, 3))\n' },
  { name: 'prose with nothing repeated', prefix: prose, suffix: '' },
];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Proposes `expected` (the plain run's ids) from where the output stands; every `wrongEvery`-th
 *  call changes one draft, at the next position each time, so passes accept all, some or none. */
function oracle(expected: readonly number[], promptTokens: number, wrongEvery = 2): Drafter {
  let calls = 0;
  let wrong = 0;
  return (context, maxDrafts) => {
    const at = context.length - promptTokens; // tokens generated so far
    const drafts = expected.slice(at, at + maxDrafts);
    if (++calls % wrongEvery === 0 && drafts.length > 0) {
      const i = wrong++ % drafts.length;
      drafts[i] = (drafts[i] + 1) % 512;
    }
    return drafts;
  };
}

describe('speculative decoding on the fixture model', () => {
  let model: Model;
  let tokenizer: TextTokenizer;
  let manifest: Manifest;
  let plain: InProcessEngine;
  let speculative: InProcessEngine;

  before(async () => {
    const dir = await openModelDir(fixtureModelDir);
    manifest = dir.manifest;
    model = await Model.load(dir, 1);
    tokenizer = await TextTokenizer.load(dir.file('tokenizer.json'));
    plain = await loadInProcessEngine({ modelDir: fixtureModelDir, speculativeLookup: false });
    speculative = await loadInProcessEngine({ modelDir: fixtureModelDir, speculativeLookup: true });
  });
  after(async () => {
    await model?.dispose();
    await plain?.dispose();
    await speculative?.dispose();
  });

  const request = (prefix: string, suffix: string, over: Partial<GenerateRequest> = {}): GenerateRequest => ({
    prompt: { kind: 'fim', prefix, suffix }, maxNewTokens: 64, temperature: 0, topP: 1, seed: 0, timeBudgetMs: 60_000, ...over,
  });
  const promptIds = (r: GenerateRequest) => renderPromptIds(r.prompt, tokenizer, manifest, manifest.contextTokens - r.maxNewTokens);

  function assertSame(actual: GenerateResult, expected: GenerateResult, what = ''): void {
    assert.deepEqual(actual.tokenIds, expected.tokenIds, what);
    assert.equal(actual.text, expected.text, what);
    assert.equal(actual.stopReason, expected.stopReason, what);
    assert.equal(actual.generatedTokens, expected.generatedTokens, what);
  }

  /** Within float tolerance: a pass of several tokens runs the FFN's rows batched, which sums in
   *  another order than one token at a time. */
  function assertSameCache(actual: KvCache, expected: KvCache): void {
    assert.deepEqual(actual.ids, expected.ids);
    assert.equal(actual.length, expected.length);
    for (let l = 0; l < model.arch.layers; l++) {
      assert.ok(maxAbsDiff(actual.past(l, 0), expected.past(l, 0)) < TOLERANCE, `keys of layer ${l}`);
      assert.ok(maxAbsDiff(actual.past(l, 1), expected.past(l, 1)) < TOLERANCE, `values of layer ${l}`);
    }
  }

  /** Plain greedy decoding and the same request with `drafter`, each on a fresh cache; results and
   *  caches must agree. */
  async function compare(r: GenerateRequest, drafter: Drafter, over: Partial<GenerateInput> = {}) {
    const input = { model, tokenizer, promptIds: promptIds(r), stopIds: new Set<number>(), contextTokens: manifest.contextTokens, ...over };
    const plainKv = model.newCache();
    const specKv = model.newCache();
    const expected = await generateTokens({ ...input, kv: plainKv }, r);
    const actual = await generateTokens({ ...input, kv: specKv, drafter }, r);
    assertSame(actual, expected);
    assertSameCache(specKv, plainKv);
    return { expected, actual };
  }

  /** The plain run's ids with no stop string and a generous limit: what an oracle proposes. */
  async function continuation(r: GenerateRequest, over: Partial<GenerateInput> = {}): Promise<number[]> {
    const ids = promptIds(r);
    const long = await generateTokens(
      { model, tokenizer, promptIds: ids, stopIds: new Set(), contextTokens: manifest.contextTokens, ...over },
      { ...r, stopStrings: [], maxNewTokens: r.maxNewTokens + 16 },
    );
    return long.tokenIds;
  }

  it('forwardAll gives, row by row, the logits of running the tokens one at a time', async () => {
    const ids = tokenizer.encode(switchCode).slice(0, 24);
    const kv = model.newCache();
    await model.forward(ids.slice(0, 15), kv);
    const rows = await model.forwardAll(ids.slice(15), kv);
    assert.equal(kv.length, 24);
    const stepKv = model.newCache();
    await model.forward(ids.slice(0, 15), stepKv);
    const V = model.arch.vocabSize;
    for (let i = 15; i < 24; i++) {
      const step = await model.forward([ids[i]], stepKv);
      const row = rows.subarray((i - 15) * V, (i - 14) * V);
      assert.ok(maxAbsDiff(row, step) < TOLERANCE, `position ${i}: max |Δ| ${maxAbsDiff(row, step)}`);
    }
  });

  it('verifyDrafts keeps the drafts argmax agrees with and truncates the cache past the rest', async () => {
    const ids = tokenizer.encode(pythonCode);
    const greedy: number[] = [];
    const reference = model.newCache();
    let logits = await model.forward(ids, reference);
    for (let i = 0; i < 7; i++) {
      greedy.push(argmax(logits));
      logits = await model.forward([greedy[i]], reference); // reference holds ids + greedy[0..i]
    }
    for (const wrongAt of [0, 3, 5, -1]) {
      const drafts = greedy.slice(1);
      if (wrongAt >= 0) drafts[wrongAt] = (drafts[wrongAt] + 1) % 512;
      const kv = model.newCache();
      await model.forward(ids, kv);
      const v = await verifyDrafts(model, kv, greedy[0], drafts);
      const accepted = wrongAt >= 0 ? wrongAt : drafts.length;
      assert.deepEqual(v.accepted, greedy.slice(1, 1 + accepted), `wrong at ${wrongAt}`);
      assert.deepEqual(kv.ids, [...ids, ...greedy.slice(0, 1 + accepted)]);
      const expected = model.newCache();
      const expectedLogits = await model.forward([...ids, ...greedy.slice(0, 1 + accepted)], expected);
      assert.ok(maxAbsDiff(v.logits, expectedLogits) < TOLERANCE);
      assertSameCache(kv, expected);
    }
  });

  it('with an oracle drafter: the same tokens and cache as plain decoding, in far fewer passes', async () => {
    for (const p of prompts) {
      const r = request(p.prefix, p.suffix);
      const expected = await continuation(r);
      let passes = 0;
      const counting: Drafter = (context, max) => { passes++; return expected.slice(context.length - promptIds(r).length, context.length - promptIds(r).length + max); };
      const { actual } = await compare(r, counting);
      assert.equal(actual.acceptedDraftTokens, actual.draftTokens, p.name);
      assert.ok(passes <= Math.ceil(r.maxNewTokens / 9) + 1, `${p.name}: ${passes} verification passes for ${actual.generatedTokens} tokens`);
      const mixed = await compare(r, oracle(expected, promptIds(r).length));
      assert.ok(mixed.actual.acceptedDraftTokens! < mixed.actual.draftTokens!, p.name);
    }
  });

  it('stops exactly where plain decoding stops: max tokens', async () => {
    for (const maxNewTokens of [1, 2, 3, 8, 9, 10, 17, 33]) {
      const r = request(switchCode, '', { maxNewTokens });
      const { actual } = await compare(r, oracle(await continuation(r), promptIds(r).length, 3));
      assert.equal(actual.generatedTokens, maxNewTokens);
    }
  });

  it('stops exactly where plain decoding stops: stop strings, inside a run of accepted drafts', async () => {
    const r = request(similarLines, '', { maxNewTokens: 48 });
    const expected = await continuation(r);
    const text = tokenizer.decode(expected);
    for (const at of [3, 10, 25, 60]) {
      const stop = text.slice(at, at + 2);
      const { actual } = await compare({ ...r, stopStrings: ['\u0000never', stop] }, oracle(expected, promptIds(r).length, 1000));
      assert.equal(actual.stopReason, 'stop-string', JSON.stringify(stop));
      assert.equal(actual.text, text.slice(0, text.indexOf(stop)));
    }
  });

  it('stops exactly where plain decoding stops: a stop token the drafts run past', async () => {
    const r = request(pythonCode, '', { maxNewTokens: 40 });
    const expected = await continuation(r);
    for (const at of [1, 7, 20]) {
      const stopIds = new Set([expected[at]]);
      const { actual } = await compare(r, oracle(expected, promptIds(r).length, 1000), { stopIds });
      assert.equal(actual.stopReason, 'stop-token');
      assert.deepEqual(actual.tokenIds, expected.slice(0, expected.indexOf(expected[at])));
    }
  });

  it('stops exactly where plain decoding stops: the end of the context', async () => {
    const r = request(switchCode, '', { maxNewTokens: 64 });
    const contextTokens = promptIds(r).length + 13;
    const expected = await continuation(r, { contextTokens });
    const { actual } = await compare(r, oracle(expected, promptIds(r).length, 1000), { contextTokens });
    assert.equal(actual.stopReason, 'context-full');
    assert.equal(actual.generatedTokens, 14);
  });

  it('a spent time budget stops after the first token, as plain decoding does', async () => {
    const r = request(switchCode, '', { timeBudgetMs: 0 });
    const { actual } = await compare(r, oracle(await continuation(r), promptIds(r).length));
    assert.equal(actual.stopReason, 'time-budget');
    assert.equal(actual.generatedTokens, 1);
  });

  it('an abort leaves the cache plain decoding would, with accepted drafts not yet taken dropped', async () => {
    const r = request(switchCode, '', { maxNewTokens: 64 });
    const ids = promptIds(r);
    const expected = await continuation(r);
    const run = async (drafter?: Drafter) => {
      const kv = model.newCache();
      const controller = new AbortController();
      let pieces = 0;
      const onText = () => { if (++pieces === 3) controller.abort(); };
      const input = { model, tokenizer, promptIds: ids, stopIds: new Set<number>(), contextTokens: manifest.contextTokens, kv, drafter };
      await assert.rejects(generateTokens(input, r, { signal: controller.signal, onText }), { name: 'AbortError' });
      return kv;
    };
    const plainKv = await run();
    const specKv = await run(oracle(expected, ids.length, 1000));
    assert.ok(plainKv.length > ids.length);
    assertSameCache(specKv, plainKv);
  });

  it('does not speculate when sampling', async () => {
    const r = request(switchCode, '', { temperature: 1, topP: 0.95, seed: 7, maxNewTokens: 24 });
    const { actual } = await compare(r, () => { throw new Error('drafted while sampling'); });
    assert.equal(actual.draftTokens, 0);
  });

  it('the engine (on by default): prompt lookup gives plain greedy output over several prompts, and some drafts hold', async () => {
    let accepted = 0;
    for (const p of prompts) {
      for (const maxNewTokens of [64, 128]) {
        const r = request(p.prefix, p.suffix, { maxNewTokens });
        const expected = await plain.generate(r);
        const actual = await speculative.generate(r);
        assertSame(actual, expected, p.name);
        assert.equal(speculative.cachedKvTokens, plain.cachedKvTokens, p.name);
        assert.ok(actual.draftTokens! > 0, p.name);
        assert.equal(expected.draftTokens, 0);
        accepted += actual.acceptedDraftTokens!;
      }
    }
    assert.ok(accepted > 0, 'no draft was ever accepted');
  });

  it('the engine (on by default): stop strings, sampling, and the golden greedy ids', async () => {
    const r = request(switchCode, '\n  }\n}\n', { maxNewTokens: 96 });
    const full = await plain.generate(r);
    for (const at of [5, 40, 100]) {
      const stop = full.text.slice(at, at + 3);
      assertSame(await speculative.generate({ ...r, stopStrings: [stop] }), await plain.generate({ ...r, stopStrings: [stop] }), JSON.stringify(stop));
    }
    const sampled = { ...r, temperature: 0.8, topP: 0.9, seed: 3 };
    const s = await speculative.generate(sampled);
    assertSame(s, await plain.generate(sampled));
    assert.equal(s.draftTokens, 0);
    const golden = readGolden<{ fim: { prefix: string; suffix: string; greedyIds: number[] } }>('tiny-model-reference.json').fim;
    const g = await speculative.generate(request(golden.prefix, golden.suffix, { maxNewTokens: golden.greedyIds.length }));
    assert.deepEqual(g.tokenIds, golden.greedyIds);
  });
});
