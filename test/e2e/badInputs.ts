// Bad inputs in the real VS Code, and what the user sees for each: a long file matching
// flashcode.cloud.exclude, a selection over 1 MB, an endpoint that stalls, a malformed base URL, an
// endpoint that is down, and no API key. Every one ends in an answer or a message; none hangs.

import fs from 'node:fs';
import path from 'node:path';
import type { OpenAiTestServer } from '../helpers/openaiServer';
import { runExplain, type ViewState } from './explainView';
import type { VscodeSession } from './harness';

export const EXCLUDED_LONG_FILE = '.env.production';
export const HUGE_FILE = 'huge.ts';
const LONG_FILE = 'long.ts';
const GLOBALLY_OFF = /: off(?! for)/;

export function prepareBadInputFiles(workspace: string): void {
  const env = Array.from({ length: 800 }, (_, i) => `SERVICE_${i}_TOKEN=excluded-secret-${i}`).join('\n');
  fs.writeFileSync(path.join(workspace, EXCLUDED_LONG_FILE), `${env}\n`);
  const line = 'export const table = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];\n';
  fs.writeFileSync(path.join(workspace, HUGE_FILE), line.repeat(Math.ceil(1_200_000 / line.length)));
}

export interface BadInputContext {
  session: VscodeSession;
  server: OpenAiTestServer;
  /** Replaces the user settings: the run's cloud settings with these on top. */
  cloudSettings(overrides: Record<string, unknown>): Promise<void>;
}

async function explainAll(s: VscodeSession, file: string): Promise<ViewState> {
  await s.page.keyboard.press('Escape');
  await s.openFile(file);
  await s.page.keyboard.press('Control+a');
  return runExplain(s);
}

function expectLocal(view: ViewState, notice: RegExp): void {
  if (view.error) throw new Error(`the view shows an error: ${view.error}`);
  if (!view.footer.startsWith('Answered by the local model')) throw new Error(`footer: ${JSON.stringify(view.footer)}`);
  if (!notice.test(view.notices)) throw new Error(`notices: ${JSON.stringify(view.notices)}`);
}

export async function excludedFileCase({ session: s, server }: BadInputContext, details: Record<string, unknown>): Promise<void> {
  const before = server.requests.length;
  const view = await explainAll(s, EXCLUDED_LONG_FILE);
  details.userSaw = { footer: view.footer, notices: view.notices };
  expectLocal(view, /matches flashcode\.cloud\.exclude/);
  if (server.requests.length !== before) throw new Error('the excluded file was sent to the cloud');
}

export async function hugeSelectionCase({ session: s, server }: BadInputContext, details: Record<string, unknown>): Promise<void> {
  const before = server.requests.length;
  await s.page.keyboard.press('Escape');
  await s.openFile(HUGE_FILE);
  await s.page.keyboard.press('Control+a');
  await s.runCommand('Flashcode: Explain');
  const toast = s.page.locator('.notification-toast', { hasText: 'MB; select at most' }).first();
  await toast.waitFor({ timeout: 20_000 });
  details.userSaw = (await toast.locator('.notification-list-item-message').textContent())?.trim();
  if (server.requests.length !== before) throw new Error('the huge selection was sent to the cloud');
}

/** Each broken cloud setup, with the notice the local answer must carry. */
const BROKEN_CLOUDS: { name: string; settings: Record<string, unknown>; notice: RegExp; clearKey?: boolean; hang?: boolean }[] = [
  { name: 'stalled endpoint', settings: { 'flashcode.cloud.timeoutMs': 1000 }, hang: true, notice: /sent nothing for 1 s/ },
  { name: 'malformed base URL', settings: { 'flashcode.cloud.baseUrl': 'http//127.0.0.1/v1' }, notice: /not an http\(s\) URL/ },
  { name: 'endpoint down', settings: { 'flashcode.cloud.baseUrl': 'http://127.0.0.1:9/v1' }, notice: /could not reach 127\.0\.0\.1:9/ },
  { name: 'no API key', settings: { 'flashcode.cloud.baseUrl': 'https://api.example.invalid/v1' }, clearKey: true, notice: /Set Cloud API Key/ },
];

export async function brokenCloudCase(ctx: BadInputContext, details: Record<string, unknown>): Promise<void> {
  const { session: s, server } = ctx;
  const seen: Record<string, unknown> = {};
  details.userSaw = seen;
  try {
    for (const [i, c] of BROKEN_CLOUDS.entries()) {
      // Flipping completions in the same write shows (in the status bar) when VS Code has read it.
      const completions = i % 2 === 1;
      await ctx.cloudSettings({ ...c.settings, 'flashcode.completion.enabled': completions });
      // On, the item shows "ready" or the last latency ("Flashcode 42 ms · …"); "off for <language>"
      // is about the active editor, not this switch.
      await s.waitForStatusBar('Flashcode', (text) => GLOBALLY_OFF.test(text) !== completions, 20_000);
      if (c.clearKey) {
        await s.runCommand('Flashcode: Clear Cloud API Key');
        await s.page.locator('.notification-toast', { hasText: 'API key is removed' }).first().waitFor({ timeout: 10_000 });
      }
      if (c.hang) server.script({ kind: 'hang' });
      const t = Date.now();
      const view = await explainAll(s, LONG_FILE);
      seen[c.name] = { ms: Date.now() - t, footer: view.footer, notices: view.notices };
      expectLocal(view, c.notice);
    }
  } finally {
    await ctx.cloudSettings({});
    await s.waitForStatusBar('Flashcode', (text) => !GLOBALLY_OFF.test(text), 20_000).catch(() => {});
  }
}
