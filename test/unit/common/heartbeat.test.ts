// The heartbeat sees a thread held by synchronous work: as a late beat, and as CPU spent between two
// beats where Node has a per-thread CPU clock.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Heartbeat, threadCpuMs } from '../../../src/common/heartbeat';

/** Holds the thread for `ms` of its own CPU time where Node can tell (on a busy machine a wall-clock
 *  spin gets less), else of wall time. */
function spin(ms: number): void {
  const clock = threadCpuMs() === undefined ? () => performance.now() : () => threadCpuMs()!;
  const end = clock() + ms;
  while (clock() < end) { /* hold the thread */ }
}

describe('Heartbeat', () => {
  it('reports a 60 ms block as a beat at least 50 ms late', async () => {
    const heartbeat = new Heartbeat();
    heartbeat.start();
    await sleep(50);
    spin(60);
    await sleep(50);
    const summary = heartbeat.stop();
    assert.ok(summary);
    assert.ok(summary.beats >= 3, `${summary.beats} beats`);
    assert.ok(summary.maxLateMs >= 50, `latest beat ${summary.maxLateMs} ms late`);
    assert.ok(summary.lateBeats >= 1);
    assert.ok(summary.p99LateMs <= summary.maxLateMs);
    if (threadCpuMs() === undefined) assert.equal(summary.maxBusyMs, undefined);
    else assert.ok(summary.maxBusyMs! >= 50, `busiest interval ${summary.maxBusyMs} ms of CPU`);
  });

  it('has nothing to report unless started, and starts each window afresh', async () => {
    const heartbeat = new Heartbeat();
    assert.equal(heartbeat.stop(), undefined);
    heartbeat.start();
    spin(40);
    await sleep(20);
    assert.ok(heartbeat.stop()!.maxLateMs >= 30);
    heartbeat.start();
    assert.equal(heartbeat.running, true);
    const fresh = heartbeat.stop()!;
    assert.equal(fresh.beats, 0);
    assert.equal(fresh.maxLateMs, 0);
    assert.equal(heartbeat.running, false);
  });
});
