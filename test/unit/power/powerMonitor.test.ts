import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { PowerMonitor } from '../../../src/power/powerMonitor';
import type { PowerSource } from '../../../src/power/powerState';

/** A probe that answers with the scripted sources in turn (the last one from then on). */
function scripted(...sources: PowerSource[]) {
  let calls = 0;
  const probe = async () => sources[Math.min(calls++, sources.length - 1)]!;
  return { probe, calls: () => calls };
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(2);
  }
}

describe('PowerMonitor', () => {
  let monitor: PowerMonitor | undefined;
  afterEach(() => monitor?.stop());

  it('is unknown (not on battery) before the first probe answers', () => {
    monitor = new PowerMonitor(() => new Promise(() => {}), () => {});
    monitor.start();
    assert.equal(monitor.source, 'unknown');
    assert.equal(monitor.onBattery, false);
  });

  it('probes at once, then every interval, and reports changes only', async () => {
    const { probe, calls } = scripted('mains', 'mains', 'battery', 'battery', 'mains');
    const seen: PowerSource[] = [];
    monitor = new PowerMonitor(probe, (s) => seen.push(s), 5);
    monitor.start();
    await until(() => calls() >= 6);
    assert.deepEqual(seen, ['mains', 'battery', 'mains']);
    assert.equal(monitor.source, 'mains');
  });

  it('a failing probe counts as unknown', async () => {
    const seen: PowerSource[] = [];
    monitor = new PowerMonitor(() => Promise.reject(new Error('no pmset')), (s) => seen.push(s), 5);
    monitor.start();
    await sleep(30);
    assert.equal(monitor.source, 'unknown');
    assert.deepEqual(seen, []);
  });

  it('stop ends polling, forgets the source and ignores a probe still running', async () => {
    let answer: ((s: PowerSource) => void) | undefined;
    let calls = 0;
    const seen: PowerSource[] = [];
    monitor = new PowerMonitor(() => {
      calls++;
      return calls === 1 ? Promise.resolve('battery') : new Promise((resolve) => { answer = resolve; });
    }, (s) => seen.push(s), 5);
    monitor.start();
    await until(() => answer !== undefined);
    assert.equal(monitor.onBattery, true);
    monitor.stop();
    assert.equal(monitor.source, 'unknown');
    answer!('battery');
    await sleep(30);
    assert.equal(calls, 2);
    assert.equal(monitor.source, 'unknown');
    assert.deepEqual(seen, ['battery', 'unknown']);
  });

  it('start while running does not start a second loop', async () => {
    const { probe, calls } = scripted('mains');
    monitor = new PowerMonitor(probe, () => {}, 1000);
    monitor.start();
    monitor.start();
    await sleep(20);
    assert.equal(calls(), 1);
  });
});
