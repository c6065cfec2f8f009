// The README's screenshots, taken from a real VS Code with the packaged extension: ghost text in the
// sample workspace's Python file, and the Explain view beside the TypeScript one. Writes
// media/ghost-text.png and media/explain.png (small viewport: the PNGs stay well under 200 KB).
//
//   npm run screenshots [-- --no-build]      --no-build uses the last dist/flashcode.vsix

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureVscodeEnv } from '../../scripts/vscode-env.mjs';
import { runExplain } from './explainView';
import {
  REPO_ROOT, TEST_USER_SETTINGS, VscodeSession, createRunDir, installVsix, installedExtensionIds, writeUserSettings,
} from './harness';

const MEDIA = path.join(REPO_ROOT, 'media');
const VSIX = path.join(REPO_ROOT, 'dist', 'flashcode.vsix');
const VIEWPORT = { width: 1024, height: 540 };

function log(message: string): void {
  console.log(`[screenshots] ${message}`);
}

async function main(): Promise<void> {
  if (!process.argv.includes('--no-build')) {
    log('npm run package');
    const r = spawnSync('npm', ['run', 'package'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run package failed:\n${r.stdout}${r.stderr}`);
  }
  if (!fs.existsSync(VSIX)) throw new Error(`${VSIX} does not exist: run without --no-build`);
  const env = await ensureVscodeEnv({ log });
  if (!env.ok) throw new Error(`cannot set up VS Code: ${env.reason}`);

  const run = createRunDir('flashcode-screenshots-');
  // No minimap: at this width it would take room from the code.
  writeUserSettings(run.userDataDir, { ...TEST_USER_SETTINGS, 'editor.minimap.enabled': false, 'workbench.activityBar.location': 'hidden' });
  fs.cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'workspace'), run.workspace, { recursive: true });
  await installVsix(env, run, VSIX);
  const session = await VscodeSession.start(env, run);
  try {
    await session.page.setViewportSize(VIEWPORT);
    for (const id of installedExtensionIds(run)) await session.waitForActivation(id, 120_000);
    const status = await session.waitForStatusBar('Flashcode', (t) => /ready|error/.test(t), 120_000);
    if (!/ready/.test(status)) throw new Error(`status bar says "${status}"`);

    // What stats.py's own first lines tell a newcomer to type.
    await session.openFile('stats.py');
    await session.type('\n\ndef median(values):\n');
    const ghost = await session.waitForGhostText({ timeoutMs: 60_000, stableMs: 1000, commandAfterMs: 20_000 });
    log(`ghost text: ${JSON.stringify(ghost.text)}`);
    await session.page.screenshot({ path: path.join(MEDIA, 'ghost-text.png') });
    await session.page.keyboard.press('Escape');

    await session.openFile('shapes.ts');
    // Select `distance` (lines 14–18): Explain's target.
    await session.page.keyboard.press('Control+Home');
    for (let i = 1; i < 14; i++) await session.page.keyboard.press('ArrowDown');
    for (let i = 0; i < 5; i++) await session.page.keyboard.press('Shift+ArrowDown');
    const view = await runExplain(session);
    log(`explain: ${JSON.stringify(view.footer || view.error)}`);
    await session.page.screenshot({ path: path.join(MEDIA, 'explain.png') });
  } finally {
    await session.stop();
    fs.rmSync(run.root, { recursive: true, force: true });
  }
  for (const f of ['ghost-text.png', 'explain.png']) log(`media/${f}: ${fs.statSync(path.join(MEDIA, f)).size} bytes`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
