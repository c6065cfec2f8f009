// KV-prefix reuse on the fixture model: a prompt that shares a token prefix with the last generation
// prefills only the rest, and gives exactly what a cold run of the same prompt gives.
import assert from 'node:assert/strict';
import type { GenerateRequest, GenerateResult } from '../../src/engine';
import type { FfnStep } from '../../src/engine/ffn/ffnStep';
import { generateTokens } from '../../src/engine/generate';
import { loadInProcessEngine, type InProcessEngine } from '../../src/engine/local';
import type { Manifest } from '../../src/engine/manifest';
import { Model } from '../../src/engine/model';
import { openModelDir } from '../../src/engine/modelDir';
import { renderPromptIds } from '../../src/engine/prompt';
import { TextTokenizer } from '../../src/engine/tokenizer';
import { fixtureModelDir } from '../helpers/fixture';

const TOLERANCE = 1e-4;
const BYTES_PER_TOKEN = 512; // fixture: 2 layers × (K + V) × 2 kv heads × 16 dims × 4 bytes

const prefix = 'def area(width, height):\n    """Return the area."""\n    result = width * height\n    ret';
const suffix = '\n\nprint(area(2, 3))\n';
const fim = (p: string, over: Partial<GenerateRequest> = {}): GenerateRequest => ({
  prompt: { kind: 'fim', prefix: p, suffix }, maxNewTokens: 12, temperature: 0, topP: 1, seed: 0, timeBudgetMs: 60_000, ...over,
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

describe('KV-prefix reuse on the fixture model', () => {
  let engine: InProcessEngine;
  /** Keeps no cache, so every run is cold: the reference for each reuse. */
  let cold: InProcessEngine;
  let model: Model;
  let tokenizer: TextTokenizer;
  let manifest: Manifest;

  before(async () => {
    const dir = await openModelDir(fixtureModelDir);
    manifest = dir.manifest;
    model = await Model.load(dir, 1);
    tokenizer = await TextTokenizer.load(dir.file('tokenizer.json'));
    engine = await loadInProcessEngine({ modelDir: fixtureModelDir });
    cold = await loadInProcessEngine({ modelDir: fixtureModelDir, maxCachedKvBytes: 0 });
  });
  after(async () => {
    await model?.dispose();
    await engine?.dispose();
    await cold?.dispose();
  });

  const render = (request: GenerateRequest) =>
    renderPromptIds(request.prompt, tokenizer, manifest, manifest.contextTokens - request.maxNewTokens);

  /** Runs `request` on the reusing engine and on the cold one; the tokens must agree exactly. */
  async function sameAsCold(request: GenerateRequest): Promise<GenerateResult> {
    const reused = await engine.generate(request);
    const reference = await cold.generate(request);
    assert.equal(reference.reusedPromptTokens, 0);
    assert.equal(reused.promptTokens, reference.promptTokens);
    assert.deepEqual(reused.tokenIds, reference.tokenIds);
    assert.equal(reused.text, reference.text);
    assert.equal(reused.reusedPromptTokens + reused.prefilledPromptTokens, reused.promptTokens);
    assert.ok(reused.prefilledPromptTokens >= 1);
    return reused;
  }

  it('truncating the cache in place keeps exactly the keys and values of the kept positions', async () => {
    const ids = tokenizer.encode(prefix).slice(0, 20);
    const long = model.newCache();
    await model.forward(ids, long);
    long.truncate(12);
    const short = model.newCache();
    await model.forward(ids.slice(0, 12), short);
    assert.equal(long.length, short.length);
    assert.deepEqual(long.ids, short.ids);
    for (let l = 0; l < model.arch.layers; l++) {
      assert.ok(maxAbsDiff(long.past(l, 0), short.past(l, 0)) < 1e-5, `keys of layer ${l}`);
      assert.ok(maxAbsDiff(long.past(l, 1), short.past(l, 1)) < 1e-5, `values of layer ${l}`);
    }
  });

  it('gives the logits of a cold prefill after reusing a prefix (positions continue from it)', async () => {
    const first = render(fim(prefix));
    const second = render(fim(prefix + 'urn width'));
    const kv = model.newCache();
    await model.forward(first, kv);
    const kept = kv.keepCommonPrefix(second);
    assert.equal(kept, commonPrefix(first, second));
    assert.ok(kept > 10);
    const reused = await model.forward(second.slice(kept), kv);
    const reference = await model.forward(second, model.newCache());
    assert.ok(maxAbsDiff(reused, reference) < TOLERANCE, `max |Δ| ${maxAbsDiff(reused, reference)}`);
    assert.equal(kv.length, second.length);
  });

  it('(a) the same prompt twice: reruns only its last token, same greedy ids and seeded samples', async () => {
    const first = await sameAsCold(fim(prefix));
    const again = await sameAsCold(fim(prefix));
    assert.equal(again.reusedPromptTokens, first.promptTokens - 1);
    assert.equal(again.prefilledPromptTokens, 1);
    const sampled = fim(prefix, { temperature: 1, topP: 0.95, seed: 7, maxNewTokens: 16 });
    assert.equal((await sameAsCold(sampled)).prefilledPromptTokens, 1);
  });

  it('(b) typing at the end of the prefix reuses every token before the edit', async () => {
    await engine.generate(fim(prefix));
    let previous = fim(prefix);
    for (const typed of ['u', 'ur', 'urn', 'urn ', 'urn w']) {
      const request = fim(prefix + typed);
      const r = await sameAsCold(request);
      assert.equal(r.reusedPromptTokens, commonPrefix(render(previous), render(request)), `after typing ${JSON.stringify(typed)}`);
      previous = request;
    }
    // One character after "ret": <pre> and every prefix token before the edit are reused.
    await engine.generate(fim(prefix));
    const one = await sameAsCold(fim(prefix + 'u'));
    assert.ok(one.reusedPromptTokens >= 1 + tokenizer.encode(prefix).length, `${one.reusedPromptTokens} reused`);
    assert.ok(one.prefilledPromptTokens < one.promptTokens / 2, `${one.prefilledPromptTokens} of ${one.promptTokens} prefilled`);
  });

  it('(c) an edit in the middle of the prefix reuses the tokens before it', async () => {
    await engine.generate(fim(prefix));
    const edited = prefix.replace('result', 'rezult');
    const r = await sameAsCold(fim(edited));
    const expected = commonPrefix(render(fim(prefix)), render(fim(edited)));
    assert.equal(r.reusedPromptTokens, expected);
    assert.ok(expected > 0 && expected < r.promptTokens / 2, `${expected} of ${r.promptTokens}`);
  });

  it('a new prompt with nothing in common replaces the cache', async () => {
    await engine.generate(fim(prefix));
    const r = await sameAsCold({ ...fim(''), prompt: { kind: 'text', text: 'import os\nimport sys\n' } });
    assert.equal(r.reusedPromptTokens, 0);
    assert.equal(engine.cachedKvTokens, r.promptTokens + r.generatedTokens - 1, 'the prompt and the generated tokens that ran');
  });

  it('reuses the generated tokens that were run when the next prompt continues with them', async () => {
    const text = 'import os\nimport sys\n\n\ndef main(';
    const request = (t: string): GenerateRequest => ({ ...fim(''), prompt: { kind: 'text', text: t } });
    const first = await engine.generate(request(text));
    const cachedIds = [...tokenizer.encode(text), ...first.tokenIds.slice(0, -1)]; // the last token was sampled, not run
    const next = request(text + first.text);
    const r = await sameAsCold(next);
    assert.equal(r.reusedPromptTokens, Math.min(commonPrefix(cachedIds, render(next)), r.promptTokens - 1));
    assert.ok(r.reusedPromptTokens > tokenizer.encode(text).length, `${r.reusedPromptTokens} reused`);
  });

  it('(d) after an aborted generation the cache holds what ran, and the next run is exact', async () => {
    const controller = new AbortController();
    let pieces = 0;
    const aborted = engine.generate(fim(prefix, { maxNewTokens: 200 }), {
      signal: controller.signal,
      onText: () => { if (++pieces === 3) controller.abort(); },
    });
    await assert.rejects(aborted, { name: 'AbortError' });
    const promptTokens = render(fim(prefix)).length;
    assert.ok(engine.cachedKvTokens > promptTokens, `${engine.cachedKvTokens} cached: the prompt and a few generated tokens`);
    const again = await sameAsCold(fim(prefix));
    assert.equal(again.reusedPromptTokens, promptTokens - 1);
    const typed = await sameAsCold(fim(prefix + 'u'));
    assert.ok(typed.reusedPromptTokens > 1);
  });

  it('(e) a failed generation clears the cache, and the next run is exact', async () => {
    await engine.generate(fim(prefix));
    const failing = engine.generate(fim(prefix + 'u'), { onText: () => { throw new Error('listener failed'); } });
    await assert.rejects(failing, /listener failed/);
    assert.equal(engine.cachedKvTokens, 0);
    const r = await sameAsCold(fim(prefix + 'u'));
    assert.equal(r.reusedPromptTokens, 0);
  });

  it('(e) a forward pass that fails between layers leaves an empty cache, never a half-updated one', async () => {
    const ids = render(fim(prefix));
    const kv = model.newCache();
    const ffn = (model as unknown as { ffn: FfnStep }).ffn;
    const original = ffn.forward;
    await model.forward(ids, kv);
    ffn.forward = async (layer, x, tokens) => {
      if (layer === 1) throw new Error('ffn read failed');
      return original.call(ffn, layer, x, tokens);
    };
    try {
      await assert.rejects(model.forward(tokenizer.encode('urn'), kv), /ffn read failed/);
    } finally {
      ffn.forward = original;
    }
    assert.equal(kv.length, 0);
    assert.equal(kv.past(0, 0).length, 0, 'no keys held after the failure');
    const request = fim(prefix);
    const input = { model, tokenizer, promptIds: ids, stopIds: new Set<number>(), contextTokens: manifest.contextTokens };
    const afterFailure = await generateTokens({ ...input, kv }, request);
    const reference = await generateTokens(input, request);
    assert.equal(afterFailure.reusedPromptTokens, 0);
    assert.deepEqual(afterFailure.tokenIds, reference.tokenIds);
  });

  it('a long prompt cut to the budget keeps its window while the user types, so it is reused', async () => {
    const long = 'total = 0\nfor i in range(10):\n    total += i * i\n'.repeat(300) + 'print(tot';
    const request = (p: string) => fim(p, { maxNewTokens: 8 });
    const first = await engine.generate(request(long));
    assert.ok(tokenizer.encode(long).length > manifest.contextTokens, 'the prefix is cut');
    const typed = await sameAsCold(request(long + 'a'));
    assert.ok(typed.prefilledPromptTokens <= 30, `${typed.prefilledPromptTokens} of ${typed.promptTokens} prefilled (first run: ${first.promptTokens})`);
  });

  it('drops a cache larger than maxCachedKvBytes after the generation', async () => {
    const limited = await loadInProcessEngine({ modelDir: fixtureModelDir, maxCachedKvBytes: 200 * BYTES_PER_TOKEN });
    try {
      await limited.generate(fim(prefix));
      assert.ok(limited.cachedKvTokens > 0);
      assert.equal((await limited.generate(fim(prefix))).prefilledPromptTokens, 1, 'a small cache is kept');
      const big = fim('x = 1\n'.repeat(200));
      await limited.generate(big);
      assert.equal(limited.cachedKvTokens, 0, 'a cache over the limit is dropped');
      assert.equal((await limited.generate(big)).reusedPromptTokens, 0);
    } finally {
      await limited.dispose();
    }
  });

  it('dispose frees the cache, and a newly loaded engine starts empty', async () => {
    const other = await loadInProcessEngine({ modelDir: fixtureModelDir });
    assert.equal(other.cachedKvTokens, 0);
    await other.generate(fim(prefix));
    assert.ok(other.cachedKvTokens > 0);
    await other.dispose();
    assert.equal(other.cachedKvTokens, 0);
    const next = await loadInProcessEngine({ modelDir: fixtureModelDir });
    try {
      assert.equal((await next.generate(fim(prefix))).reusedPromptTokens, 0);
    } finally {
      await next.dispose();
    }
  });
});
