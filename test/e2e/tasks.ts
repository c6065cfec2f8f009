// End-to-end cases for Explain and Refactor: the local model answers a small selection in the
// Explain view; a Refactor's diff is applied and saved (a harmful local proposal is refused, and
// the cloud model asked instead); a long selection goes to a loopback OpenAI-compatible server
// after the consent dialog, with the key from "Set Cloud API Key".

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { answer, status, type OpenAiTestServer } from '../helpers/openaiServer';
import { currentView, explainFrame, runExplain, flashcodeLog, READ_VIEW, waitFor, waitForNewAnswer, waitForView, type ViewState } from './explainView';
import { sleep, type RunDir, type VscodeSession } from './harness';

export const TASK_FILE = 'geometry.ts';
export const LONG_FILE = 'long.ts';
export const GUARDED_FILE = 'guarded.py';
export const SECRET_FILE = '.env';
export const SECRET_TEXT = 'FLASHCODE_E2E_SECRET=never-leaves-this-machine';
export const CLOUD_MODEL = 'e2e-cloud-model';
export const CLOUD_KEY = 'sk-e2e-0123456789abcdef';
export const CLOUD_ANSWER = '## From the cloud\n\nThis explanation came from the **loopback cloud** model.';

const TASK_TEXT = `export function area(width: number, height: number): number {
  const w = Math.max(0, width);
  const h = Math.max(0, height);
  return w * h;
}

export function perimeter(width: number, height: number): number {
  return 2 * (width + height);
}
`;
const REFACTOR_TARGET = 'export function perimeter(width: number, height: number): number {\n  return 2 * (width + height);\n}';

/** ~20 KB of TypeScript: far more than the local model's 2,048-token window. */
function longText(): string {
  return Array.from({ length: 200 }, (_, i) =>
    `export function step${i}(value: number): number {\n  return value * ${i + 1} + ${i % 7};\n}\n`).join('\n');
}

const GUARDED_TEXT = 'def mean(xs):\n    total = sum(xs)\n    return total / len(xs)\n';

export function prepareTaskFiles(workspace: string): void {
  fs.writeFileSync(path.join(workspace, TASK_FILE), TASK_TEXT);
  fs.writeFileSync(path.join(workspace, GUARDED_FILE), GUARDED_TEXT);
  fs.writeFileSync(path.join(workspace, LONG_FILE), longText());
  fs.writeFileSync(path.join(workspace, SECRET_FILE), `${SECRET_TEXT}\n`);
}

/** Selects lines [from, to) (1-based) of the open editor with the keyboard. */
async function selectLines(s: VscodeSession, from: number, count: number): Promise<void> {
  await s.page.keyboard.press('Control+Home');
  for (let i = 1; i < from; i++) await s.page.keyboard.press('ArrowDown');
  for (let i = 0; i < count; i++) await s.page.keyboard.press('Shift+ArrowDown');
}

export async function explainLocalCase(s: VscodeSession, details: Record<string, unknown>): Promise<void> {
  await s.page.keyboard.press('Escape');
  await s.openFile(TASK_FILE);
  await selectLines(s, 1, 5);
  const t = Date.now();
  const view = await runExplain(s);
  details.viewMs = Date.now() - t;
  details.view = view;
  await s.screenshot('e2e-explain-local.png');
  if (view.error) throw new Error(`the view shows an error: ${view.error}`);
  if (view.answer === '') throw new Error('the answer is empty');
  if (!/^Answered by the local model .+ in [\d,]+ ms$/.test(view.footer)) throw new Error(`footer: ${JSON.stringify(view.footer)}`);
  if (!view.title.startsWith(`${TASK_FILE}:1`)) throw new Error(`title: ${JSON.stringify(view.title)}`);
}

/** Types a preset's name into Refactor's pick and presses Enter. */
async function choosePreset(s: VscodeSession, label: string): Promise<void> {
  await s.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Add error handling' }).first().waitFor({ timeout: 10_000 });
  await s.page.keyboard.type(label);
  await s.page.keyboard.press('Enter');
}

const PROPOSAL_TAB = { hasText: 'Flashcode proposal' };

/**
 * Waits for the proposal's diff. A proposal the local model wrote is often refused as harmful (the
 * bundled model tends to answer with a comment that loops): then the refusal must say why and offer
 * the cloud model, which is asked with "Use the Cloud Model" and answers `cloudCode` (loopback
 * server; consent was given by the explain-cloud case). Either way a diff follows.
 */
async function proposalDiff(s: VscodeSession, server: OpenAiTestServer, cloudCode: string, languageId: string, details: Record<string, unknown>): Promise<void> {
  const diff = s.page.locator('.part.editor .tab', PROPOSAL_TAB).first();
  const refusal = s.page.locator('.notification-toast', { hasText: 'is not offered for Apply' }).first();
  details.localProposal = await waitFor('a diff or a refusal', async () => {
    if ((await diff.count()) > 0) return 'offered';
    return (await refusal.count()) > 0 ? 'refused' : undefined;
  }, 90_000);
  if (details.localProposal === 'offered') return;
  details.refusal = (await refusal.locator('.notification-list-item-message').first().textContent())?.trim();
  if (!/is not offered for Apply: it [^.]+\. The local model is small/.test(String(details.refusal))) throw new Error(`the refusal says ${JSON.stringify(details.refusal)}`);
  const useCloud = refusal.locator('.monaco-button', { hasText: 'Use the Cloud Model' }).first();
  if ((await useCloud.count()) === 0) throw new Error('the refusal does not offer the cloud model');
  await s.screenshot('e2e-refactor-not-offered.png');
  server.script(answer(`\`\`\`${languageId}\n${cloudCode}\`\`\`\n`, 3));
  await useCloud.click();
  await diff.waitFor({ timeout: 60_000 });
}

export async function refactorLocalCase(s: VscodeSession, run: RunDir, server: OpenAiTestServer, details: Record<string, unknown>): Promise<void> {
  const file = path.join(run.workspace, TASK_FILE);
  const before = fs.readFileSync(file, 'utf8');
  const start = before.indexOf(REFACTOR_TARGET);
  if (start < 0) throw new Error(`${TASK_FILE} does not hold the function to refactor`);
  await s.page.keyboard.press('Escape');
  await s.openFile(TASK_FILE);
  // No selection: the cursor inside perimeter() makes tree-sitter pick the whole exported function.
  await s.page.keyboard.press('Control+Home');
  for (let i = 0; i < 7; i++) await s.page.keyboard.press('ArrowDown');
  await s.page.keyboard.press('End');
  const t = Date.now();
  await s.runCommand('Flashcode: Refactor…');
  await choosePreset(s, 'Simplify');
  await proposalDiff(s, server, `${REFACTOR_TARGET.replace('2 * (width + height)', 'width * 2 + height * 2')}\n`, 'typescript', details);
  const diff = s.page.locator('.part.editor .monaco-diff-editor').first();
  await diff.waitFor({ timeout: 90_000 });
  details.diffMs = Date.now() - t;
  details.diffTitle = (await s.page.locator('.part.editor .tab', { hasText: 'Flashcode proposal' }).first().textContent())?.trim();
  if (!String(details.diffTitle).includes('Simplify')) throw new Error(`the diff is titled ${JSON.stringify(details.diffTitle)}`);
  await sleep(500);
  await s.screenshot('e2e-refactor-diff.png');
  const proposal = await waitFor('the proposal in the log', () => {
    const m = /refactor of (\S+) proposed: (\d+) characters, sha256 ([0-9a-f]{64})/.exec(flashcodeLog(run));
    return m ? { where: m[1], chars: Number(m[2]), sha256: m[3] } : undefined;
  }, 10_000);
  details.proposal = proposal;

  await s.runCommand('Flashcode: Apply Refactor');
  // Apply closes the diff (whose tab title also names the file) and shows the file itself.
  await s.page.locator('.part.editor .tab', { hasText: 'Flashcode proposal' }).first().waitFor({ state: 'detached', timeout: 10_000 });
  await s.page.locator('.part.editor .tab.active', { hasText: TASK_FILE }).filter({ hasNotText: 'proposal' }).first().waitFor({ timeout: 10_000 });
  await s.page.keyboard.press('Control+s');
  // VS Code's save truncates the file before writing it: a read in between sees "" (or a part).
  // What is saved is the first changed text that two reads 200 ms apart agree on.
  let previous: string | undefined;
  const after = await waitFor('the refactor saved to disk', () => {
    const text = fs.readFileSync(file, 'utf8');
    const settled = text !== before && text !== '' && text === previous;
    previous = text;
    return settled ? text : undefined;
  }, 10_000);
  details.fileOnDisk = after;
  await s.screenshot('e2e-refactor-applied.png');
  const prefix = before.slice(0, start);
  const suffix = before.slice(start + REFACTOR_TARGET.length);
  if (!after.startsWith(prefix) || !after.endsWith(suffix)) throw new Error('the file changed outside the refactored function');
  const replaced = after.slice(prefix.length, after.length - suffix.length);
  if (replaced.length !== proposal.chars || crypto.createHash('sha256').update(replaced).digest('hex') !== proposal.sha256) {
    throw new Error(`the file holds ${JSON.stringify(replaced)} in place of the function, not the proposal (${proposal.chars} characters)`);
  }
}

/** Refactor, then edit the code in the original file: Apply must refuse and change nothing. */
export async function refactorRefusedCase(s: VscodeSession, run: RunDir, server: OpenAiTestServer, details: Record<string, unknown>): Promise<void> {
  const file = path.join(run.workspace, GUARDED_FILE);
  await s.page.keyboard.press('Escape');
  await s.openFile(GUARDED_FILE);
  await s.page.keyboard.press('Control+Home');
  await s.page.keyboard.press('ArrowDown');
  await s.runCommand('Flashcode: Refactor…');
  await choosePreset(s, 'Add documentation');
  await proposalDiff(s, server, GUARDED_TEXT.replace(':\n', ':\n    """The mean of xs."""\n'), 'python', details);
  const diffTab = s.page.locator('.part.editor .tab', PROPOSAL_TAB).first();
  await diffTab.waitFor({ timeout: 90_000 });
  details.diffTitle = (await diffTab.textContent())?.trim();
  if (!String(details.diffTitle).includes('Add documentation')) throw new Error(`the diff is titled ${JSON.stringify(details.diffTitle)}`);
  // Edit inside the function in the file itself (its tab, not the diff's).
  await s.page.locator('.part.editor .tab', { hasText: GUARDED_FILE }).filter({ hasNotText: 'proposal' }).first().click();
  await s.editor().locator('.view-lines').click();
  await s.page.keyboard.press('Control+Home');
  await s.page.keyboard.press('ArrowDown');
  await s.page.keyboard.press('End');
  await s.type(' # edited meanwhile', 10);
  await s.runCommand('Flashcode: Apply Refactor');
  const warning = s.page.locator('.notification-toast', { hasText: 'changed where the refactor would go' }).first();
  await warning.waitFor({ timeout: 10_000 });
  details.warning = (await warning.textContent())?.trim();
  await s.screenshot('e2e-refactor-refused.png');
  await s.page.locator('.part.editor .tab', { hasText: GUARDED_FILE }).filter({ hasNotText: 'proposal' }).first().click();
  await s.page.keyboard.press('Control+s');
  const want = GUARDED_TEXT.replace('sum(xs)\n', 'sum(xs) # edited meanwhile\n');
  const onDisk = await waitFor('the edited file on disk', () => {
    const text = fs.readFileSync(file, 'utf8');
    return text === want ? text : undefined;
  }, 10_000).catch(() => fs.readFileSync(file, 'utf8'));
  if (onDisk !== want) throw new Error(`the file holds ${JSON.stringify(onDisk)}, expected only the user's edit ${JSON.stringify(want)}`);
}

export async function setCloudKeyCase(s: VscodeSession): Promise<void> {
  await s.page.keyboard.press('Escape');
  await s.runCommand('Flashcode: Set Cloud API Key');
  const input = s.page.locator('.quick-input-widget input[type="password"]');
  await input.waitFor({ timeout: 10_000 });
  await s.page.keyboard.type(CLOUD_KEY);
  await s.page.keyboard.press('Enter');
  await s.page.locator('.notification-toast', { hasText: 'API key is saved' }).first().waitFor({ timeout: 10_000 });
}

export async function explainCloudCase(s: VscodeSession, server: OpenAiTestServer, details: Record<string, unknown>): Promise<void> {
  // A visible editor on an excluded file: its text must never reach the server.
  await s.page.keyboard.press('Escape');
  await s.openFile(SECRET_FILE);
  await s.runCommand('View: Split Editor Right');
  await s.openFile(LONG_FILE);
  await s.page.keyboard.press('Control+a');
  server.script({ kind: 'stream', chunks: CLOUD_ANSWER.match(/[\s\S]{1,12}/g) ?? [], delayMs: 150 });
  const requestsBefore = server.requests.length;
  const t = Date.now();
  const previous = await currentView(s);
  await s.runCommand('Flashcode: Explain');

  const dialog = s.page.locator('.monaco-dialog-box');
  await dialog.waitFor({ timeout: 60_000 });
  details.dialog = (await dialog.locator('.dialog-message-text').textContent())?.trim();
  const host = new URL(server.baseUrl).host;
  if (details.dialog !== `Send this to ${host}?`) throw new Error(`the consent dialog says ${JSON.stringify(details.dialog)}`);
  await s.screenshot('e2e-cloud-consent.png');
  await dialog.locator('.monaco-button', { hasText: /^Send$/ }).click();

  // The status bar says a request is on its way while the answer streams in.
  details.statusDuringRequest = await waitFor('the cloud status in the status bar', async () => {
    const text = await s.statusBarText('Flashcode');
    return text && /cloud/.test(text) ? text : undefined;
  }, 15_000).catch((err: Error) => `not seen: ${err.message}`);
  const view = await waitForNewAnswer(s, previous);
  details.viewMs = Date.now() - t;
  details.view = view;
  await s.screenshot('e2e-explain-cloud.png');
  if (view.error) throw new Error(`the view shows an error: ${view.error}`);
  if (!view.answer.includes('This explanation came from the loopback cloud model.')) throw new Error(`answer: ${JSON.stringify(view.answer)}`);
  if (!view.footer.startsWith(`Answered by the cloud model ${CLOUD_MODEL} @ ${host} in`)) throw new Error(`footer: ${JSON.stringify(view.footer)}`);
  if (typeof details.statusDuringRequest !== 'string' || details.statusDuringRequest.startsWith('not seen')) throw new Error(String(details.statusDuringRequest));

  const sent = server.requests.slice(requestsBefore);
  details.requests = sent.map((r) => ({ path: r.path, model: r.body?.model, messages: r.body?.messages.length, bodyChars: JSON.stringify(r.body).length }));
  if (sent.length !== 1) throw new Error(`the server got ${sent.length} requests, expected 1`);
  const [request] = sent;
  if (request!.headers.authorization !== `Bearer ${CLOUD_KEY}`) throw new Error('the request did not carry the API key as a Bearer token');
  const body = JSON.stringify(request!.body);
  if (!body.includes('export function step199(value: number)')) throw new Error('the request does not hold the selected code');
  if (body.includes('never-leaves-this-machine')) throw new Error(`the request holds text of the excluded ${SECRET_FILE}`);
  if (request!.body?.model !== CLOUD_MODEL) throw new Error(`model ${request!.body?.model}`);
}

/** With consent given, a failing endpoint (500 on every retry) falls back to the local model with a notice. */
export async function cloudFallbackCase(s: VscodeSession, server: OpenAiTestServer, details: Record<string, unknown>): Promise<void> {
  await s.page.keyboard.press('Escape');
  await s.openFile(LONG_FILE);
  await s.page.keyboard.press('Control+a');
  server.script(status(500), status(500), status(500), status(500));
  const before = server.requests.length;
  const t = Date.now();
  const view = await runExplain(s);
  details.viewMs = Date.now() - t;
  details.view = view;
  details.requests = server.requests.length - before;
  await s.screenshot('e2e-cloud-fallback.png');
  if ((await s.page.locator('.monaco-dialog-box').count()) > 0) throw new Error('consent was asked again');
  if (!view.footer.startsWith('Answered by the local model')) throw new Error(`footer: ${JSON.stringify(view.footer)}`);
  if (!/cloud model failed/.test(view.notices)) throw new Error(`notices: ${JSON.stringify(view.notices)}`);
  if (view.answer === '') throw new Error('the local answer is empty');
}

/** Cancel in the Explain view stops a streaming cloud answer: the server sees the client hang up. */
export async function cloudCancelCase(s: VscodeSession, server: OpenAiTestServer, details: Record<string, unknown>): Promise<void> {
  await s.page.keyboard.press('Escape');
  await s.openFile(LONG_FILE);
  await s.page.keyboard.press('Control+a');
  server.script({ kind: 'stream', chunks: Array.from({ length: 100 }, (_, i) => `word${i} `), delayMs: 200 });
  const before = server.requests.length;
  await s.runCommand('Flashcode: Explain');
  const frame = await explainFrame(s, 30_000);
  await waitFor('streamed text in the view', async () => {
    const v = await frame.evaluate(READ_VIEW) as ViewState;
    return v.running === 'true' && v.answer.includes('word2') ? v : undefined;
  }, 30_000);
  await frame.click('#cancel');
  const view = await waitForView(s, (v) => v.status === 'Cancelled.', 10_000);
  details.view = view;
  await s.screenshot('e2e-cloud-cancelled.png');
  const request = server.requests[before];
  if (!request) throw new Error('no request reached the server');
  const ended = await Promise.race([request.ended, sleep(5000).then(() => 'still streaming')]);
  details.serverSaw = ended;
  if (ended !== 'client-closed') throw new Error(`the server's stream ${ended}`);
  if (view.answer.includes('word99') || view.footer !== '') throw new Error('the answer ran to the end');
  const status = await s.statusBarText('Flashcode');
  if (status && /cloud/.test(status)) throw new Error(`the status bar still says ${status}`);
}
