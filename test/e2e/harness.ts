// A real VS Code (code-server) in a temp folder, driven by headless Chromium: start it with an
// extension installed, open files, type, read ghost text and the buffer, stop it cleanly.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import {
  BASE_USER_SETTINGS, REPO_ROOT, codeServerBaseArgs, codeServerServeArgs, isolatedHome, node24Env,
} from '../../scripts/vscode-env.mjs';

export { REPO_ROOT };
export const RESULTS_DIR = path.join(REPO_ROOT, 'test-results');

/** Settings only a test wants: nothing may compete with or shift the ghost text. */
export const TEST_USER_SETTINGS: Readonly<Record<string, unknown>> = {
  ...BASE_USER_SETTINGS,
  'editor.quickSuggestions': { other: false, comments: false, strings: false },
  'editor.suggestOnTriggerCharacters': false,
  'editor.autoClosingBrackets': 'never',
  'editor.autoClosingQuotes': 'never',
  'editor.renderWhitespace': 'none',
  'editor.wordWrap': 'off',
  'files.autoSave': 'off',
  // A laptop on battery would pause the automatic suggestions the tests wait for.
  'flashcode.completion.pauseOnBattery': false,
  // 1.139 opens some editors (settings.json) in a modal overlay; tests want plain tabs.
  'workbench.editor.useModal': 'off',
};

/** The little of the browser DOM the page functions use (the project's tsconfig has no DOM lib). */
interface DomElement {
  textContent: string | null;
  style: { top: string };
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement> & Iterable<DomElement>;
  cloneNode(deep: boolean): DomElement;
  remove(): void;
}

// Inline ghost text sits in the cursor's line; further lines sit in a view zone (.suggest-preview-text).
const GHOST_INLINE = '.ghost-text-decoration, .ghost-text-decoration-preview';
const GHOST_ANY = '.ghost-text-decoration, .ghost-text, .ghost-text-decoration-preview';

export interface Tools {
  codeServerBin: string;
  node24BinDir: string;
  chromiumPath: string;
}

export interface RunDir {
  root: string;
  userDataDir: string;
  extensionsDir: string;
  home: string;
  workspace: string;
  serverLog: string;
}

export function createRunDir(prefix = 'flashcode-e2e-'): RunDir {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const dirs = {
    root,
    userDataDir: path.join(root, 'user-data'),
    extensionsDir: path.join(root, 'extensions'),
    home: path.join(root, 'home'),
    workspace: path.join(root, 'workspace'),
    serverLog: path.join(root, 'code-server.log'),
  };
  for (const d of [dirs.userDataDir, dirs.extensionsDir, dirs.home, dirs.workspace]) fs.mkdirSync(d, { recursive: true });
  return dirs;
}

export function writeUserSettings(userDataDir: string, settings: Readonly<Record<string, unknown>> = TEST_USER_SETTINGS): void {
  const dir = path.join(userDataDir, 'User');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings, null, 2) + '\n');
}

function serverEnv(tools: Tools, run: RunDir): NodeJS.ProcessEnv {
  return { ...node24Env(tools.node24BinDir), ...isolatedHome(run.home) };
}

/** `code-server --install-extension`; throws with its output when it fails. */
export function installVsix(tools: Tools, run: RunDir, vsix: string): string {
  const r = spawnSync(tools.codeServerBin, [...codeServerBaseArgs(run), '--install-extension', vsix, '--force'], {
    env: serverEnv(tools, run), encoding: 'utf8', timeout: 120_000,
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (r.status !== 0 || !/successfully installed/i.test(out)) throw new Error(`installing ${vsix} failed (status ${r.status}):\n${out}`);
  return out.split('\n').at(-1) ?? '';
}

/** Ids (publisher.name) of the extensions installed into the run's extensions folder. */
export function installedExtensionIds(run: RunDir): string[] {
  const file = path.join(run.extensionsDir, 'extensions.json');
  if (!fs.existsSync(file)) return [];
  const entries = JSON.parse(fs.readFileSync(file, 'utf8')) as { identifier: { id: string } }[];
  return entries.map((e) => e.identifier.id);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export function tailOfFile(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export interface GhostWait {
  text: string;
  /** 'command' when it only appeared after "Trigger Inline Suggestion". */
  trigger: 'automatic' | 'command';
  /** From the call until ghost text was first seen (the text may still have changed after). */
  firstSeenMs: number;
}

export class VscodeSession {
  page!: Page;
  private browser?: Browser;
  private server?: ChildProcess;
  private stopped = false;
  private readonly killOnExit = () => this.killServerGroup('SIGKILL');
  readonly consoleLines: string[] = [];
  readonly timings = { serverStartMs: 0, workbenchMs: 0 };

  private constructor(readonly tools: Tools, readonly run: RunDir, readonly port: number) {}

  /** Starts code-server detached (own process group) and a browser on the workspace's workbench. */
  static async start(tools: Tools, run: RunDir, { timeoutMs = 90_000 } = {}): Promise<VscodeSession> {
    const session = new VscodeSession(tools, run, await freePort());
    process.once('exit', session.killOnExit);
    try {
      let t = Date.now();
      await session.startServer(timeoutMs);
      session.timings.serverStartMs = Date.now() - t;
      t = Date.now();
      await session.openWorkbench(timeoutMs);
      session.timings.workbenchMs = Date.now() - t;
    } catch (err) {
      await session.stop();
      throw err;
    }
    return session;
  }

  private async startServer(timeoutMs: number): Promise<void> {
    const log = fs.openSync(this.run.serverLog, 'a');
    const server = spawn(this.tools.codeServerBin, [...codeServerBaseArgs(this.run), ...codeServerServeArgs({ port: this.port }), this.run.workspace], {
      env: serverEnv(this.tools, this.run), stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`code-server did not listen within ${timeoutMs} ms`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        fs.writeSync(log, chunk);
        if (/HTTP server listening/.test(chunk.toString())) {
          clearTimeout(timer);
          resolve();
        }
      };
      server.stdout!.on('data', onData);
      server.stderr!.on('data', onData);
      server.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`code-server exited (${code ?? signal}) before listening`));
      });
    });
  }

  private async openWorkbench(timeoutMs: number): Promise<void> {
    this.browser = await chromium.launch({
      executablePath: this.tools.chromiumPath,
      headless: true,
      env: { ...process.env, ...isolatedHome(this.run.home) },
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--disable-quic'],
    });
    this.page = await this.browser.newPage({ viewport: { width: 1400, height: 900 } });
    this.page.on('console', (m) => this.consoleLines.push(`${m.type()}: ${m.text()}`));
    await this.page.goto(`http://127.0.0.1:${this.port}/?folder=${encodeURIComponent(this.run.workspace)}`);
    await this.page.waitForSelector('.monaco-workbench', { timeout: timeoutMs });
    // The explorer lists the workspace once the remote connection is up.
    await this.page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: timeoutMs });
  }

  /**
   * Waits until the extension host has started activating `extensionId` (its log says so);
   * typing before that reaches no provider. Throws at once if the log reports a failed activation.
   */
  async waitForActivation(extensionId: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const started = `_doActivateExtension ${extensionId},`;
    const failed = `Activating extension '${extensionId}' failed`;
    while (Date.now() < deadline) {
      const log = this.extensionHostLog();
      const failure = log.split('\n').find((l) => l.includes(failed));
      if (failure) throw new Error(failure);
      if (log.includes(started)) return;
      await sleep(200);
    }
    throw new Error(`extension ${extensionId} was not activated within ${timeoutMs} ms`);
  }

  /** The remote extension host's log so far ('' before it exists). */
  extensionHostLog(): string {
    const logsDir = path.join(this.run.userDataDir, 'logs');
    if (!fs.existsSync(logsDir)) return '';
    const files = (fs.readdirSync(logsDir, { recursive: true }) as string[]).filter((f) => f.endsWith('remoteexthost.log')).sort();
    return files.length > 0 ? fs.readFileSync(path.join(logsDir, files.at(-1)!), 'utf8') : '';
  }

  /** Text of the first status bar item whose label starts with `prefix`, or undefined. */
  async statusBarText(prefix: string): Promise<string | undefined> {
    const texts = await this.page.locator('.statusbar-item').evaluateAll((els: DomElement[]) => els.map((el) => el.textContent ?? ''));
    return texts.map((t) => t.replace(/\s+/g, ' ').trim()).find((t) => t.startsWith(prefix));
  }

  /** Polls the status bar until an item starting with `prefix` satisfies `done`; returns its last text. */
  async waitForStatusBar(prefix: string, done: (text: string) => boolean, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last: string | undefined;
    while (Date.now() < deadline) {
      last = await this.statusBarText(prefix);
      if (last !== undefined && done(last)) return last;
      await sleep(250);
    }
    throw new Error(last === undefined
      ? `no status bar item starting with "${prefix}" within ${timeoutMs} ms`
      : `status bar still says "${last}" after ${timeoutMs} ms`);
  }

  /** The editor of the active group. */
  editor(): Locator {
    return this.page.locator('.part.editor .editor-group-container.active .editor-instance .monaco-editor').first();
  }

  /** Opens a file by clicking it in the explorer, and puts the cursor at its end. */
  async openFile(name: string, timeoutMs = 30_000): Promise<void> {
    const row = this.page.locator('.explorer-folders-view .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(name)}$`) }) });
    await row.first().click({ timeout: timeoutMs });
    await this.page.locator('.part.editor .tab.active', { hasText: name }).first().waitFor({ timeout: timeoutMs });
    const lines = this.editor().locator('.view-lines');
    await lines.waitFor({ timeout: timeoutMs });
    await lines.click();
    await this.page.keyboard.press('Control+End');
  }

  /** Types like a person (Enter for "\n"), so every keystroke reaches the extension. */
  async type(text: string, delayMs = 25): Promise<void> {
    await this.page.keyboard.type(text, { delay: delayMs });
  }

  /** The ghost text shown now ('' if none), lines joined with "\n". */
  async ghostText(): Promise<string> {
    // No named helpers in here: tsx's keepNames wraps them in __name(), which the page lacks.
    return this.editor().evaluate((editor: DomElement, inlineSel) => {
      const inline = [...(editor.querySelector('.view-lines')?.querySelectorAll(inlineSel) ?? [])]
        .map((e) => e.textContent ?? '').join('');
      const extra = [...editor.querySelectorAll('.suggest-preview-text .view-line')]
        .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
        .map((line) => [...line.querySelectorAll('.ghost-text')].map((e) => e.textContent ?? '').join(''));
      return (extra.length > 0 ? [inline, ...extra].join('\n') : inline).replace(/\u00a0/g, ' ');
    }, GHOST_INLINE);
  }

  async ghostVisible(): Promise<boolean> {
    return (await this.editor().locator(GHOST_ANY).count()) > 0;
  }

  /**
   * Waits until ghost text is shown and has not changed for `stableMs`; returns it. Triggers
   * "Trigger Inline Suggestion" by command after `commandAfterMs` if none appeared by itself.
   */
  async waitForGhostText({ timeoutMs = 45_000, stableMs = 500, commandAfterMs = Infinity } = {}): Promise<GhostWait> {
    const start = Date.now();
    let trigger: GhostWait['trigger'] = 'automatic';
    let firstSeenMs: number | undefined;
    let last = '';
    let since = Date.now();
    while (Date.now() - start < timeoutMs) {
      const text = (await this.ghostVisible()) ? await this.ghostText() : '';
      if (text !== '' && firstSeenMs === undefined) firstSeenMs = Date.now() - start;
      if (text !== last) {
        last = text;
        since = Date.now();
      } else if (text !== '' && Date.now() - since >= stableMs) {
        return { text, trigger, firstSeenMs: firstSeenMs ?? 0 };
      }
      if (text === '' && trigger === 'automatic' && Date.now() - start >= commandAfterMs) {
        trigger = 'command';
        await this.runCommand('Trigger Inline Suggestion');
      }
      await sleep(100);
    }
    throw new Error(`no ghost text within ${timeoutMs} ms${trigger === 'command' ? ' (also triggered by command)' : ''}`);
  }

  /** Runs a command palette entry by its exact title. */
  async runCommand(title: string): Promise<void> {
    await this.page.keyboard.press('F1');
    await this.page.waitForSelector('.quick-input-widget input', { state: 'visible' });
    await this.page.keyboard.type(title);
    await this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
    await this.page.keyboard.press('Enter');
  }

  /**
   * Replaces the user settings through VS Code's own settings.json editor (code-server does not
   * notice a settings file rewritten behind its back), saves, and waits for the file on disk.
   */
  async replaceUserSettings(settings: Readonly<Record<string, unknown>>): Promise<void> {
    // One line: typed text with line breaks gets auto-indented.
    const text = JSON.stringify(settings);
    await this.page.keyboard.press('Escape');
    await this.runCommand('Preferences: Open User Settings (JSON)');
    // The command leaves the cursor in the editor (a click could land on a neighbouring group).
    await this.page.locator('.part.editor .tab.active', { hasText: 'settings.json' }).first().waitFor();
    await this.page.locator('.part.editor .editor-group-container.active .monaco-editor.focused').first().waitFor({ timeout: 5000 }).catch(() => {});
    await this.page.keyboard.press('Control+a');
    await this.page.keyboard.press('Delete');
    await this.page.keyboard.insertText(text);
    await this.page.keyboard.press('Control+s');
    const file = path.join(this.run.userDataDir, 'User', 'settings.json');
    const deadline = Date.now() + 10_000;
    let saved = '';
    while ((saved = fs.readFileSync(file, 'utf8')).trim() !== text && Date.now() < deadline) await sleep(100);
    const tab = this.page.locator('.part.editor .tab', { hasText: 'settings.json' }).first();
    await tab.hover();
    await tab.locator('.tab-actions .action-label').first().click();
    await tab.waitFor({ state: 'detached', timeout: 10_000 });
    if (saved.trim() !== text) throw new Error(`settings.json was not saved as typed:\n${saved}`);
  }

  /** The editor's visible lines with ghost text left out (small files only: the DOM is virtualized). */
  async bufferText(): Promise<string> {
    return this.editor().locator('.view-lines').evaluate((el: DomElement, inlineSel) => {
      const copy = el.cloneNode(true);
      for (const ghost of copy.querySelectorAll(inlineSel)) ghost.remove();
      return [...copy.querySelectorAll('.view-line')]
        .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
        .map((l) => (l.textContent ?? '').replace(/\u00a0/g, ' '))
        .join('\n');
    }, GHOST_INLINE);
  }

  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, name);
    await this.page.screenshot({ path: file });
    return file;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.consoleLines.length > 0) fs.writeFileSync(path.join(this.run.root, 'browser-console.log'), this.consoleLines.join('\n') + '\n');
    await this.browser?.close().catch(() => {});
    // code-server → server → extension host, file watcher, pty host: kill the whole group.
    if (this.killServerGroup('SIGTERM')) {
      for (let i = 0; i < 50 && this.serverGroupAlive(); i++) await sleep(100);
      if (this.serverGroupAlive()) this.killServerGroup('SIGKILL');
    }
    process.removeListener('exit', this.killOnExit);
  }

  private killServerGroup(signal: NodeJS.Signals): boolean {
    if (!this.server?.pid) return false;
    try {
      process.kill(-this.server.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  private serverGroupAlive(): boolean {
    if (!this.server?.pid) return false;
    try {
      process.kill(-this.server.pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/** Polls `file` until it holds `want` (an editor save is asynchronous); returns what it holds. */
export async function waitForFileContent(file: string, want: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let got = fs.readFileSync(file, 'utf8');
  while (got !== want && Date.now() < deadline) {
    await sleep(100);
    got = fs.readFileSync(file, 'utf8');
  }
  return got;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
