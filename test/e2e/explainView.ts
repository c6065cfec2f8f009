// Reading the Explain view (a webview: an iframe inside an iframe) and other waits the task cases share.

import fs from 'node:fs';
import path from 'node:path';
import type { Frame } from 'playwright-core';
import { sleep, type RunDir, type VscodeSession } from './harness';

export interface ViewState {
  title: string;
  status: string;
  error: string;
  answer: string;
  footer: string;
  notices: string;
  running: string;
}

export const READ_VIEW = `(() => {
  const t = (id) => (document.getElementById(id)?.textContent ?? '').trim();
  return { title: t('title'), status: t('status'), error: t('error'), answer: t('answer'), footer: t('footer'),
    notices: t('notices'), running: document.body.dataset.running ?? '' };
})()`;

/** The Explain view's inner frame (webviews nest an iframe in an iframe). */
export async function explainFrame(s: VscodeSession, timeoutMs: number): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (let first = true; first || Date.now() < deadline; first = false) {
    for (const frame of s.page.frames()) {
      if (await frame.evaluate('!!document.getElementById("answer") && !!document.getElementById("footer")').catch(() => false)) return frame;
    }
    await sleep(200);
  }
  throw new Error(`no Explain view within ${timeoutMs} ms`);
}

/** What the view shows now, if it is open. */
export async function currentView(s: VscodeSession): Promise<ViewState | undefined> {
  const frame = await explainFrame(s, 0).catch(() => undefined);
  return frame && await frame.evaluate(READ_VIEW).catch(() => undefined) as ViewState | undefined;
}

/** Waits until the view shows a finished run other than `previous`; returns what it shows. */
/** Runs Explain on what the editor has selected and waits for the view's new, finished answer. */
export async function runExplain(s: VscodeSession): Promise<ViewState> {
  const previous = await currentView(s);
  await s.runCommand('Flashcode: Explain');
  return waitForNewAnswer(s, previous);
}

export async function waitForNewAnswer(s: VscodeSession, previous: ViewState | undefined): Promise<ViewState> {
  return waitForView(s, (v) => (v.footer !== '' || v.error !== '') && (v.footer !== previous?.footer || v.error !== previous?.error));
}

/** Waits until the view has finished a run that `done` accepts; returns what it shows. */
export async function waitForView(s: VscodeSession, done: (v: ViewState) => boolean, timeoutMs = 90_000): Promise<ViewState> {
  const deadline = Date.now() + timeoutMs;
  let last: ViewState | undefined;
  while (Date.now() < deadline) {
    const frame = await explainFrame(s, deadline - Date.now());
    last = await frame.evaluate(READ_VIEW).catch(() => undefined) as ViewState | undefined;
    if (last && last.running === 'false' && done(last)) return last;
    await sleep(200);
  }
  throw new Error(`the Explain view did not finish as expected within ${timeoutMs} ms; it shows ${JSON.stringify(last)}`);
}

/** The Flashcode output channel's log file (LogOutputChannel writes one under the logs folder). */
export function flashcodeLog(run: RunDir): string {
  const logsDir = path.join(run.userDataDir, 'logs');
  const files = (fs.readdirSync(logsDir, { recursive: true }) as string[]).filter((f) => /Flashcode\.log$/.test(f));
  return files.map((f) => fs.readFileSync(path.join(logsDir, f), 'utf8')).join('\n');
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(200);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}
