// `npm start`: build dist/flashcode.vsix, install it into a VS Code (code-server) kept under
// .cache/vscode/start/, and serve that VS Code on 127.0.0.1 until Ctrl-C.
//
//   npm start [-- --no-build] [-- --verbose] [-- --reset]   PORT=8080 by default; a free port if it is taken
//
// Settings, extensions state and the sample workspace persist between runs (VS Code saves every edit
// into the workspace; --reset copies it afresh from test/fixtures/workspace/); the .vsix is
// re-installed every time.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  BASE_USER_SETTINGS, CACHE_DIR, REPO_ROOT, codeServerBaseArgs, codeServerServeArgs, ensureVscodeEnv, isolatedHome, node24Env,
} from './vscode-env.mjs';
import { parseStartArgs, prepareSampleWorkspace } from './start-options.mjs';

const VSIX = path.join(REPO_ROOT, 'dist', 'flashcode.vsix');
const SAMPLE_WORKSPACE = path.join(REPO_ROOT, 'test', 'fixtures', 'workspace');
const START_DIR = path.join(CACHE_DIR, 'start');
const dirs = {
  userDataDir: path.join(START_DIR, 'user-data'),
  extensionsDir: path.join(START_DIR, 'extensions'),
  home: path.join(START_DIR, 'home'),
  workspace: path.join(START_DIR, 'workspace'),
  serverLog: path.join(START_DIR, 'code-server.log'),
};

function say(message) {
  console.log(`[flashcode] ${message}`);
}

function fail(message) {
  console.error(`[flashcode] ${message}`);
  process.exit(1);
}

let options;
try {
  options = parseStartArgs(process.argv.slice(2));
} catch (err) {
  fail(err.message);
}
const { build, verbose, reset } = options;

/** Resolves with `preferred` if it can be bound on 127.0.0.1, else with a free port. */
function pickPort(preferred) {
  const tryListen = (port) => new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => {
      const { port: bound } = s.address();
      s.close(() => resolve(bound));
    });
  });
  return tryListen(preferred).then((port) => port ?? tryListen(0));
}

if (build) {
  say('building dist/flashcode.vsix (npm run package; skip with --no-build)');
  const r = spawnSync('npm', ['run', 'package'], { cwd: REPO_ROOT, stdio: verbose ? 'inherit' : ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    if (!verbose) process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    fail('npm run package failed (output above); fix the build, or run with --no-build to serve the last dist/flashcode.vsix');
  }
} else if (!fs.existsSync(VSIX)) {
  fail(`${path.relative(REPO_ROOT, VSIX)} does not exist: run npm start without --no-build`);
}

const env = await ensureVscodeEnv({ browser: false, log: say });
if (!env.ok) {
  fail(`cannot set up VS Code: ${env.reason}\n` +
    'What to do: run `npm start` once as root on Debian (it installs the missing apt packages), or install them\n' +
    `yourself; downloads need the npm registry. Install logs: ${path.relative(REPO_ROOT, path.join(CACHE_DIR, 'logs'))}/`);
}

for (const d of [dirs.userDataDir, dirs.extensionsDir, dirs.home]) fs.mkdirSync(d, { recursive: true });
const settingsFile = path.join(dirs.userDataDir, 'User', 'settings.json');
if (!fs.existsSync(settingsFile)) {
  fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
  fs.writeFileSync(settingsFile, JSON.stringify(BASE_USER_SETTINGS, null, 2) + '\n');
}
const workspace = prepareSampleWorkspace(SAMPLE_WORKSPACE, dirs.workspace, { reset });
if (workspace === 'reset') say(`sample workspace restored from ${path.relative(REPO_ROOT, SAMPLE_WORKSPACE)}/`);
else if (workspace === 'kept') say('sample workspace kept as you left it (npm start -- --reset restores it)');

const serverEnv = { ...node24Env(env.node24BinDir), ...isolatedHome(dirs.home) };
const install = spawnSync(env.codeServerBin, [...codeServerBaseArgs(dirs), '--install-extension', VSIX, '--force'], { env: serverEnv, encoding: 'utf8' });
if (install.status !== 0) fail(`installing ${path.relative(REPO_ROOT, VSIX)} failed:\n${install.stdout}${install.stderr}`);
say(`installed ${path.relative(REPO_ROOT, VSIX)}`);

const wanted = Number(process.env.PORT || 8080);
const port = await pickPort(wanted);
if (port !== wanted) say(`port ${wanted} is taken; using ${port}`);

// Foreground, same process group: Ctrl-C in the terminal reaches code-server and all its children.
const server = spawn(env.codeServerBin, [...codeServerBaseArgs(dirs), ...codeServerServeArgs({ port }), dirs.workspace], {
  env: serverEnv, stdio: ['ignore', 'pipe', 'pipe'],
});
const log = fs.openSync(dirs.serverLog, 'a');
let listening = false;
for (const stream of [server.stdout, server.stderr]) {
  stream.on('data', (chunk) => {
    fs.writeSync(log, chunk);
    if (verbose) process.stdout.write(chunk);
    if (!listening && /HTTP server listening/.test(chunk.toString())) {
      listening = true;
      const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(dirs.workspace).replace(/%2F/g, '/')}`;
      console.log(`\nFlashcode is running in VS Code at ${url} — open it in a browser; press Ctrl-C to stop.\n`);
      if (!verbose) say(`code-server's log: ${path.relative(REPO_ROOT, dirs.serverLog)} (or run with --verbose)`);
    }
  });
}

// A signal sent to this process alone (not the terminal's whole group) is passed on.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (server.exitCode === null) server.kill(signal);
  });
}

server.on('exit', (code, signal) => {
  fs.closeSync(log);
  if (!listening) {
    const tail = fs.existsSync(dirs.serverLog) ? fs.readFileSync(dirs.serverLog, 'utf8').trimEnd().split('\n').slice(-30).join('\n') : '';
    fail(`code-server exited (${code ?? signal}) before it listened:\n${tail}`);
  }
  say('stopped');
  process.exit(signal ? 0 : (code ?? 0));
});
