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
  it('alternates through the trials, split first, then keeps to the faster way and probes the other every probeEvery-th piece', () => {
    const choice = new SplitChoice(4, 8);
    const ways = run(choice, 24, (split) => (split ? 5 : 9));
    assert.deepEqual(ways.slice(0, 4), [true, false, true, false]);
    ways.slice(4).forEach((split, i) => assert.equal(split, (i + 5) % 8 !== 0, `piece ${i + 5}`));
  });

  it('goes to the calling thread while the split way measures slower (a busy core), and back when that passes', () => {
    const choice = new SplitChoice(4, 8);
    const busy = run(choice, 32, (split) => (split ? 20 : 9)); // the threads wait for a core
    assert.equal(busy.slice(4).filter((s) => s).length, 4, 'only the probes (pieces 8, 16, 24, 32) split');
    const idle = run(choice, 32, (split) => (split ? 5 : 9)); // the core is free again
    // each probe of the split way (pieces 40, 48) replaces a slow time: with two of its last five
    // fast, the split way is the faster again
    assert.ok(idle.slice(0, 16).every((split, i) => split === ((i + 33) % 8 === 0)), `${idle.map(Number).join('')}`);
    assert.ok(idle.slice(16).every((split, i) => split === ((i + 49) % 8 !== 0)), `${idle.map(Number).join('')}`);
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
