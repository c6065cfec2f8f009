import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readTextFile } from '../../../src/common/readTextFile';

describe('readTextFile: what the CLI reads, bounded like the editor', () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flashcode-read-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads a file, dropping a byte-order mark', () => {
    const f = path.join(dir, 'a.ts');
    fs.writeFileSync(f, '\uFEFFconst a = "👋";\n');
    assert.equal(readTextFile(f), 'const a = "👋";\n');
  });

  for (const [what, file, message] of [
    ['/dev/zero', '/dev/zero', /\/dev\/zero is not a regular file \(a device, pipe or socket\) — give the path of a source file/],
    ['a folder', os.tmpdir(), /is not a regular file \(a folder\)/],
  ] as const) {
    it(`refuses ${what} at once`, () => {
      const t0 = performance.now();
      assert.throws(() => readTextFile(file), message);
      assert.ok(performance.now() - t0 < 1000);
    });
  }

  it('refuses a pipe without waiting for a writer', () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    assert.throws(() => readTextFile(fifo), /is not a regular file/);
  });

  it('refuses a file over the limit by its size, without reading it', () => {
    const f = path.join(dir, 'big.txt');
    fs.writeFileSync(f, '');
    fs.truncateSync(f, 60 * 1024 * 1024); // sparse: no disk used
    assert.throws(() => readTextFile(f), /is 60\.0 MB, more than the 50 MB the editor would open/);
  });

  it('stops a file whose size lies (procfs says 0) at the limit', () => {
    assert.throws(() => readTextFile('/proc/self/maps', 16), /is more than the .* MB the editor would open/);
  });
});
