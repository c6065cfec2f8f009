// End-to-end case for the model manager: "Flashcode: Choose Model…" against a loopback fake of the
// Hugging Face hub that serves the catalog's SmolLM2-135M Q4_1 GGUF (the real file, so its pinned
// sha256 holds): pick it, confirm the download dialog, watch the progress notification, get ghost
// text from the new model, then switch back to the bundled model from the same quick pick. Runs last.
import fs from 'node:fs';
import path from 'node:path';
import { shippedCatalog } from '../../src/models/catalog';
import { FileServer } from '../helpers/fileServer';
import { publishRepo } from '../helpers/fakeHub';
import { SMOLLM2_GGUF } from '../helpers/smollm2';
import { flashcodeLog, waitFor } from './explainView';
import { sleep, type RunDir, type VscodeSession } from './harness';

export const PICKED_FILE = 'picked.py';
const ENTRY = shippedCatalog().find((e) => e.id === 'smollm2-135m-instruct-q4_1')!;

/** The fake hub, or why the case cannot run (the GGUF is fetched by scripts/fetch-smollm2.mjs). */
export async function startModelHub(): Promise<FileServer | string> {
  if (!fs.existsSync(SMOLLM2_GGUF)) return `${SMOLLM2_GGUF} is missing (node scripts/fetch-smollm2.mjs fetches it)`;
  const hub = await FileServer.start();
  publishRepo(hub, ENTRY.repo, [{ path: ENTRY.files[0].path, body: fs.readFileSync(SMOLLM2_GGUF) }], ENTRY.revision);
  return hub;
}

export function prepareModelFiles(workspace: string): void {
  fs.writeFileSync(path.join(workspace, PICKED_FILE), '');
}

export async function chooseModelCase(s: VscodeSession, run: RunDir, hub: FileServer, details: Record<string, unknown>): Promise<void> {
  await s.page.keyboard.press('Escape');
  let t = Date.now();
  await s.runCommand('Flashcode: Choose Model…');
  const row = s.page.locator('.quick-input-list .monaco-list-row', { hasText: ENTRY.displayName }).first();
  await row.waitFor({ timeout: 15_000 });
  details.pickRows = await s.page.locator('.quick-input-list .monaco-list-row').allTextContents();
  await s.screenshot('e2e-choose-model.png');
  await row.click();

  const dialog = s.page.locator('.monaco-dialog-box');
  await dialog.waitFor({ timeout: 30_000 });
  details.dialog = (await dialog.textContent())?.replace(/\s+/g, ' ').trim();
  for (const want of [`Download ${ENTRY.displayName}?`, 'Apache-2.0', '93.8 MB']) {
    if (!String(details.dialog).includes(want)) throw new Error(`the download dialog does not say ${JSON.stringify(want)}: ${details.dialog}`);
  }
  await s.screenshot('e2e-model-download-dialog.png');
  await dialog.locator('.monaco-button', { hasText: /^Download$/ }).click();

  // The progress notification: its lines, until the model is in use.
  const toast = s.page.locator('.notification-toast', { hasText: `Flashcode: ${ENTRY.displayName}` }).first();
  const lines = new Set<string>();
  await waitFor('"now using" after download and import', async () => {
    const text = await toast.locator('.notification-list-item-message').textContent({ timeout: 200 }).catch(() => undefined);
    if (text) lines.add(text.replace(/\s+/g, ' ').trim());
    if (lines.size === 3) await s.screenshot('e2e-model-progress.png');
    return (await s.page.locator('.notification-toast', { hasText: 'now using' }).count()) > 0 ? true : undefined;
  }, 300_000);
  details.installMs = Date.now() - t;
  const seen = [...lines];
  details.progressLines = seen.length > 8 ? [...seen.slice(0, 4), '…', ...seen.slice(-4)] : seen;
  for (const stage of [/downloading [\d.]+ MB \/ 93\.8 MB · [\d.]+ [KM]?B\/s/, /importing: \d+ %/]) {
    if (!seen.some((l) => stage.test(l))) throw new Error(`the progress notification never showed ${stage}: ${seen.join(' | ')}`);
  }
  const fetched = hub.requests.filter((r) => r.path.startsWith('/files/')).length;
  if (fetched !== 1) throw new Error(`the GGUF was requested ${fetched} times`);

  const storage = path.join(run.userDataDir, 'User', 'globalStorage');
  const installed = (fs.readdirSync(storage, { recursive: true }) as string[]).filter((f) => f.endsWith(path.join(ENTRY.id, 'manifest.json')));
  details.installed = installed;
  if (installed.length !== 1) throw new Error(`no installed model under ${storage}`);

  t = Date.now();
  await waitFor('the new model loaded', () => /loaded SmolLM2-135M-Instruct\.Q4_1/.test(flashcodeLog(run)) ? true : undefined, 180_000);
  details.loadMs = Date.now() - t;
  details.log = flashcodeLog(run).split('\n').filter((l) => /models:|loaded|loading the model/.test(l)).slice(-12);

  await s.openFile(PICKED_FILE);
  await s.type('def add(a, b):\nreturn ');
  t = Date.now();
  const ghost = await s.waitForGhostText({ timeoutMs: 120_000, commandAfterMs: 30_000 });
  details.ghostMs = Date.now() - t;
  details.ghostText = ghost.text;
  details.trigger = ghost.trigger;
  await s.screenshot('e2e-model-ghost.png');
  await sleep(200);
  // The ghost text came from SmolLM2: the last completion the log records was run on it.
  const log = flashcodeLog(run);
  if (log.lastIndexOf('loaded SmolLM2-135M-Instruct.Q4_1') < log.lastIndexOf('loaded Flashcode')) throw new Error('the bundled model was loaded again after the switch');

  // Back to the bundled model through the same quick pick: an installed model, switched in place.
  await s.page.keyboard.press('Escape');
  const loadsBefore = log.split('loaded Flashcode').length;
  await s.runCommand('Flashcode: Choose Model…');
  const bundled = s.page.locator('.quick-input-list .monaco-list-row', { hasText: '(bundled)' }).first();
  await bundled.waitFor({ timeout: 15_000 });
  const smolRow = await s.page.locator('.quick-input-list .monaco-list-row', { hasText: 'SmolLM2-135M-Instruct.Q4_1' }).first().textContent();
  details.installedRow = smolRow;
  if (!/\d+(\.\d)? MB · q4_32 \(from Q8_0\+F32\+Q4_1\) · 8192-token context · FIM: no/.test(smolRow ?? '')) throw new Error(`the installed model's row says ${JSON.stringify(smolRow)}`);
  t = Date.now();
  await bundled.click();
  await waitFor('the bundled model loaded again', () => flashcodeLog(run).split('loaded Flashcode').length > loadsBefore ? true : undefined, 60_000);
  details.switchBackMs = Date.now() - t;
}
