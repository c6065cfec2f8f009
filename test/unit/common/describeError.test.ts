import assert from 'node:assert/strict';
import { describeError } from '../../../src/common/describeError';
import { FlashBudgetTooSmallError, ModelFileCorruptError } from '../../../src/engine';
import { fromWire, toWire } from '../../../src/engine/worker/wireError';

describe('describeError', () => {
  it('names a named error', () => {
    assert.equal(describeError(new ModelFileCorruptError('ffn.bin', 'sha256 mismatch')),
      'ModelFileCorruptError: ffn.bin is corrupt (sha256 mismatch) — reinstall Flashcode or re-export the model.');
  });
  it('names a too-small memory budget and the minimum, also after the worker boundary', () => {
    const expected = /^FlashBudgetTooSmallError: flashcode\.engine\.memoryBudgetMB is 16 MB, .*at least 40 MB/;
    assert.match(describeError(new FlashBudgetTooSmallError(16, 40)), expected);
    assert.match(describeError(fromWire(toWire(new FlashBudgetTooSmallError(16, 40)))), expected);
  });
  it('gives a plain error its message only', () => assert.equal(describeError(new Error('boom')), 'boom'));
  it('reads a message off a cloned error object', () => assert.equal(describeError({ message: 'from the worker' }), 'from the worker'));
  it('stringifies anything else', () => assert.equal(describeError(42), '42'));
});
