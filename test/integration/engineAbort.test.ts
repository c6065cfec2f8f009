// An abort stops decoding within one token, in process and behind the worker protocol, measured on
// the fixture model with room for far more tokens (each of its tokens streams one text delta).
import assert from 'node:assert/strict';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { isAbort, startWorkerEngine, type Engine, type GenerateRequest } from '../../src/engine';
import { loadInProcessEngine } from '../../src/engine/local';
import { fixtureModelDir, requireBuiltWorker } from '../helpers/fixture';

const MAX_NEW_TOKENS = 256;
const request: GenerateRequest = {
  prompt: { kind: 'fim', prefix: 'export function add(a: number, b: number): number {\n  return ', suffix: '\n}\n' },
  maxNewTokens: MAX_NEW_TOKENS, temperature: 0, topP: 1, seed: 0, timeBudgetMs: 60_000,
};

/** Aborts a generation once `abortAfter` text deltas have streamed — inside that delta's callback,
 *  or `timerMs` later — and counts the deltas that still arrive: `queued` ones, delivered before
 *  this thread's event loop turned once more (the worker posted them before the abort reached
 *  it: the host was behind on its messages), and `decoded` ones, delivered after (decoded after the
 *  abort was sent). */
async function deltasAfterAbort(engine: Engine, abortAfter: number, timerMs?: number) {
  const controller = new AbortController();
  let streamed = 0;
  let loopTurned = false;
  const counts = { streamed: 0, queued: 0, decoded: 0 };
  const abort = () => {
    controller.abort();
    setImmediate(() => { loopTurned = true; });
  };
  const run = engine.generate(request, {
    signal: controller.signal,
    onText: () => {
      if (controller.signal.aborted) counts[loopTurned ? 'decoded' : 'queued']++;
      else if (++streamed === abortAfter && timerMs === undefined) abort();
    },
  });
  if (timerMs !== undefined) {
    while (streamed < abortAfter) await nextTurn();
    await sleep(timerMs);
    abort();
  }
  await assert.rejects(run, (e) => isAbort(e), 'the generation rejects with an AbortError');
  counts.streamed = streamed;
  return counts;
}

describe('abort stops decoding within one token', () => {
  describe('in process', () => {
    let engine: Engine;
    before(async () => {
      engine = await loadInProcessEngine({ modelDir: fixtureModelDir });
      assert.equal((await engine.generate(request)).generatedTokens, MAX_NEW_TOKENS, 'left alone, it decodes to the limit');
    });
    after(() => engine.dispose());

    for (const [when, timerMs] of [['as a token streams', undefined], ['between tokens', 2]] as const) {
      it(`aborted ${when}: at most one more token`, async () => {
        const { streamed, queued, decoded } = await deltasAfterAbort(engine, 5, timerMs);
        assert.ok(streamed < MAX_NEW_TOKENS);
        assert.ok(queued + decoded <= 1, `${queued + decoded} tokens after the abort`);
      });
    }
  });

  describe('in the worker', () => {
    let engine: Engine;
    before(async () => {
      engine = await startWorkerEngine({ modelDir: fixtureModelDir, workerScript: requireBuiltWorker() });
      assert.equal((await engine.generate(request)).generatedTokens, MAX_NEW_TOKENS, 'left alone, it decodes to the limit');
    });
    after(() => engine.dispose());

    for (const [when, timerMs] of [['as a token streams', undefined], ['between tokens', 2]] as const) {
      it(`aborted ${when}: at most one more token decoded once the abort is sent`, async () => {
        for (let run = 0; run < 10; run++) {
          const { streamed, queued, decoded } = await deltasAfterAbort(engine, 5, timerMs);
          assert.ok(streamed + queued < MAX_NEW_TOKENS);
          assert.ok(decoded <= 1, `run ${run}: ${decoded} tokens decoded after the abort was sent (${queued} more were already on their way)`);
        }
      });
    }

    it('is free for the next generation right after', async () => {
      await deltasAfterAbort(engine, 3);
      assert.equal((await engine.generate({ ...request, maxNewTokens: 4 })).generatedTokens, 4);
    });
  });
});
