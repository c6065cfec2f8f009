// Switching models in place (what Choose Model does through flashcode.engine.modelPath): the engine
// host loads another model directory while completions run. No crash, the request in flight on the
// old model ends (answer or AbortError), the next one runs on the new model. Real worker threads.
import { fakeVscode } from '../helpers/fakeVscode';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { CompletionRequest } from '../../src/completion/types';
import { EngineHost } from '../../src/host/engineHost';
import type { OutputLog } from '../../src/host/output';
import { distDir, fixtureModelDir, repoRoot, requireBuiltWorker } from '../helpers/fixture';

const V2_MODEL = path.join(repoRoot, 'test/fixtures/tiny-llama-v2');

const at = (text: string): CompletionRequest => ({ document: { length: text.length, slice: (a, b) => text.slice(a, b) }, offset: text.length, languageId: 'typescript', fileName: 'a.ts' });
const settings = { maxNewTokens: 8, timeBudgetMs: 20_000 };

describe('switching models while completing (engine host, worker threads)', () => {
  const errors: string[] = [];
  const log = { info: () => undefined, warn: () => undefined, error: (e: unknown, doing: string) => errors.push(`${doing}: ${String(e)}`) } as unknown as OutputLog;
  let host: EngineHost;
  const options = (modelDir: string) => ({ modelDir, threads: 1, workerScript: requireBuiltWorker(), ortWasmDir: path.join(distDir, 'ort'), flash: { mode: 'dense' as const, memoryBudgetMB: 0, windowTokens: 5 } });

  beforeEach(() => { host = new EngineHost(log); errors.length = 0; });
  afterEach(() => host.dispose());

  it('a request in flight ends cleanly and the next one runs on the new model; and back again', async () => {
    void fakeVscode;
    await host.load(options(fixtureModelDir));
    assert.equal(host.state.kind, 'ready');
    const firstId = host.readyEngine!.info.id;
    for (const [from, to] of [[fixtureModelDir, V2_MODEL], [V2_MODEL, fixtureModelDir]]) {
      assert.equal(host.state.modelDir, from);
      const old = host.pipeline!;
      const inFlight = old.complete(at('function add(a: number, b: number) {\n  return '), settings).then((r) => r?.text ?? '', (e: Error) => e.name);
      const t = performance.now();
      await host.load(options(to));
      const switchMs = performance.now() - t;
      const outcome = await inFlight;
      assert.ok(typeof outcome === 'string' && (outcome === 'AbortError' || !/Error/.test(outcome)), `the old request ended with ${outcome}`);
      assert.equal(host.state.kind, 'ready', JSON.stringify(host.state));
      assert.equal(host.state.modelDir, to);
      assert.notEqual(host.pipeline, old);
      const next = await host.pipeline!.complete(at('const x = '), settings);
      assert.equal(typeof next?.text, 'string');
      console.log(`      switch ${path.basename(from)} → ${path.basename(to)}: loaded in ${Math.round(switchMs)} ms, next completion ${Math.round(next!.latencyMs)} ms`);
    }
    assert.equal(host.readyEngine!.info.id, firstId);
    assert.deepEqual(errors, []);
  });
});
