// A decoded token's turns through a neuron cache smaller than what it keeps end where a group of 32
// neurons does, so that sparseDownQ8 quantizes each group whole, as downQ8 does.
import assert from 'node:assert/strict';
import { turnLength } from '../../../src/engine/v2/ffnStore';

/** The turns' lengths over kept neurons `ids` through a cache of `capacity`. */
function turns(ids: number[], capacity: number): number[] {
  const v = Int32Array.from(ids), out: number[] = [];
  for (let at = 0, n = 0; at < ids.length; at += n) out.push(n = turnLength(v, at, ids.length, capacity));
  return out;
}

describe('turnLength', () => {
  it('takes everything left when it fits, and otherwise ends at the last group boundary within the capacity', () => {
    const ids = [...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => 40 + i), 70, 71, 100];
    assert.deepEqual(turns(ids, 64), [33]);
    assert.deepEqual(turns(ids, 24), [20, 13]); // 24 would cut group 1 (40…49) after 4 of its 10
    assert.deepEqual(turns(ids, 31), [30, 3]);
    assert.deepEqual(turns(ids, 30), [30, 3]); // a turn that ends exactly at a group's end
  });

  it('splits a group only when the capacity is below what the group keeps', () => {
    const ids = Array.from({ length: 32 }, (_, i) => 32 + i);
    assert.deepEqual(turns(ids, 24), [24, 8]);
    assert.deepEqual(turns([0, 1, ...ids], 24), [2, 24, 8]);
  });
});
