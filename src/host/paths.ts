// Where the extension finds what the build put next to its bundle (scripts/build.mjs).

import os from 'node:os';
import path from 'node:path';

export interface BundlePaths {
  workerScript: string;
  /** The importer's worker thread (model manager). */
  importWorkerScript: string;
  ortWasmDir: string;
  /** web-tree-sitter's runtime and the grammars. */
  syntaxDir: string;
  defaultModelDir: string;
}

export function bundlePaths(extensionPath: string): BundlePaths {
  const dist = path.join(extensionPath, 'dist');
  return {
    workerScript: path.join(dist, 'engineWorker.js'),
    importWorkerScript: path.join(dist, 'importWorker.js'),
    ortWasmDir: path.join(dist, 'ort'),
    syntaxDir: path.join(dist, 'syntaxes'),
    defaultModelDir: path.join(dist, 'models', 'default'),
  };
}

/** The model directory for the `flashcode.engine.modelPath` setting: '' means the bundled model;
 *  a leading `~` is the home directory. */
export function resolveModelDir(setting: string, defaultModelDir: string): string {
  const trimmed = setting.trim();
  if (trimmed === '') return defaultModelDir;
  if (trimmed === '~' || trimmed.startsWith('~/') || trimmed.startsWith('~\\')) {
    return path.join(os.homedir(), trimmed.slice(1));
  }
  return path.resolve(trimmed);
}
