// A model directory on disk: manifest parsed, every listed file present with the right size and
// sha256, so a bad download or a truncated file is named at load time. Every file name stays
// inside the directory (no `..`, no absolute path, no symlink out of it), whatever manifest
// version named it, and filesystem failures (no permission, a directory) are named errors.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ModelFileCorruptError, ModelFileMissingError, ModelFileUnreadableError, ModelManifestInvalidError } from './errors';
import { parseManifest, type Manifest } from './manifest';

export interface ModelDir {
  dir: string;
  manifest: Manifest;
  file(name: string): string;
  /** Optional files (predictors.bin) that failed their size or checksum check: the model loads
   *  without them, and the engine says why once. */
  optionalFileErrors: Map<string, Error>;
}

/** A manifest's file name as a path inside `dir`; throws for one that could name a file elsewhere. */
export function modelFilePath(dir: string, name: string): string {
  const parts = name.split(/[\\/]/);
  if (name === '' || path.isAbsolute(name) || path.win32.isAbsolute(name) || parts.some((p) => p === '..' || p === '.' || p === '') || name.includes('\0')) {
    throw new ModelManifestInvalidError(`files (${JSON.stringify(name.slice(0, 80))})`, 'must be a plain relative file name inside the model directory (no "..", no absolute path)');
  }
  return path.join(dir, name);
}

/** Reads a model file, naming what went wrong in words (and what to do) rather than an errno. */
export async function readModelFile(file: string, encoding: 'utf8'): Promise<string> {
  try {
    return await fs.readFile(file, encoding);
  } catch (e) {
    throw modelFileError(e, path.basename(file), path.dirname(file));
  }
}

/** An errno from reading model file `name` as a named error. */
export function modelFileError(e: unknown, name: string, dir: string): Error {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new ModelFileMissingError(name, dir);
  if (code === 'EACCES' || code === 'EPERM') return new ModelFileUnreadableError(name, dir, 'cannot be read: permission denied', 'give your user read permission on the model directory and its files (chmod -R u+rX), or reinstall the model');
  if (code === 'EISDIR') return new ModelFileUnreadableError(name, dir, 'is a directory, not a file', 'reinstall the model or re-export it');
  if (e instanceof Error && code) return new ModelFileUnreadableError(name, dir, `cannot be read (${code})`, 'check the disk and reinstall the model');
  return e as Error;
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Files whose sha256 matched the manifest, with the size and modification time they had then:
 *  a file unchanged since is trusted without hashing it again (hashing a 150 MB model took a
 *  third of its load). Written beside the files when the directory is writable. */
const VERIFIED_FILE = '.flashcode-verified.json';
type Verified = Record<string, { bytes: number; mtimeMs: number; sha256: string }>;

async function readVerified(dir: string): Promise<Verified> {
  try {
    const v = JSON.parse(await fs.readFile(path.join(dir, VERIFIED_FILE), 'utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Verified : {};
  } catch {
    return {};
  }
}

/** A regular file inside `realDir` once symlinks are resolved; its size and modification time. */
async function statInside(realDir: string, dir: string, name: string): Promise<{ size: number; mtimeMs: number }> {
  const file = modelFilePath(dir, name);
  let real: string;
  let stat;
  try {
    real = await fs.realpath(file);
    stat = await fs.stat(real);
  } catch (e) {
    throw modelFileError(e, name, dir);
  }
  if (path.relative(realDir, real).startsWith('..') || path.isAbsolute(path.relative(realDir, real))) {
    throw new ModelFileUnreadableError(name, dir, 'is a link to a file outside the model directory', 'copy the file into the model directory instead of linking it');
  }
  if (stat.isDirectory()) throw modelFileError(Object.assign(new Error(), { code: 'EISDIR' }), name, dir);
  if (!stat.isFile()) throw new ModelFileUnreadableError(name, dir, 'is not a regular file', 'reinstall the model or re-export it');
  return { size: stat.size, mtimeMs: Math.trunc(stat.mtimeMs) };
}

export async function openModelDir(dir: string): Promise<ModelDir> {
  let realDir: string;
  try {
    realDir = await fs.realpath(dir);
    await fs.access(realDir, fs.constants.R_OK | fs.constants.X_OK);
  } catch (e) {
    throw modelFileError(e, 'manifest.json', dir);
  }
  const manifestPath = path.join(dir, 'manifest.json');
  await statInside(realDir, dir, 'manifest.json');
  const manifest = parseManifest(await readModelFile(manifestPath, 'utf8'));
  const optional = new Set(manifest.predictors ? [manifest.predictors.file] : []);
  const optionalFileErrors = new Map<string, Error>();
  for (const name of Object.keys(manifest.files)) modelFilePath(dir, name); // every name, before any file is touched
  const verified = await readVerified(dir);
  let newlyVerified = false;
  for (const [name, { bytes, sha256 }] of Object.entries(manifest.files)) {
    try {
      const { size, mtimeMs } = await statInside(realDir, dir, name);
      if (size !== bytes) throw new ModelFileCorruptError(name, `truncated or resized: ${size} bytes, manifest says ${bytes}`);
      const known = verified[name];
      if (known && known.sha256 === sha256 && known.bytes === size && known.mtimeMs === mtimeMs) continue;
      const actual = await sha256OfFile(modelFilePath(dir, name)).catch((e: unknown) => { throw modelFileError(e, name, dir); });
      if (actual !== sha256) throw new ModelFileCorruptError(name, 'checksum mismatch');
      verified[name] = { bytes: size, mtimeMs, sha256 };
      newlyVerified = true;
    } catch (e) {
      if (!optional.has(name)) throw e;
      optionalFileErrors.set(name, e as Error);
    }
  }
  if (newlyVerified) await fs.writeFile(path.join(dir, VERIFIED_FILE), JSON.stringify(verified)).catch(() => undefined); // read-only: verify next time too
  return { dir, manifest, file: (name) => modelFilePath(dir, name), optionalFileErrors };
}
