// SplitChoice: which way a piece of work goes (split across the threads or all on the calling
// thread), by the recent mean time of each way; trials first, then probes of the slower way.
import assert from 'node:assert/strict';
import { SplitChoice } from '../../../src/engine/v2/threadPool';

/** The choices of `count` pieces, each timed by `ms(split)`. */
function run(choice: SplitChoice, count: number, ms: (split: boolean) => number): boolean[] {
  return Array.from({ length: count }, () => {
    const split = choice.next();
    choice.record(split, ms(split));
    return split;
  });
}

describe('SplitChoice', () => {
  it('alternates through the trials, split first, then keeps to the faster way; probes the other at piece probeEvery, then twice as far apart while probes lose, up to 4 × probeEvery', () => {
    const choice = new SplitChoice(4, 8);
    const ways = run(choice, 100, (split) => (split ? 5 : 9));
    assert.deepEqual(ways.slice(0, 4), [true, false, true, false]);
    const probes = ways.flatMap((split, i) => (i >= 4 && !split ? [i + 1] : []));
    assert.deepEqual(probes, [8, 24, 56, 88]);
  });

  it('with its trials ended (another choice settled on splitting), splits at once and times the calling thread\'s way at the first probe', () => {
    const layers = new SplitChoice(4, 8);
    assert.equal(layers.splitSettled, false, 'not before its trials');
    run(layers, 4, (split) => (split ? 5 : 9));
    assert.equal(layers.splitSettled, true);
    const tokens = new SplitChoice(8, 16);
    run(tokens, 3, (split) => (split ? 5 : 9)); // three of its trials, then the prompt's layers settle
    tokens.endTrials();
    const fast = run(tokens, 13, (split) => (split ? 5 : 9)); // pieces 9…21: the probe at 16
    assert.equal(fast.map(Number).join(''), '1111111011111');
    const busy = new SplitChoice(8, 16);
    busy.endTrials();
    const ways = run(busy, 24, (split) => (split ? 20 : 9)); // the threads wait for a core
    // pieces 9…32: the probe at 16 finds the calling thread faster, which it keeps, probing split at 32
    assert.equal(ways.map(Number).join(''), '1111111' + '0'.repeat(16) + '1');
    const slow = new SplitChoice(4, 8);
    run(slow, 4, (split) => (split ? 20 : 9));
    assert.equal(slow.splitSettled, false, 'a choice that settled on the calling thread');
  });

  it('goes to the calling thread while the split way measures slower (a busy core), and back when that passes', () => {
    const choice = new SplitChoice(4, 8);
    const busy = run(choice, 32, (split) => (split ? 20 : 9)); // the threads wait for a core
    assert.deepEqual(busy.flatMap((split, i) => (i >= 4 && split ? [i + 1] : [])), [8, 24], 'only the probes split, the second 16 pieces later');
    const idle = run(choice, 48, (split) => (split ? 5 : 9)); // the core is free again: pieces 33…80
    // the probe at 56 (24 + 32) beats the calling thread's time, so the next comes 8 later; after
    // that second fast split time of its last five, split is the faster way (65 on), and the probe
    // of the calling thread at 72 loses
    assert.equal(idle.map(Number).join(''), '0'.repeat(23) + '1' + '0'.repeat(7) + '1'.repeat(8) + '0' + '1'.repeat(8));
  });

  it('a slow piece (a pause) does not turn the choice, four of the last five do: a way takes the second fastest of its last 5 pieces', () => {
    const choice = new SplitChoice(4, 64);
    let n = 0;
    const ways = run(choice, 40, (split) => (++n % 4 === 2 && split ? 100 : split ? 5 : 9)); // every fourth split piece pauses
    assert.ok(ways.slice(4).every((split) => split), `${ways.map(Number).join('')}`);
    const busy = run(choice, 12, (split) => (split ? 20 : 9));
    assert.deepEqual(busy.map(Number).join(''), '111100000000', 'four slow split pieces of the last five, then the calling thread');
  });

  it('splitting stays the choice unless one thread is more than 10 % faster (fresh threads warm up over their first pieces)', () => {
    assert.ok(run(new SplitChoice(4, 64), 20, (split) => (split ? 10.5 : 10)).slice(4).every((split) => split), 'one thread 5 % faster: split');
    assert.ok(run(new SplitChoice(4, 64), 20, (split) => (split ? 12 : 10)).slice(4).every((split) => !split), 'one thread 20 % faster: one thread');
  });
});
