import assert from 'node:assert/strict';
import type { ModelInfo } from '../../../src/engine';
import type { EngineState } from '../../../src/host/engineState';
import { describeStatus } from '../../../src/host/statusText';

const info: ModelInfo = { id: 'tiny-fim', displayName: 'Tiny FIM', contextTokens: 512, vocabSize: 512, layers: 2, weightBytes: 1 };
const modelDir = '/models/tiny';

describe('describeStatus', () => {
  const cases: Array<{ name: string; state: EngineState; enabled: boolean; latencyMs?: number; text: string; tooltip: RegExp; isError: boolean }> = [
    { name: 'loading', state: { kind: 'loading', modelDir }, enabled: true, text: '$(sparkle) Flashcode: loading…', tooltip: /loading the model from \/models\/tiny/, isError: false },
    { name: 'ready before any completion', state: { kind: 'ready', modelDir, info }, enabled: true, text: '$(sparkle) Flashcode: ready', tooltip: /model: Tiny FIM \(tiny-fim\)[^]*none yet/, isError: false },
    { name: 'ready with a latency', state: { kind: 'ready', modelDir, info }, enabled: true, latencyMs: 141.6, text: '$(sparkle) Flashcode: ready · 142 ms', tooltip: /Last completion: 142 ms/, isError: false },
    { name: 'off', state: { kind: 'ready', modelDir, info }, enabled: false, latencyMs: 10, text: '$(sparkle) Flashcode: off', tooltip: /Click to turn them on/, isError: false },
    { name: 'error', state: { kind: 'error', modelDir, message: 'ModelFileCorruptError: ffn.bin is corrupt' }, enabled: true, text: '$(sparkle) Flashcode: error', tooltip: /ffn\.bin is corrupt/, isError: true },
    { name: 'error wins over off', state: { kind: 'error', modelDir, message: 'x' }, enabled: false, text: '$(sparkle) Flashcode: error', tooltip: /could not load/, isError: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const view = describeStatus(c.state, c.enabled, c.latencyMs);
      assert.equal(view.text, c.text);
      assert.match(view.tooltip, c.tooltip);
      assert.equal(view.isError, c.isError);
    });
  }
});
