// Scratch directories and tiny GGUF files for the importer's tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeGguf, type TinyModel } from './ggufWriter';

const made: string[] = [];
process.on('exit', () => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A fresh directory under the OS's temp folder, removed when the test process exits. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-import-'));
  made.push(dir);
  return dir;
}

export function writeTiny(m: TinyModel, dir: string, name = 'tiny.gguf'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, writeGguf(m.meta, m.tensors));
  return file;
}
