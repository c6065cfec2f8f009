// The npm test scripts run what their names say: test:unit no integration test, test:integration no
// unit test, and `npm test` every stage through those same scripts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '../../..');
const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts;

/** The mocha command of an npm script (after any `… &&`), as argv; quotes are the script's own. */
function mochaArgs(script: string): string[] {
  const command = script.split('&&').at(-1)!.trim();
  const argv = [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  assert.equal(argv[0], 'mocha', `${script} runs mocha`);
  return argv.slice(1);
}

/** The test files mocha would load for `args`, without running a test. */
function filesMochaRuns(args: string[]): string[] {
  const r = spawnSync('npx', ['mocha', ...args, '--dry-run', '--reporter', 'json'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
  return [...new Set<string>(report.tests.map((t: { file: string }) => path.relative(root, t.file)))];
}

describe('npm test scripts', function () {
  this.timeout(120_000);

  it('test:unit runs the unit tests and nothing else', () => {
    const files = filesMochaRuns(mochaArgs(scripts['test:unit']!));
    assert.ok(files.length > 50, `${files.length} files`);
    assert.deepEqual(files.filter((f) => !f.startsWith(`test${path.sep}unit${path.sep}`)), []);
  });

  it('test:integration runs the integration tests and nothing else, after a build', () => {
    assert.match(scripts['test:integration']!, /^node scripts\/build\.mjs && /);
    const files = filesMochaRuns(mochaArgs(scripts['test:integration']!));
    assert.ok(files.length > 10, `${files.length} files`);
    assert.deepEqual(files.filter((f) => !f.startsWith(`test${path.sep}integration${path.sep}`)), []);
  });

  it('test:fast runs only the unit test files whose path has a given word, and names a word that matches none', () => {
    const r = spawnSync('node', ['scripts/test-fast.mjs', 'scripts/startOptions'], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\b6 passing/);
    const none = spawnSync('node', ['scripts/test-fast.mjs', 'no-such-test'], { cwd: root, encoding: 'utf8' });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no unit test file under test\/unit\/ has "no-such-test" in its path/);
  });

  it('npm test runs python, unit, integration and e2e through their own scripts, and CI runs npm test', () => {
    const runner = fs.readFileSync(path.join(root, 'scripts', 'test.mjs'), 'utf8');
    const used = [...runner.matchAll(/'(test:[\w-]+)'/g)].map((m) => m[1]!);
    assert.deepEqual(used, ['test:python', 'test:unit', 'test:integration', 'test:e2e']);
    for (const name of used) assert.ok(scripts[name], `package.json has ${name}`);
    assert.equal(scripts.test, 'node scripts/test.mjs');
    assert.match(fs.readFileSync(path.join(root, '.ci', 'run'), 'utf8'), /^npm test$/m);
  });

  it('the mocha config names no test files (they would be added to every command line\'s)', () => {
    assert.equal(JSON.parse(fs.readFileSync(path.join(root, '.mocharc.json'), 'utf8')).spec, undefined);
  });
});
