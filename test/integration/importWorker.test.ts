// The importer as the extension runs it: dist/importWorker.js in a worker thread, with progress
// across the thread boundary, named errors kept, and cancel leaving no model directory.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { workerImporter } from '../../src/models/importWorker';
import { distDir } from '../helpers/fixture';
import { tinyModel } from '../helpers/ggufWriter';
import { tempDir, writeTiny } from '../helpers/importFixtures';

describe('import worker (dist/importWorker.js)', () => {
  const script = path.join(distDir, 'importWorker.js');
  before(function () {
    if (!fs.existsSync(script)) throw new Error(`${script} is missing — run npm run build first (npm test does).`);
  });

  it('imports a tiny GGUF with progress and returns the summary', async () => {
    const dir = tempDir();
    const input = writeTiny(tinyModel('qwen2'), dir);
    const seen: number[] = [];
    const summary = await workerImporter(script)(input, path.join(dir, 'out'), new AbortController().signal, (p) => seen.push(p.doneBytes / p.totalBytes));
    assert.equal(summary.architecture.attentionBias, true);
    assert.equal(seen.at(-1), 1);
    assert.ok(fs.existsSync(path.join(dir, 'out', 'manifest.json')));
  });

  it('keeps the importer\'s named error', async () => {
    const dir = tempDir();
    const input = path.join(dir, 'bad.gguf');
    fs.writeFileSync(input, Buffer.from('not a gguf at all, just text'));
    await assert.rejects(workerImporter(script)(input, path.join(dir, 'out'), new AbortController().signal, () => undefined),
      (e: Error) => e.name.startsWith('Checkpoint') && /bad\.gguf/.test(e.message));
  });

  it('cancel: an AbortError and nothing in the output folder', async () => {
    const dir = tempDir();
    const input = writeTiny(tinyModel('llama'), dir);
    const abort = new AbortController();
    await assert.rejects(workerImporter(script)(input, path.join(dir, 'models', 'out'), abort.signal, () => abort.abort()), (e: Error) => e.name === 'AbortError');
    assert.deepEqual(fs.existsSync(path.join(dir, 'models')) ? fs.readdirSync(path.join(dir, 'models')) : [], []);
  });
});
