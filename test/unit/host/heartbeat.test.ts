// The typing heartbeat: edits in the active editor open a window, a pause closes it, and a window in
// which completions were requested is logged as one line that parseHeartbeatLine reads back.
import { fakeVscode } from '../../helpers/fakeVscode';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseHeartbeatLine } from '../../../src/common/heartbeat';
import { TypingHeartbeat } from '../../../src/host/heartbeat';

const QUIET_MS = 60;

describe('TypingHeartbeat', () => {
  const document = { uri: 'file:///typing.py' };
  const edit = (doc: unknown = document) => fakeVscode.documentChanges.fire({ document: doc, contentChanges: [{ text: 'x' }] });
  let lines: string[];
  let stats: { requests: number } | undefined;
  let heartbeat: TypingHeartbeat;
  beforeEach(() => {
    lines = [];
    stats = { requests: 0 };
    fakeVscode.window.activeTextEditor = { document };
    heartbeat = new TypingHeartbeat({ info: (line) => lines.push(line) }, () => stats && { requests: stats.requests, cacheHits: 0, inflightJoins: 0, prefetches: 0, prefetchHits: 0 }, QUIET_MS);
  });
  afterEach(() => {
    heartbeat.dispose();
    fakeVscode.window.activeTextEditor = undefined;
  });

  it('logs one line per typing window with completion requests, which parses back', async () => {
    edit();
    stats!.requests += 3;
    await sleep(30);
    edit();
    stats!.requests += 2;
    await sleep(QUIET_MS + 50);
    assert.equal(lines.length, 1);
    const window = parseHeartbeatLine(`2026-11-22 16:00:00.000 [info] ${lines[0]}`);
    assert.ok(window);
    assert.equal(window.requests, 5);
    assert.ok(window.beats >= 1, `${window.beats} beats`);
    // Node's timers run on the event loop's millisecond clock and may fire up to 1 ms early against
    // performance.now(): two of them (the sleep and the quiet timer) lie between the window's ends.
    assert.ok(window.windowMs >= 30 + QUIET_MS - 2, `${window.windowMs} ms`);
    assert.equal(parseHeartbeatLine('2026-11-22 16:00:00.000 [info] loaded the model'), undefined);
  });

  it('logs nothing for a window without completion requests, edits elsewhere, or no model', async () => {
    edit();
    await sleep(QUIET_MS + 30);
    edit({ uri: 'output:Flashcode' });
    stats!.requests++;
    await sleep(QUIET_MS + 30);
    stats = undefined;
    edit();
    await sleep(QUIET_MS + 30);
    assert.deepEqual(lines, []);
  });
});
