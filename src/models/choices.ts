// What "Flashcode: Choose Model…" offers, as plain data (the host turns it into quick pick items):
// the bundled model, installed ones, a model set by hand in flashcode.engine.modelPath, the catalog's
// models not yet installed, and the management actions. Also the progress line of an install.
import path from 'node:path';
import type { CatalogEntry } from './catalog';
import { formatBytes } from './errors';
import type { InstallProgress } from './install';
import type { ModelSummary } from './store';

export type ModelChoice =
  | { kind: 'use'; model: ModelSummary; bundled: boolean; inUse: boolean; label: string; description: string }
  | { kind: 'download'; entry: CatalogEntry; label: string; description: string; detail: string }
  | { kind: 'hubRepo' | 'reveal' | 'remove'; label: string; description?: string }
  | { kind: 'separator'; label: string };

export interface ChoicesInput {
  bundled: ModelSummary | undefined;
  installed: ModelSummary[];
  /** A model directory flashcode.engine.modelPath names outside the store. */
  custom: ModelSummary | undefined;
  catalog: CatalogEntry[];
  /** The model directory in use (or being loaded). */
  currentDir: string;
}

export function modelChoices(input: ChoicesInput): ModelChoice[] {
  const same = (a: string, b: string) => path.resolve(a) === path.resolve(b);
  const use = (model: ModelSummary, bundled: boolean): ModelChoice => {
    const inUse = same(model.dir, input.currentDir);
    return { kind: 'use', model, bundled, inUse, label: `${inUse ? '$(check) ' : ''}${model.displayName}${bundled ? ' (bundled)' : ''}`, description: describeModel(model) };
  };
  const choices: ModelChoice[] = [{ kind: 'separator', label: 'Installed' }];
  if (input.bundled) choices.push(use(input.bundled, true));
  for (const m of input.installed) choices.push(use(m, false));
  if (input.custom) choices.push(use(input.custom, false));
  const installedIds = new Set(input.installed.map((m) => path.basename(m.dir)));
  const downloadable = input.catalog.filter((e) => !installedIds.has(e.id));
  choices.push({ kind: 'separator', label: 'Download' });
  for (const entry of downloadable) {
    choices.push({
      kind: 'download', entry, label: `$(cloud-download) ${entry.displayName}`,
      description: `${entry.parameters} parameters · ${entry.licence.name} · FIM: ${entry.fim ? 'yes' : 'no'} · ${entry.recommendedMemoryMB} MB memory recommended`,
      detail: entry.notes,
    });
  }
  choices.push({ kind: 'hubRepo', label: '$(search) Enter a Hugging Face repo id…', description: 'any GGUF or safetensors checkpoint of a Llama, Mistral or Qwen2 model' });
  choices.push({ kind: 'separator', label: 'Manage' });
  choices.push({ kind: 'reveal', label: '$(folder-opened) Reveal Model Folder' });
  choices.push({ kind: 'remove', label: '$(trash) Remove Model…' });
  return choices;
}

/** "146 MB · q8_32 (from Q4_1) · 8192-token context · FIM: no" */
export function describeModel(m: ModelSummary): string {
  return `${formatBytes(m.bytesOnDisk)} · ${m.quantization} · ${m.contextTokens}-token context · FIM: ${m.fim ? 'yes' : 'no'}`;
}

/** Of the whole install's bar: downloading fills it to here, importing does the rest. */
const DOWNLOAD_SHARE = 0.8;

/** The progress notification's line and the share of the whole install done (0–1; undefined while
 *  unknown). One bar for both stages, since a notification's bar only moves forward. */
export function progressLine(p: InstallProgress): { message: string; share: number | undefined } {
  if (p.stage === 'waiting') return { message: `waiting: ${p.why}`, share: undefined };
  if (p.stage === 'import') {
    const share = p.progress.totalBytes > 0 ? p.progress.doneBytes / p.progress.totalBytes : undefined;
    return { message: `importing${share !== undefined ? `: ${Math.floor(share * 100)} %` : '…'}`, share: share === undefined ? undefined : DOWNLOAD_SHARE + (1 - DOWNLOAD_SHARE) * share };
  }
  const { receivedBytes, totalBytes, bytesPerSecond, secondsLeft } = p.progress;
  const of = totalBytes !== undefined ? ` / ${formatBytes(totalBytes)}` : '';
  const rate = bytesPerSecond > 0 ? ` · ${formatBytes(bytesPerSecond)}/s` : '';
  const left = secondsLeft !== undefined && Number.isFinite(secondsLeft) ? ` · ${formatDuration(secondsLeft)} left` : '';
  const file = p.fileCount > 1 ? `${p.file} (${p.fileIndex + 1} of ${p.fileCount}): ` : '';
  const fileShare = totalBytes ? receivedBytes / totalBytes : undefined;
  const share = fileShare === undefined ? undefined : DOWNLOAD_SHARE * (p.fileIndex + fileShare) / p.fileCount;
  return { message: `downloading ${file}${formatBytes(receivedBytes)}${of}${rate}${left}`, share };
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
