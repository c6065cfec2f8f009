// What Choose Model offers and how an install's progress reads.
import assert from 'node:assert/strict';
import { shippedCatalog } from '../../../src/models/catalog';
import { formatDuration, modelChoices, progressLine } from '../../../src/models/choices';
import type { ModelSummary } from '../../../src/models/store';

const summary = (dir: string, over: Partial<ModelSummary> = {}): ModelSummary => ({
  dir, id: dir, displayName: dir.split('/').at(-1)!, contextTokens: 8192, fim: false, quantization: 'q8_32 (from Q4_1)', bytesOnDisk: 152_819_183, ...over,
});

describe('model choices', () => {
  const bundled = summary('/ext/dist/models/default', { displayName: 'Flashcode code v1', contextTokens: 512, fim: true, quantization: 'f32 graphs, int8 FFN', bytesOnDisk: 20_000_000 });
  const smol = summary('/storage/models/smollm2-135m-instruct-q4_1', { displayName: 'SmolLM2-135M-Instruct.Q4_1' });

  it('bundled and installed first (the one in use checked, with size, quantization, context and FIM), then the catalog less what is installed, then the actions', () => {
    const choices = modelChoices({ bundled, installed: [smol], custom: undefined, catalog: shippedCatalog(), currentDir: smol.dir });
    assert.deepEqual(choices.map((c) => [c.kind, c.label]), [
      ['separator', 'Installed'],
      ['use', 'Flashcode code v1 (bundled)'],
      ['use', '$(check) SmolLM2-135M-Instruct.Q4_1'],
      ['separator', 'Download'],
      ['download', '$(cloud-download) SmolLM2 360M Instruct (Q8_0)'],
      ['download', '$(cloud-download) Qwen2.5-Coder 0.5B Instruct (Q8_0)'],
      ['download', '$(cloud-download) Qwen2.5-Coder 1.5B Instruct (Q8_0)'],
      ['hubRepo', '$(search) Enter a Hugging Face repo id…'],
      ['separator', 'Manage'],
      ['reveal', '$(folder-opened) Reveal Model Folder'],
      ['remove', '$(trash) Remove Model…'],
    ]);
    const installed = choices.filter((c) => c.kind === 'use');
    assert.equal(installed[0].kind === 'use' && installed[0].description, '19.1 MB · f32 graphs, int8 FFN · 512-token context · FIM: yes');
    assert.equal(installed[1].kind === 'use' && installed[1].description, '145.7 MB · q8_32 (from Q4_1) · 8192-token context · FIM: no');
    const qwen = choices.find((c) => c.kind === 'download' && c.entry.id.startsWith('qwen2.5-coder-0.5b'));
    assert.match(qwen?.kind === 'download' ? qwen.description : '', /0\.5B parameters · Apache-2\.0 · FIM: yes · 1536 MB memory recommended/);
  });

  it('a model set by hand in flashcode.engine.modelPath is listed as in use', () => {
    const custom = summary('/home/me/my-model');
    const choices = modelChoices({ bundled, installed: [], custom, catalog: [], currentDir: custom.dir });
    assert.deepEqual(choices.filter((c) => c.kind === 'use').map((c) => c.label), ['Flashcode code v1 (bundled)', '$(check) my-model']);
  });
});

describe('install progress line', () => {
  it('bytes, rate and time left while downloading; one bar for download (80 %) and import (20 %)', () => {
    const line = progressLine({ stage: 'download', file: 'a.gguf', fileIndex: 0, fileCount: 1, progress: { receivedBytes: 50 * 2 ** 20, totalBytes: 100 * 2 ** 20, bytesPerSecond: 2.5 * 2 ** 20, secondsLeft: 20 } });
    assert.deepEqual(line, { message: 'downloading 50.0 MB / 100.0 MB · 2.5 MB/s · 20 s left', share: 0.4 });
    assert.deepEqual(progressLine({ stage: 'import', progress: { doneBytes: 1, totalBytes: 2 } }), { message: 'importing: 50 %', share: 0.9 });
    assert.equal(progressLine({ stage: 'download', file: 'b', fileIndex: 1, fileCount: 2, progress: { receivedBytes: 0, totalBytes: undefined, bytesPerSecond: 0, secondsLeft: undefined } }).message, 'downloading b (2 of 2): 0 B');
    assert.equal(progressLine({ stage: 'waiting', why: 'another VS Code window is downloading this model' }).share, undefined);
  });

  it('durations', () => {
    assert.deepEqual([formatDuration(4.4), formatDuration(75), formatDuration(3 * 3600 + 120)], ['4 s', '1 min 15 s', '3 h 2 min']);
  });
});
