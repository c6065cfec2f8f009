// "Flashcode: Choose Model…", "Remove Model…" and "Reveal Model Folder": the editor side of the model
// manager (src/models/). Picking a model points flashcode.engine.modelPath at it; the engine host
// reloads on that change. A download is shown, with size and licence, and confirmed before anything
// is fetched; its progress notification is cancellable; the log says what was fetched from where.
import path from 'node:path';
import * as vscode from 'vscode';
import { isAbort } from '../engine';
import { estimateImportedBytes, shippedCatalog, type CatalogEntry } from '../models/catalog';
import { describeModel, modelChoices, progressLine, type ModelChoice } from '../models/choices';
import { formatBytes } from '../models/errors';
import { checkpointsOf, fileUrl, listRepoFiles, parseRepoId, repoLicence, resolveFromListing, type ResolvedFile } from '../models/hub';
import { workerImporter } from '../models/importWorker';
import { ModelInstaller } from '../models/install';
import { resolveCatalogEntry } from '../models/resolve';
import { describeModelDir, ModelStore, type ModelSummary } from '../models/store';
import type { EngineHost } from './engineHost';
import type { OutputLog } from './output';
import { resolveModelDir } from './paths';
import { readSettings, setModelPath } from './settings';

interface Download {
  id: string;
  displayName: string;
  source: string;
  licence: string;
  licenceUrl?: string;
  files: ResolvedFile[];
  importedBytes?: number;
  recommendedMemoryMB?: number;
}

export class ModelPicker {
  private readonly store: ModelStore;
  private readonly installer: ModelInstaller;

  constructor(storageDir: string, importWorkerScript: string, private readonly defaultModelDir: string, private readonly engineHost: EngineHost, private readonly log: OutputLog) {
    this.store = new ModelStore(storageDir);
    this.installer = new ModelInstaller({ store: this.store, importer: workerImporter(importWorkerScript), log: (m) => log.info(`models: ${m}`) });
    void this.store.removeLeftovers().then((removed) => {
      if (removed.length > 0) log.info(`models: removed what interrupted imports left: ${removed.join(', ')}`);
    }, () => undefined);
  }

  async choose(): Promise<void> {
    const choices = await this.choices();
    type Item = vscode.QuickPickItem & { choice: ModelChoice };
    const items: Item[] = choices.map((choice) => choice.kind === 'separator'
      ? { label: choice.label, kind: vscode.QuickPickItemKind.Separator, choice }
      : { label: choice.label, description: choice.description, detail: choice.kind === 'download' ? choice.detail : undefined, choice });
    const picked = await vscode.window.showQuickPick(items, { title: 'Flashcode: Choose Model', placeHolder: 'The model for completions, Explain and Refactor', matchOnDescription: true });
    if (!picked) return;
    const choice = picked.choice;
    try {
      switch (choice.kind) {
        case 'use': return await this.use(choice.model, choice.bundled);
        case 'download': return await this.downloadCatalogEntry(choice.entry);
        case 'hubRepo': return await this.downloadFromRepo();
        case 'reveal': return await this.reveal();
        case 'remove': return await this.remove();
      }
    } catch (error) {
      this.log.error(error, 'the model manager');
    }
  }

  async remove(): Promise<void> {
    const current = this.currentDir();
    const { models } = await this.store.list();
    const removable = models.filter((m) => path.resolve(m.dir) !== path.resolve(current));
    const partial = (await this.store.listPartial()).filter((p) => !this.installer.installing(p.id));
    if (removable.length === 0 && partial.length === 0) {
      void vscode.window.showInformationMessage(models.length === 0
        ? 'Flashcode: no downloaded models to remove (the bundled model cannot be removed).'
        : 'Flashcode: the only downloaded model is the one in use — choose another model first (Flashcode: Choose Model…).');
      return;
    }
    type Item = vscode.QuickPickItem & ({ model: ModelSummary } | { partial: { id: string; dir: string; bytes: number } });
    const items: Item[] = [
      ...removable.map((m) => ({ label: m.displayName, description: describeModel(m), model: m })),
      ...partial.map((p) => ({ label: `$(cloud-download) Partial download: ${p.id}`, description: `${formatBytes(p.bytes)} kept so that choosing it again resumes`, partial: p })),
    ];
    const picked = await vscode.window.showQuickPick(items, {
      title: 'Flashcode: Remove Model', placeHolder: 'Downloaded models (not the bundled one, not the one in use) and unfinished downloads',
    });
    if (!picked) return;
    if ('partial' in picked) {
      try {
        await this.store.removePartial(picked.partial.id);
        this.log.info(`models: removed the partial download ${picked.partial.dir} (${formatBytes(picked.partial.bytes)})`);
      } catch (error) {
        this.log.error(error, `removing ${picked.partial.dir}`);
      }
      return;
    }
    const confirm = await vscode.window.showWarningMessage(`Remove ${picked.model.displayName}? This deletes ${formatBytes(picked.model.bytesOnDisk)} in ${picked.model.dir}.`, { modal: true }, 'Remove');
    if (confirm !== 'Remove') return;
    // Checked again: the model in use may have changed while the dialog was open.
    if (path.resolve(picked.model.dir) === path.resolve(this.currentDir())) {
      void vscode.window.showWarningMessage('Flashcode: that model is now in use — choose another model first.');
      return;
    }
    try {
      await this.store.remove(picked.model.dir);
      this.log.info(`models: removed ${picked.model.displayName} (${picked.model.dir})`);
    } catch (error) {
      this.log.error(error, `removing ${picked.model.dir}`);
    }
  }

  async reveal(): Promise<void> {
    await vscode.workspace.fs.createDirectory(vscode.Uri.file(this.store.modelsDir));
    this.log.info(`models: downloaded models are in ${this.store.modelsDir}`);
    await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(this.store.modelsDir));
  }

  private currentDir(): string {
    const state = this.engineHost.state;
    return state.modelDir !== '' ? state.modelDir : resolveModelDir(readSettings().engine.modelPath, this.defaultModelDir);
  }

  private async choices(): Promise<ModelChoice[]> {
    const current = this.currentDir();
    const [bundled, { models }] = await Promise.all([describeModelDir(this.defaultModelDir).catch(() => undefined), this.store.list()]);
    const known = [this.defaultModelDir, ...models.map((m) => m.dir)].map((d) => path.resolve(d));
    const custom = known.includes(path.resolve(current)) ? undefined : await describeModelDir(current).catch(() => undefined);
    return modelChoices({ bundled, installed: models, custom, catalog: shippedCatalog(), currentDir: current });
  }

  private async use(model: ModelSummary, bundled: boolean): Promise<void> {
    this.log.info(`models: switching to ${model.displayName} (${model.dir})`);
    await setModelPath(bundled ? '' : model.dir);
  }

  private async downloadCatalogEntry(entry: CatalogEntry): Promise<void> {
    const { hubUrl } = readSettings().models;
    const files = await this.withCancel(`Flashcode: looking up ${entry.displayName} on ${new URL(hubUrl).host}…`, (signal) =>
      resolveCatalogEntry(entry, hubUrl, { signal, log: (m) => this.log.info(`models: ${m}`) }));
    if (!files) return;
    await this.confirmAndInstall({
      id: entry.id, displayName: entry.displayName, source: `${entry.repo} on ${new URL(hubUrl).host}`, licence: entry.licence.name, licenceUrl: entry.licence.url,
      files, importedBytes: entry.importedBytes, recommendedMemoryMB: entry.recommendedMemoryMB,
    });
  }

  private async downloadFromRepo(): Promise<void> {
    const input = await vscode.window.showInputBox({
      title: 'Flashcode: Download from Hugging Face', prompt: 'A model repo id (owner/name) or its URL: Flashcode lists its GGUF and safetensors checkpoints',
      placeHolder: 'Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF', ignoreFocusOut: true,
      validateInput: (v) => v.trim() === '' || parseRepoId(v) ? undefined : 'Write owner/name, e.g. Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF',
    });
    const repo = input !== undefined ? parseRepoId(input) : undefined;
    if (!repo) return;
    const { hubUrl } = readSettings().models;
    const log = (m: string) => this.log.info(`models: ${m}`);
    const found = await this.withCancel(`Flashcode: listing ${repo}…`, async (signal) => {
      const [files, licence] = await Promise.all([listRepoFiles(hubUrl, repo, 'main', { signal, log }), repoLicence(hubUrl, repo, { signal, log }).catch(() => undefined)]);
      return { files, licence };
    });
    if (!found) return;
    const offers = checkpointsOf(found.files);
    if (offers.length === 0) {
      void vscode.window.showWarningMessage(`Flashcode: ${repo} has no GGUF file and no complete safetensors checkpoint (config.json, tokenizer.json, *.safetensors) — pick another repo.`);
      return;
    }
    const picked = await vscode.window.showQuickPick(offers.map((o) => ({ label: o.label, description: `${formatBytes(o.bytes)}${o.kind === 'gguf' ? '' : ' · safetensors'}`, offer: o })), {
      title: `Flashcode: ${repo}`, placeHolder: 'The checkpoint to download and import (8-bit after import; a Q8_0 or F16 file loses the least)',
    });
    if (!picked) return;
    const files = resolveFromListing(repo, found.files, picked.offer.files.map((f) => ({ path: f.path })), (p) => fileUrl(hubUrl, repo, 'main', p));
    const stem = picked.offer.kind === 'gguf' ? picked.offer.label.replace(/\.gguf$/i, '') : 'safetensors';
    const id = `${repo}--${stem}`.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').slice(0, 120);
    await this.confirmAndInstall({ id, displayName: `${repo} (${picked.offer.label})`, source: `${repo} on ${new URL(hubUrl).host}`, licence: found.licence ?? 'not declared by the repo', licenceUrl: `${hubUrl}/${repo}`, files });
  }

  private async confirmAndInstall(d: Download): Promise<void> {
    const downloadBytes = d.files.reduce((s, f) => s + f.bytes, 0);
    const imported = d.importedBytes ?? estimateImportedBytes(d.files);
    const detail = [
      `Download: ${formatBytes(downloadBytes)} from ${d.source}.`,
      `Licence: ${d.licence}${d.licenceUrl ? ` (${d.licenceUrl})` : ''}.`,
      `On disk after import: ${d.importedBytes ? '' : 'about '}${formatBytes(imported)} (the download is deleted once imported).`,
      ...(d.recommendedMemoryMB ? [`Recommended memory: ${d.recommendedMemoryMB} MB.`] : []),
      'Every file is checked against its sha256 before it is used.',
    ].join('\n');
    const actions = d.licenceUrl ? ['Download', 'View Licence'] : ['Download'];
    const answer = await vscode.window.showInformationMessage(`Download ${d.displayName}?`, { modal: true, detail }, ...actions);
    if (answer === 'View Licence' && d.licenceUrl) {
      await vscode.env.openExternal(vscode.Uri.parse(d.licenceUrl));
      return;
    }
    if (answer !== 'Download') return;
    this.log.info(`models: downloading ${d.displayName}: ${d.files.map((f) => f.url).join(', ')}`);
    const model = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Flashcode: ${d.displayName}`, cancellable: true }, async (progress, token) => {
      const abort = new AbortController();
      const subscription = token.onCancellationRequested(() => abort.abort());
      let reported = 0;
      try {
        return await this.installer.install({
          id: d.id, files: d.files, importedBytes: d.importedBytes, signal: abort.signal,
          onProgress: (p) => {
            const { message, share } = progressLine(p);
            // withProgress adds up increments.
            const target = share === undefined ? reported : Math.max(reported, Math.round(share * 100));
            progress.report({ message, increment: target - reported });
            reported = target;
          },
        });
      } finally {
        subscription.dispose();
      }
    }).then((m) => m, (error: unknown) => {
      if (isAbort(error)) {
        this.log.info(`models: ${d.displayName}: cancelled`);
        void vscode.window.showInformationMessage(`Flashcode: ${d.displayName} was not installed. What was downloaded is kept: choosing it again resumes the download.`);
      } else {
        this.log.error(error, `installing ${d.displayName}`);
      }
      return undefined;
    });
    if (!model) return;
    await this.use(model, false);
    void vscode.window.showInformationMessage(`Flashcode: now using ${model.displayName} (${describeModel(model)}).`);
  }

  /** Runs `work` under a cancellable notification; undefined when cancelled or failed (logged). */
  private async withCancel<T>(title: string, work: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (_progress, token) => {
      const abort = new AbortController();
      const subscription = token.onCancellationRequested(() => abort.abort());
      try {
        return await work(abort.signal);
      } catch (error) {
        this.log.error(error, title.replace(/^Flashcode: /, '').replace(/…$/, ''));
        return undefined;
      } finally {
        subscription.dispose();
      }
    });
  }
}
