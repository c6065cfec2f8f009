// The extension host is never held more than 20 ms by Flashcode: type Python at a person's pace while
// completions run, then read the line the extension logs once typing stops (src/host/heartbeat.ts)
// and check its longest block: the most CPU the host thread spent between two 10 ms heartbeats
// (where its Node has a per-thread CPU clock; else how late the latest beat came, which also counts
// time the thread waited for a core). Python, because VS Code ships no Python language server: no
// other extension works on the host thread while we type (TypeScript would wake its client).

import fs from 'node:fs';
import path from 'node:path';
import { parseHeartbeatLine, TYPING_QUIET_MS, type TypingWindow } from '../../src/common/heartbeat';
import { flashcodeLog, waitFor } from './explainView';
import { sleep, type RunDir, type VscodeSession } from './harness';

export const HOST_BLOCK_FILE = 'typing.py';
/** Fails above this (ms); E2E_MAX_BLOCK_MS overrides it. */
export const MAX_BLOCK_MS = Number(process.env.E2E_MAX_BLOCK_MS ?? 20);

const START_TEXT = 'import csv\n\n\ndef read_rows(path):\n    with open(path) as f:\n        return list(csv.reader(f))\n\n\n';
/** Typed key by key ("\n" is Enter: the editor indents the next line itself). */
const TYPED_LINES = ['def total_price(rows):\n', 'total = 0\n', 'for row in rows:\n', 'total += float(row[2])\n'];
/** Between keystrokes: a person's pace (ms). */
const KEY_DELAY_MS = 90;

export function prepareHostBlockFiles(workspace: string): void {
  fs.writeFileSync(path.join(workspace, HOST_BLOCK_FILE), START_TEXT);
}

/** The heartbeat windows logged so far, oldest first. */
function heartbeatWindows(run: RunDir): TypingWindow[] {
  return flashcodeLog(run).split('\n').flatMap((line) => parseHeartbeatLine(line) ?? []);
}

export async function hostBlockCase(s: VscodeSession, run: RunDir, details: Record<string, unknown>): Promise<void> {
  await s.page.keyboard.press('Escape');
  await sleep(TYPING_QUIET_MS + 500); // typing in an earlier case must not run into this window
  const before = heartbeatWindows(run).length;
  await s.openFile(HOST_BLOCK_FILE);
  const t = Date.now();
  let ghostSeen = 0;
  for (const line of TYPED_LINES) {
    await s.type(line, KEY_DELAY_MS);
    if (await s.ghostVisible()) ghostSeen++;
  }
  details.typeMs = Date.now() - t;
  details.linesWithGhostText = `${ghostSeen} of ${TYPED_LINES.length}`;

  const windows = await waitFor('the heartbeat line after typing', () => {
    const logged = heartbeatWindows(run).slice(before);
    return logged.length > 0 ? logged : undefined;
  }, TYPING_QUIET_MS + 30_000);
  const requests = windows.reduce((n, w) => n + w.requests, 0);
  const busy = windows.map((w) => w.maxBusyMs).filter((ms): ms is number => ms !== undefined);
  const maxBlockMs = busy.length === windows.length ? Math.max(...busy) : Math.max(...windows.map((w) => w.maxLateMs));
  Object.assign(details, {
    maxBlockMs,
    measuredBy: busy.length === windows.length ? 'host-thread CPU between beats' : 'beat lateness (no per-thread CPU clock)',
    thresholdMs: MAX_BLOCK_MS,
    maxLateMs: Math.max(...windows.map((w) => w.maxLateMs)),
    p99LateMs: Math.max(...windows.map((w) => w.p99LateMs)),
    lateBeats: windows.reduce((n, w) => n + w.lateBeats, 0),
    beats: windows.reduce((n, w) => n + w.beats, 0),
    completionRequests: requests,
    windows: windows.length,
  });
  if (requests === 0) throw new Error('no completion request ran while typing');
  if (maxBlockMs > MAX_BLOCK_MS) throw new Error(`the extension host was held ${maxBlockMs} ms while completions ran (at most ${MAX_BLOCK_MS} ms)`);
}
