import { fakeVscode } from '../../helpers/fakeVscode';
import assert from 'node:assert/strict';
import { affectsEngine, readSettings, setModelPath } from '../../../src/host/settings';

const changed = (...keys: string[]) => ({
  affectsConfiguration: (section: string) => keys.some((key) => key === section || key.startsWith(`${section}.`)),
}) as Parameters<typeof affectsEngine>[0];

describe('readSettings: engine', () => {
  afterEach(() => fakeVscode.settings.clear());

  it('defaults: sparse FFN within the automatic budget (0), a 5-token neuron window, the backend chosen automatically', () => {
    assert.deepEqual(readSettings().engine, { modelPath: '', threads: 2, sparseFfn: true, memoryBudgetMB: 0, neuronWindowTokens: 5, backend: 'auto' });
  });

  it('reads the backend, and takes auto for anything it does not name', () => {
    fakeVscode.settings.set('flashcode.engine.backend', 'webgpu');
    assert.equal(readSettings().engine.backend, 'webgpu');
    fakeVscode.settings.set('flashcode.engine.backend', 'cuda');
    assert.equal(readSettings().engine.backend, 'auto');
  });

  it('reads the user\'s values, numbers within their bounds', () => {
    fakeVscode.settings.set('flashcode.engine.sparseFfn', false);
    fakeVscode.settings.set('flashcode.engine.memoryBudgetMB', -8);
    fakeVscode.settings.set('flashcode.engine.neuronWindowTokens', 1000);
    const { sparseFfn, memoryBudgetMB, neuronWindowTokens } = readSettings().engine;
    assert.deepEqual({ sparseFfn, memoryBudgetMB, neuronWindowTokens }, { sparseFfn: false, memoryBudgetMB: 0, neuronWindowTokens: 64 });
  });

  it('falls back to the defaults for values of the wrong type', () => {
    fakeVscode.settings.set('flashcode.engine.sparseFfn', 'no');
    fakeVscode.settings.set('flashcode.engine.memoryBudgetMB', '512');
    const { sparseFfn, memoryBudgetMB } = readSettings().engine;
    assert.deepEqual({ sparseFfn, memoryBudgetMB }, { sparseFfn: true, memoryBudgetMB: 0 });
  });
});

describe('affectsEngine', () => {
  const cases: Array<[keys: string[], reloads: boolean]> = [
    [['flashcode.engine.modelPath'], true],
    [['flashcode.engine.threads'], true],
    [['flashcode.engine.sparseFfn'], true],
    [['flashcode.engine.memoryBudgetMB'], true],
    [['flashcode.engine.neuronWindowTokens'], true],
    [['flashcode.engine.backend'], true],
    [['flashcode.completion.maxTokens'], false],
    [['editor.fontSize'], false],
  ];
  for (const [keys, reloads] of cases) {
    it(`${keys.join(', ')}: ${reloads ? 'reloads' : 'keeps'} the model`, () => assert.equal(affectsEngine(changed(...keys)), reloads));
  }
});

describe('readSettings: models', () => {
  afterEach(() => fakeVscode.settings.clear());

  it('hubUrl: the hub by default, a mirror without its trailing slash, the default for anything not http(s)', () => {
    assert.equal(readSettings().models.hubUrl, 'https://huggingface.co');
    fakeVscode.settings.set('flashcode.models.hubUrl', ' https://hf-mirror.example/ ');
    assert.equal(readSettings().models.hubUrl, 'https://hf-mirror.example');
    fakeVscode.settings.set('flashcode.models.hubUrl', 'file:///etc');
    assert.equal(readSettings().models.hubUrl, 'https://huggingface.co');
  });

  it('setModelPath writes flashcode.engine.modelPath, which reloads the engine', async () => {
    await setModelPath('/models/x');
    assert.equal(readSettings().engine.modelPath, '/models/x');
    assert.equal(affectsEngine(changed('flashcode.engine.modelPath')), true);
  });
});
