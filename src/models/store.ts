// Where the model manager keeps things, under the extension's global storage:
//   models/<id>/                 installed (imported) model directories; only complete ones appear
//   downloads/<id>/<file>[.part] checkpoints being downloaded (kept across restarts for a resume)
//   downloads/<id>.lock          the process downloading <id> (another VS Code window waits on it)
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseManifest } from '../engine/manifest';

export interface ModelSummary {
  dir: string;
  id: string;
  displayName: string;
  contextTokens: number;
  fim: boolean;
  /** 'q8_32 (from Q4_1)' for an import, 'int8 FFN' style text for the bundled v1 format. */
  quantization: string;
  bytesOnDisk: number;
}

export class ModelStore {
  constructor(readonly root: string) {}

  get modelsDir(): string {
    return path.join(this.root, 'models');
  }

  get downloadsDir(): string {
    return path.join(this.root, 'downloads');
  }

  modelDir(id: string): string {
    return path.join(this.modelsDir, id);
  }

  /** Installed models, by display name; a directory whose manifest cannot be read is left out
   *  (`broken` names it so the picker can offer to remove it). */
  async list(): Promise<{ models: ModelSummary[]; broken: string[] }> {
    const names = await fs.readdir(this.modelsDir).catch(() => [] as string[]);
    const models: ModelSummary[] = [];
    const broken: string[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue; // the importer's temporary directories
      const dir = path.join(this.modelsDir, name);
      const summary = await describeModelDir(dir).catch(() => undefined);
      if (summary) models.push(summary);
      else broken.push(dir);
    }
    return { models: models.sort((a, b) => a.displayName.localeCompare(b.displayName)), broken };
  }

  /** Deletes an installed model. Refuses anything outside models/ (a setting pointing elsewhere). */
  async remove(dir: string): Promise<void> {
    const relative = path.relative(this.modelsDir, path.resolve(dir));
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative) || relative.includes(path.sep)) {
      throw new Error(`${dir} is not a model Flashcode installed (those are in ${this.modelsDir}) — delete it yourself if you no longer need it.`);
    }
    // Renamed first, so a half-deleted directory is never listed as a model.
    const doomed = path.join(this.modelsDir, `.removing-${path.basename(dir)}-${process.pid}-${Date.now()}`);
    await fs.rename(dir, doomed);
    await fs.rm(doomed, { recursive: true, force: true });
  }

  /** Checkpoints downloaded in part (kept so that choosing the model again resumes), with their size. */
  async listPartial(): Promise<{ id: string; dir: string; bytes: number }[]> {
    const names = await fs.readdir(this.downloadsDir, { withFileTypes: true }).catch(() => []);
    const out: { id: string; dir: string; bytes: number }[] = [];
    for (const entry of names) {
      if (!entry.isDirectory()) continue;
      const dir = path.join(this.downloadsDir, entry.name);
      const files = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
      let bytes = 0;
      for (const f of files) if (f.isFile()) bytes += (await fs.stat(path.join(f.parentPath, f.name)).catch(() => undefined))?.size ?? 0;
      if (bytes > 0) out.push({ id: entry.name, dir, bytes });
    }
    return out;
  }

  /** Deletes a partial download, unless a live process (another window) is downloading it now. */
  async removePartial(id: string, isRunning: (pid: number) => boolean = processRunning): Promise<void> {
    const dir = path.join(this.downloadsDir, id);
    if (path.dirname(dir) !== this.downloadsDir) throw new Error(`${id} is not a download of Flashcode's`);
    const holder = Number((JSON.parse(await fs.readFile(`${dir}.lock`, 'utf8').catch(() => '{}')) as { pid?: unknown }).pid);
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isRunning(holder)) {
      throw new Error(`${id} is being downloaded by another VS Code window (process ${holder}) — cancel it there first.`);
    }
    await fs.rm(dir, { recursive: true, force: true });
  }

  /** Removes what an interrupted import or removal left (dot-prefixed directories in models/) when
   *  no process is still writing them. */
  async removeLeftovers(isRunning: (pid: number) => boolean = processRunning): Promise<string[]> {
    const names = await fs.readdir(this.modelsDir).catch(() => [] as string[]);
    const removed: string[] = [];
    for (const name of names) {
      const pid = /^\.(?:.+\.importing|removing-.+)-(\d+)-/.exec(name)?.[1];
      if (pid === undefined || isRunning(Number(pid))) continue;
      await fs.rm(path.join(this.modelsDir, name), { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }
}

export async function describeModelDir(dir: string): Promise<ModelSummary> {
  const manifest = parseManifest(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8'));
  let bytesOnDisk = 0;
  for (const name of ['manifest.json', ...Object.keys(manifest.files)]) {
    bytesOnDisk += (await fs.stat(path.join(dir, name)).catch(() => undefined))?.size ?? 0;
  }
  const quantization = manifest.formatVersion === 2
    ? (manifest.source ? `${manifest.quantization} (from ${manifest.source.quantization})` : manifest.quantization)
    : 'f32 graphs, int8 FFN';
  return { dir, id: manifest.id, displayName: manifest.displayName, contextTokens: manifest.contextTokens, fim: manifest.fim !== undefined, quantization, bytesOnDisk };
}

export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}
