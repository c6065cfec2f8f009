// The neuron cache's bookkeeping: swap-delete keeps slots 0…count-1 occupied and rows with their ids,
// the window evicts what was not used in the last k steps, and makeRoom never evicts a neuron in use.
import assert from 'node:assert/strict';
import { NeuronCache } from '../../../src/engine/ffn/neuronCache';

const D = 2;
/** Appends neuron ids with rows [id, id] (gate), [10·id, …] (up), [100·id, …] (down). */
function fill(cache: NeuronCache, ids: number[], step: number): void {
  for (const id of ids) {
    const s = cache.append(id, step);
    cache.gate?.fill(id, s * D, (s + 1) * D);
    cache.up.fill(10 * id, s * D, (s + 1) * D);
    cache.down.fill(100 * id, s * D, (s + 1) * D);
  }
}
function checkConsistent(cache: NeuronCache): void {
  for (let s = 0; s < cache.count; s++) {
    const id = cache.idOf[s];
    assert.equal(cache.slotOf[id], s);
    assert.deepEqual([...cache.gate!.subarray(s * D, (s + 1) * D)], [id, id]);
    assert.deepEqual([...cache.down.subarray(s * D, (s + 1) * D)], [100 * id, 100 * id]);
  }
  const resident = [...cache.slotOf].filter((s) => s >= 0).length;
  assert.equal(resident, cache.count);
}

describe('neuron cache', () => {
  it('evicts neurons outside the window by swap-delete and keeps rows with their ids', () => {
    const cache = new NeuronCache(6, 10, D, true);
    fill(cache, [1, 2, 3], 1);
    fill(cache, [4, 5], 2);
    assert.equal(cache.touch(Int32Array.from([2, 9]), 2, 3), 1);
    // Window of 2 at step 3: used at 2 or 3 stays (2, 4, 5); 1 and 3 (step 1) go.
    assert.equal(cache.evictOutsideWindow(3, 2), 2);
    assert.equal(cache.count, 3);
    assert.deepEqual([...cache.idOf.subarray(0, 3)].sort(), [2, 4, 5]);
    assert.equal(cache.slotOf[1], -1);
    assert.equal(cache.slotOf[3], -1);
    checkConsistent(cache);
  });

  it('makes room oldest first and never evicts a neuron used at this step', () => {
    const cache = new NeuronCache(3, 10, D, true);
    fill(cache, [7], 1);
    fill(cache, [8], 2);
    fill(cache, [9], 3);
    assert.equal(cache.makeRoom(1, 3), 1);
    assert.equal(cache.slotOf[7], -1, 'the oldest went first');
    cache.touch(Int32Array.from([8]), 1, 3);
    assert.equal(cache.makeRoom(3, 3), 0, 'both remaining are in use at step 3');
    assert.equal(cache.count, 2);
    checkConsistent(cache);
  });

  it('is full only when every neuron is resident', () => {
    const cache = new NeuronCache(3, 3, D, false);
    fill(cache, [0, 1], 0);
    assert.equal(cache.full, false);
    const s = cache.append(2, 0);
    assert.equal(s, 2);
    assert.equal(cache.full, true);
  });
});
