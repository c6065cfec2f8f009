import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseStartArgs, prepareSampleWorkspace } from '../../../scripts/start-options.mjs';

describe('npm start options', () => {
  it('reads --no-build, --verbose and --reset', () => {
    assert.deepEqual(parseStartArgs([]), { build: true, verbose: false, reset: false });
    assert.deepEqual(parseStartArgs(['--no-build', '--verbose', '--reset']), { build: false, verbose: true, reset: true });
  });

  it('refuses an unknown argument, naming the ones it knows', () => {
    assert.throws(() => parseStartArgs(['--rest']), /unknown argument "--rest"[\s\S]*--reset[\s\S]*npm start -- --reset/);
  });
});

describe('npm start: the sample workspace', () => {
  let dir: string;
  let sample: string;
  let workspace: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flashcode-start-'));
    sample = path.join(dir, 'sample');
    workspace = path.join(dir, 'workspace');
    fs.mkdirSync(path.join(sample, 'src'), { recursive: true });
    fs.writeFileSync(path.join(sample, 'shapes.ts'), 'export const pi = 3.14;\n');
    fs.writeFileSync(path.join(sample, 'src', 'stats.py'), 'def mean(xs):\n');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function edit(): void {
    // What a session of typing with auto-save leaves behind: an edited file, a new one, a deleted one.
    fs.writeFileSync(path.join(workspace, 'shapes.ts'), 'export const pi = 3.14;\nfunction experiment() {}\n');
    fs.writeFileSync(path.join(workspace, 'scratch.py'), 'print(1)\n');
    fs.rmSync(path.join(workspace, 'src', 'stats.py'));
  }

  it('is copied from the sample on the first run', () => {
    assert.equal(prepareSampleWorkspace(sample, workspace), 'created');
    assert.equal(fs.readFileSync(path.join(workspace, 'src', 'stats.py'), 'utf8'), 'def mean(xs):\n');
  });

  it('keeps your edits between runs', () => {
    prepareSampleWorkspace(sample, workspace);
    edit();
    assert.equal(prepareSampleWorkspace(sample, workspace), 'kept');
    assert.match(fs.readFileSync(path.join(workspace, 'shapes.ts'), 'utf8'), /experiment/);
  });

  it('--reset restores it exactly: edits undone, added files gone, deleted files back', () => {
    prepareSampleWorkspace(sample, workspace);
    edit();
    assert.equal(prepareSampleWorkspace(sample, workspace, { reset: true }), 'reset');
    assert.deepEqual(fs.readdirSync(workspace, { recursive: true }).sort(), ['shapes.ts', 'src', path.join('src', 'stats.py')]);
    assert.equal(fs.readFileSync(path.join(workspace, 'shapes.ts'), 'utf8'), 'export const pi = 3.14;\n');
    assert.equal(fs.readFileSync(path.join(workspace, 'src', 'stats.py'), 'utf8'), 'def mean(xs):\n');
  });

  it('a missing sample is an error that says how to get it back', () => {
    assert.throws(() => prepareSampleWorkspace(path.join(dir, 'gone'), workspace), /missing: restore it with git checkout/);
  });
});
