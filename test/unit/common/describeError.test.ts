import assert from 'node:assert/strict';
import { describeError } from '../../../src/common/describeError';
import { ModelFileCorruptError } from '../../../src/engine';

describe('describeError', () => {
  it('names a named error', () => {
    assert.equal(describeError(new ModelFileCorruptError('ffn.bin', 'sha256 mismatch')),
      'ModelFileCorruptError: ffn.bin is corrupt (sha256 mismatch) — reinstall Flashcode or re-export the model.');
  });
  it('gives a plain error its message only', () => assert.equal(describeError(new Error('boom')), 'boom'));
  it('reads a message off a cloned error object', () => assert.equal(describeError({ message: 'from the worker' }), 'from the worker'));
  it('stringifies anything else', () => assert.equal(describeError(42), '42'));
});
