import assert from 'node:assert/strict';
import { answerLocally } from '../../../src/commands/answerLocally';
import type { TaskInput } from '../../../src/commands/types';
import type { Engine, GenerateRequest } from '../../../src/engine';

describe('answerLocally', () => {
  const input: TaskInput = { kind: 'refactor', target: { code: 'x = 1\n', languageId: 'python', fileName: 'a.py', start: 0, end: 6 }, context: [] };

  async function requestFor(attempt: number | undefined): Promise<GenerateRequest> {
    let seen: GenerateRequest | undefined;
    const engine = {
      info: { chat: undefined },
      generate: async (request: GenerateRequest) => { seen = request; return { text: 'x = 2\n' }; },
    } as unknown as Engine;
    await answerLocally({ ...input, attempt }, { target: 'local' }, engine, {});
    return seen!;
  }

  it('the first try takes the likeliest answer', async () => {
    const r = await requestFor(undefined);
    assert.deepEqual([r.temperature, r.seed], [0, 0]);
  });

  it('a retry samples, with a seed of its own: greedy decoding would only answer the same again', async () => {
    const [first, second] = [await requestFor(1), await requestFor(2)];
    assert.ok(first.temperature > 0);
    assert.notEqual(first.seed, second.seed);
  });
});
