// The real engine (ONNX Runtime Web, wasm) on the committed fixture model, checked against the
// NumPy reference's logits and greedy ids in test/golden/tiny-model-reference.json.
import assert from 'node:assert/strict';
import type { GenerateRequest } from '../../src/engine';
import { loadInProcessEngine, type InProcessEngine } from '../../src/engine/local';
import { generateTokens } from '../../src/engine/generate';
import { Model } from '../../src/engine/model';
import { argmax } from '../../src/engine/sampling';
import { openModelDir } from '../../src/engine/modelDir';
import { TextTokenizer } from '../../src/engine/tokenizer';
import { fixtureModelDir, readGolden } from '../helpers/fixture';

interface Reference {
  promptText: string;
  promptIds: number[];
  prefillLastLogits: number[];
  /** Step k feeds inputId at `position` and expects `logits` (null past the first few steps). */
  decode: { steps: { position: number; inputId: number; nextId: number; logits: number[] | null }[] };
  greedyIds: number[];
  fim: { prefix: string; suffix: string; promptIds: number[]; greedyIds: number[] };
}
const ref = readGolden<Reference>('tiny-model-reference.json');
const TOLERANCE = 1e-4;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const greedy = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({
  prompt: { kind: 'fim', prefix: ref.fim.prefix, suffix: ref.fim.suffix },
  maxNewTokens: ref.fim.greedyIds.length, temperature: 0, topP: 1, seed: 0, timeBudgetMs: 60_000, ...over,
});

describe('engine on the fixture model', () => {
  let model: Model;
  let tokenizer: TextTokenizer;
  let engine: InProcessEngine;

  before(async () => {
    const dir = await openModelDir(fixtureModelDir);
    model = await Model.load(dir, 1);
    tokenizer = await TextTokenizer.load(dir.file('tokenizer.json'));
    engine = await loadInProcessEngine({ modelDir: fixtureModelDir });
  });
  after(async () => {
    await model.dispose();
    await engine.dispose();
  });

  it('tokenizes like the Python reference encoder', () => {
    assert.deepEqual(tokenizer.encode(ref.promptText), ref.promptIds);
    assert.equal(tokenizer.decode(ref.promptIds), ref.promptText);
  });

  it(`matches the NumPy reference logits within ${TOLERANCE} at prefill and at each decode step`, async () => {
    const kv = model.newCache();
    let logits = await model.forward(ref.promptIds, kv);
    assert.ok(maxAbsDiff(logits, ref.prefillLastLogits) < TOLERANCE, `prefill max |Δ| ${maxAbsDiff(logits, ref.prefillLastLogits)}`);
    let checked = 0;
    for (const { position, inputId, nextId, logits: expected } of ref.decode.steps) {
      assert.equal(kv.length, position);
      logits = await model.forward([inputId], kv);
      if (expected) {
        assert.ok(maxAbsDiff(logits, expected) < TOLERANCE, `position ${position}: max |Δ| ${maxAbsDiff(logits, expected)}`);
        checked++;
      }
      assert.equal(argmax(logits), nextId, `position ${position}`);
    }
    assert.ok(checked >= 3);
  });

  it('prefill of all tokens at once equals token-by-token decoding (KV cache)', async () => {
    const ids = ref.promptIds.slice(0, 12);
    const whole = await model.forward(ids, model.newCache());
    const kv = model.newCache();
    let last: Float32Array = new Float32Array();
    for (const id of ids) last = await model.forward([id], kv);
    assert.ok(maxAbsDiff(whole, last) < TOLERANCE);
  });

  it('pins the greedy token ids of a plain prompt and of a FIM prompt', async () => {
    const plain = await engine.generate({ ...greedy(), prompt: { kind: 'text', text: ref.promptText }, maxNewTokens: ref.greedyIds.length });
    assert.deepEqual(plain.tokenIds, ref.greedyIds);
    assert.equal(plain.promptTokens, ref.promptIds.length);
    const fim = await engine.generate(greedy());
    assert.equal(fim.promptTokens, ref.fim.promptIds.length);
    assert.deepEqual(fim.tokenIds, ref.fim.greedyIds);
  });

  it('samples reproducibly for a seed, and differently for another seed', async () => {
    const sample = (seed: number) => engine.generate(greedy({ temperature: 1, topP: 0.95, seed, maxNewTokens: 24 }));
    const [a, b, c] = [await sample(7), await sample(7), await sample(8)];
    assert.deepEqual(a.tokenIds, b.tokenIds);
    assert.notDeepEqual(a.tokenIds, c.tokenIds);
  });

  it('streams exactly the returned text, in order', async () => {
    let streamed = '';
    const r = await engine.generate(greedy(), { onText: (d) => { streamed += d; } });
    assert.ok(r.text.length > 0);
    assert.equal(streamed, r.text);
    assert.ok(r.ttfsMs <= r.totalMs);
  });

  it('stops at max tokens, at a stop string, and at the time budget', async () => {
    const three = await engine.generate(greedy({ maxNewTokens: 3 }));
    assert.equal(three.generatedTokens, 3);
    assert.equal(three.stopReason, 'max-tokens');

    const full = await engine.generate(greedy({ maxNewTokens: 16 }));
    const stop = full.text.slice(4, 6);
    const cut = await engine.generate(greedy({ maxNewTokens: 16, stopStrings: [stop] }));
    assert.equal(cut.stopReason, 'stop-string');
    assert.equal(cut.text, full.text.slice(0, full.text.indexOf(stop)));

    const rushed = await engine.generate(greedy({ maxNewTokens: 16, timeBudgetMs: 0 }));
    assert.equal(rushed.stopReason, 'time-budget');
    assert.equal(rushed.generatedTokens, 1);
  });

  it('stops at a stop token and does not return it', async () => {
    // The fixture's head never picks a special token, so a token it does pick serves as the stop.
    const stop = ref.greedyIds[5];
    const r = await generateTokens(
      { model, tokenizer, promptIds: ref.promptIds, stopIds: new Set([stop]), contextTokens: 2048 },
      { ...greedy(), prompt: { kind: 'text', text: '' }, maxNewTokens: ref.greedyIds.length },
    );
    assert.equal(r.stopReason, 'stop-token');
    assert.deepEqual(r.tokenIds, ref.greedyIds.slice(0, ref.greedyIds.indexOf(stop)));
  });

  it('rejects with an AbortError when aborted before or during a generation', async () => {
    await assert.rejects(engine.generate(greedy(), { signal: AbortSignal.abort() }), { name: 'AbortError' });
    const controller = new AbortController();
    let tokens = 0;
    const run = engine.generate(greedy({ maxNewTokens: 200 }), {
      signal: controller.signal,
      onText: () => { if (++tokens === 2) controller.abort(); },
    });
    await assert.rejects(run, { name: 'AbortError' });
    assert.ok(tokens <= 3, `decoding went on for ${tokens} pieces after the abort`);
  });

  it('keeps a long prompt inside the context window', async () => {
    const prefix = 'let x = 1;\n'.repeat(2000);
    const r = await engine.generate(greedy({ prompt: { kind: 'fim', prefix, suffix: 'end\n'.repeat(500) }, maxNewTokens: 4 }));
    assert.ok(r.promptTokens <= engine.info.contextTokens - 4, `${r.promptTokens} prompt tokens`);
  });

  it('never runs two generations at once', async () => {
    const runs = Array.from({ length: 5 }, () => engine.generate(greedy({ maxNewTokens: 2 })));
    await Promise.all(runs);
    assert.equal(engine.peakRunning, 1);
  });
});
