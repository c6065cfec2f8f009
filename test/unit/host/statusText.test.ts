import assert from 'node:assert/strict';
import type { Gate } from '../../../src/common/completionGate';
import type { ModelInfo } from '../../../src/engine';
import type { EngineState } from '../../../src/host/engineState';
import { decodeTokensPerSecond, describeStatus, lastCompletion, type LastCompletion } from '../../../src/host/statusText';

const info: ModelInfo = { id: 'tiny-fim', displayName: 'Tiny FIM', contextTokens: 512, vocabSize: 512, layers: 2, weightBytes: 1, ffn: { mode: 'dense' }, backend: 'WebAssembly SIMD kernels', threads: 1, fim: true };
const modelDir = '/models/tiny';
const ready: EngineState = { kind: 'ready', modelDir, info, threads: 1 };
const withFfn = (ffn: ModelInfo['ffn']): EngineState => ({ ...ready, info: { ...info, ffn } });
const on: Gate = { kind: 'on', batterySaving: false };
const fromEngine: LastCompletion = { latencyMs: 41.6, source: 'engine', empty: false, promptTokens: 312, tokensPerSecond: 180.4 };

describe('describeStatus', () => {
  const cases: Array<{ name: string; state: EngineState; gate?: Gate; last?: LastCompletion; text: string; tooltip: RegExp; isError: boolean }> = [
    { name: 'loading', state: { kind: 'loading', modelDir }, text: '$(sparkle) Flashcode: loading…', tooltip: /loading the model from \/models\/tiny/, isError: false },
    { name: 'ready before any completion', state: ready, text: '$(sparkle) Flashcode: ready', tooltip: /Model: Tiny FIM \(tiny-fim\), reads at most 512 tokens at a time \(prompt and answer together\)\nBackend: WebAssembly SIMD kernels, 1 thread, in a worker thread\nFFN: dense\nPrompts: [^\n]*\nLast completion: none yet/, isError: false },
    { name: 'latency and decode rate', state: ready, last: fromEngine, text: '$(sparkle) Flashcode 42 ms · 180 tok/s', tooltip: /Last completion: 42 ms, 180 tokens\/s decoding, 312 prompt tokens\n/, isError: false },
    { name: 'from the cache', state: ready, last: { latencyMs: 2.2, source: 'cache', empty: false, promptTokens: 0, tokensPerSecond: undefined }, text: '$(sparkle) Flashcode 2 ms · cached', tooltip: /Last completion: 2 ms, from the cache/, isError: false },
    { name: 'no suggestion is not "cached"', state: ready, last: { ...fromEngine, empty: true }, text: '$(sparkle) Flashcode 42 ms · no suggestion', tooltip: /Last completion: 42 ms, no suggestion: [^\n]*Trigger Inline Suggestion/, isError: false },
    { name: 'joined a running call', state: ready, last: { ...fromEngine, source: 'inflight' }, text: '$(sparkle) Flashcode 42 ms · 180 tok/s', tooltip: /312 prompt tokens, continuing a model call already running/, isError: false },
    { name: 'too short for a rate', state: ready, last: { ...fromEngine, tokensPerSecond: undefined }, text: '$(sparkle) Flashcode 42 ms', tooltip: /Last completion: 42 ms, 312 prompt tokens/, isError: false },
    { name: 'sparse FFN, all in memory', state: withFfn({ mode: 'sparse', fullyResident: true, residentNeurons: 512, neurons: 512 }), text: '$(sparkle) Flashcode: ready', tooltip: /\nFFN: sparse \(all neurons in memory\)\n/, isError: false },
    { name: 'sparse FFN, partly cached', state: withFfn({ mode: 'sparse', fullyResident: false, residentNeurons: 1412, neurons: 4096 }), text: '$(sparkle) Flashcode: ready', tooltip: /\nFFN: sparse, 1,412 of 4,096 neurons cached \(the others read from disk when needed\)\n/, isError: false },
    { name: 'sparse asked for, dense running', state: withFfn({ mode: 'dense', notice: 'this model has no predictors.bin, so the FFN runs densely (correct, slower).' }), text: '$(sparkle) Flashcode: ready', tooltip: /\nFFN: dense — flashcode\.engine\.sparseFfn is on, but this model has no predictors\.bin, so the FFN runs densely \(correct, slower\)\.\n/, isError: false },
    { name: 'FFN line while paused', state: withFfn({ mode: 'sparse', fullyResident: true }), gate: { kind: 'paused', reason: 'battery' }, text: '$(sparkle) Flashcode: paused (battery)', tooltip: /\nFFN: sparse \(all neurons in memory\)\n/, isError: false },
    { name: 'FIM and no chat template in the prompts line', state: ready, text: '$(sparkle) Flashcode: ready', tooltip: /\nPrompts: completions fill in the middle \(they see the code after the cursor too\); Explain and Refactor use a plain-text prompt \(no chat template\)\n/, isError: false },
    { name: 'prefix-only completions and ChatML', state: { ...ready, info: { ...info, fim: false, chat: 'chatml' } }, text: '$(sparkle) Flashcode: ready', tooltip: /\nPrompts: this model has no fill-in-the-middle tokens, so completions continue the code before the cursor alone; Explain and Refactor use its chat template \(chatml\)\n/, isError: false },
    { name: 'threads in the backend line', state: { ...ready, threads: 4 }, text: '$(sparkle) Flashcode: ready', tooltip: /kernels, 4 threads,/, isError: false },
    { name: 'the backend line says why', state: { ...ready, info: { ...info, backend: 'WebGPU (gpu)', backendReason: 'faster than WebAssembly' } }, text: '$(sparkle) Flashcode: ready', tooltip: /\nBackend: WebGPU \(gpu\), 1 thread, in a worker thread — faster than WebAssembly\n/, isError: false },
    { name: 'the backend line', state: { ...ready, info: { ...info, backend: 'WebAssembly SIMD kernels and ONNX Runtime Web' } }, text: '$(sparkle) Flashcode: ready', tooltip: /\nBackend: WebAssembly SIMD kernels and ONNX Runtime Web, 1 thread, in a worker thread\n/, isError: false },
    { name: 'off', state: ready, gate: { kind: 'off' }, last: fromEngine, text: '$(sparkle) Flashcode: off', tooltip: /Click for the menu to turn them on/, isError: false },
    { name: 'off for the language', state: ready, gate: { kind: 'off-language', languageId: 'markdown' }, last: fromEngine, text: '$(sparkle) Flashcode: off for markdown', tooltip: /off for markdown files \(setting flashcode\.completion\.languages\)[^]*Toggle Completions for This Language/, isError: false },
    { name: 'off for the language while loading', state: { kind: 'loading', modelDir }, gate: { kind: 'off-language', languageId: 'plaintext' }, text: '$(sparkle) Flashcode: off for plaintext', tooltip: /plaintext/, isError: false },
    { name: 'paused on battery', state: ready, gate: { kind: 'paused', reason: 'battery' }, last: fromEngine, text: '$(sparkle) Flashcode: paused (battery)', tooltip: /battery power \(setting flashcode\.completion\.pauseOnBattery\)[^]*Trigger Inline Suggestion[^]*Model: Tiny FIM[^]*Last completion: 42 ms/, isError: false },
    { name: 'loading wins over the pause', state: { kind: 'loading', modelDir }, gate: { kind: 'paused', reason: 'battery' }, text: '$(sparkle) Flashcode: loading…', tooltip: /loading/, isError: false },
    { name: 'an explicit request on battery still shows as ready', state: ready, gate: { kind: 'on', batterySaving: true }, last: fromEngine, text: '$(sparkle) Flashcode 42 ms · 180 tok/s', tooltip: /Tiny FIM/, isError: false },
    { name: 'error', state: { kind: 'error', modelDir, message: 'ModelFileCorruptError: ffn.bin is corrupt' }, text: '$(sparkle) Flashcode: error', tooltip: /ffn\.bin is corrupt/, isError: true },
    { name: 'error wins over off', state: { kind: 'error', modelDir, message: 'x' }, gate: { kind: 'off' }, text: '$(sparkle) Flashcode: error', tooltip: /could not load/, isError: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const view = describeStatus({ state: c.state, gate: c.gate ?? on, last: c.last });
      assert.equal(view.text, c.text);
      assert.match(view.tooltip, c.tooltip);
      assert.equal(view.isError, c.isError);
    });
  }
});

describe('decodeTokensPerSecond', () => {
  const cases: Array<{ name: string; generatedTokens: number; ttfsMs: number; totalMs: number; expected: number | undefined }> = [
    { name: 'tokens after the first over the time after the first text', generatedTokens: 11, ttfsMs: 30, totalMs: 80, expected: 200 },
    { name: 'prompt processing does not count', generatedTokens: 11, ttfsMs: 500, totalMs: 550, expected: 200 },
    { name: 'one token: nothing to measure', generatedTokens: 1, ttfsMs: 30, totalMs: 35, expected: undefined },
    { name: 'no tokens', generatedTokens: 0, ttfsMs: 30, totalMs: 30, expected: undefined },
    { name: 'nothing streamed before the end', generatedTokens: 5, ttfsMs: 40, totalMs: 40, expected: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.equal(decodeTokensPerSecond(c), c.expected));
});

describe('lastCompletion', () => {
  const generation = { generatedTokens: 11, ttfsMs: 30, totalMs: 80 };
  it('an engine result takes the decode rate of the last engine call', () => {
    assert.deepEqual(lastCompletion({ text: 'x', latencyMs: 90, source: 'engine', promptTokens: 300 }, generation),
      { latencyMs: 90, source: 'engine', empty: false, promptTokens: 300, tokensPerSecond: 200 });
  });
  it('so does one that joined a running call', () => {
    assert.equal(lastCompletion({ text: 'x', latencyMs: 20, source: 'inflight', promptTokens: 300 }, generation).tokensPerSecond, 200);
  });
  it('a cached result has no rate: no engine work was done for it', () => {
    assert.equal(lastCompletion({ text: 'x', latencyMs: 1, source: 'cache', promptTokens: 0 }, generation).tokensPerSecond, undefined);
  });
  it('an empty result says so', () => {
    assert.equal(lastCompletion({ text: '', latencyMs: 90, source: 'engine', promptTokens: 300 }, generation).empty, true);
  });
  it('no engine call yet: no rate', () => {
    assert.equal(lastCompletion({ text: 'x', latencyMs: 90, source: 'engine', promptTokens: 300 }, undefined).tokensPerSecond, undefined);
  });
});
