import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { bundlePaths, resolveModelDir } from '../../../src/host/paths';

describe('paths', () => {
  const ext = path.join(path.sep, 'ext', 'flashcode');

  it('finds the worker, ORT wasm, tree-sitter files and bundled model under dist/, where scripts/build.mjs puts them', () => {
    assert.deepEqual(bundlePaths(ext), {
      workerScript: path.join(ext, 'dist', 'engineWorker.js'),
      importWorkerScript: path.join(ext, 'dist', 'importWorker.js'),
      ortWasmDir: path.join(ext, 'dist', 'ort'),
      syntaxDir: path.join(ext, 'dist', 'syntaxes'),
      defaultModelDir: path.join(ext, 'dist', 'models', 'default'),
    });
  });

  it('resolves flashcode.engine.modelPath', () => {
    const bundled = bundlePaths(ext).defaultModelDir;
    assert.equal(resolveModelDir('', bundled), bundled);
    assert.equal(resolveModelDir('   ', bundled), bundled);
    assert.equal(resolveModelDir('/opt/models/x', bundled), path.resolve('/opt/models/x'));
    assert.equal(resolveModelDir('~/models/x', bundled), path.join(os.homedir(), 'models', 'x'));
    assert.equal(resolveModelDir('~', bundled), os.homedir());
  });
});
