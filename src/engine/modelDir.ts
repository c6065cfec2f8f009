// A model directory on disk: manifest parsed, every listed file present with the right size and
// sha256, so a bad download or a truncated file is named at load time.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ModelFileCorruptError, ModelFileMissingError } from './errors';
import { parseManifest, type Manifest } from './manifest';

export interface ModelDir {
  dir: string;
  manifest: Manifest;
  file(name: string): string;
  /** Optional files (predictors.bin) that failed their size or checksum check: the model loads
   *  without them, and the engine says why once. */
  optionalFileErrors: Map<string, Error>;
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function statOrMissing(file: string, name: string, dir: string) {
  try {
    return await fs.stat(file);
  } catch {
    throw new ModelFileMissingError(name, dir);
  }
}

export async function openModelDir(dir: string): Promise<ModelDir> {
  const manifestPath = path.join(dir, 'manifest.json');
  await statOrMissing(manifestPath, 'manifest.json', dir);
  const manifest = parseManifest(await fs.readFile(manifestPath, 'utf8'));
  const optional = new Set(manifest.predictors ? [manifest.predictors.file] : []);
  const optionalFileErrors = new Map<string, Error>();
  for (const [name, { bytes, sha256 }] of Object.entries(manifest.files)) {
    try {
      const file = path.join(dir, name);
      const stat = await statOrMissing(file, name, dir);
      if (stat.size !== bytes) throw new ModelFileCorruptError(name, `truncated or resized: ${stat.size} bytes, manifest says ${bytes}`);
      const actual = await sha256OfFile(file);
      if (actual !== sha256) throw new ModelFileCorruptError(name, 'checksum mismatch');
    } catch (e) {
      if (!optional.has(name)) throw e;
      optionalFileErrors.set(name, e as Error);
    }
  }
  return { dir, manifest, file: (name) => path.join(dir, name), optionalFileErrors };
}
