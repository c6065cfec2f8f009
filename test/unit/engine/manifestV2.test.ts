// manifest.json formatVersion 2 (models/FORMAT.md §M): parsed field by field into ManifestV2; each
// rejection names its field. v1 manifests still parse as ManifestV1.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ModelFormatUnsupportedError, ModelManifestInvalidError } from '../../../src/engine/errors';
import { parseManifest, requireV1 } from '../../../src/engine/manifest';

type Json = Record<string, unknown> & { architecture: Record<string, unknown>; files: Record<string, unknown>; fim?: Record<string, unknown> };
const sha = (c: string) => ({ bytes: 10, sha256: c.repeat(64) });

function v2(edit: (m: Json) => void = () => undefined): string {
  const m: Json = {
    format: 'flashcode-model', formatVersion: 2, id: 'tiny-llama-v2', displayName: 'Tiny', contextTokens: 128,
    architecture: { family: 'llama', layers: 2, dModel: 64, heads: 4, kvHeads: 2, headDim: 16, ffnSize: 128, ffnActivation: 'silu', ffnGated: true, ropeTheta: 10000, normEps: 1e-5, vocabSize: 300, tiedEmbeddings: false, attentionBias: false },
    fim: { order: 'psm', prefixToken: '<p>', suffixToken: '<s>', middleToken: '<m>' },
    stopTokens: ['<eos>'], weights: { file: 'weights.bin' }, ffn: { file: 'ffn.bin' }, quantization: 'q8_32',
    files: { 'weights.bin': sha('a'), 'ffn.bin': sha('b'), 'tokenizer.json': sha('c') },
  };
  edit(m);
  return JSON.stringify(m);
}
function invalid(edit: (m: Json) => void, field: RegExp): void {
  assert.throws(() => parseManifest(v2(edit)), (e: unknown) => e instanceof ModelManifestInvalidError && field.test((e as Error).message));
}

describe('manifest.json formatVersion 2', () => {
  it('parses a silu model without chat, source or sparsity', () => {
    const m = parseManifest(v2());
    assert.equal(m.formatVersion, 2);
    if (m.formatVersion !== 2) return;
    assert.deepEqual(m.weights, { file: 'weights.bin' });
    assert.equal(m.architecture.ffnActivation, 'silu');
    assert.equal(m.architecture.attentionBias, false);
    assert.deepEqual(m.fim, { order: 'psm', prefixToken: '<p>', suffixToken: '<s>', middleToken: '<m>' });
    assert.equal(m.chat, undefined);
  });

  it('parses the optional blocks: chat, source, gate sparsity; fim may be absent', () => {
    const m = parseManifest(v2((j) => {
      delete j.fim;
      j.chat = { template: '{% for m in messages %}{{ m.content }}{% endfor %}', format: 'chatml' };
      j.source = { kind: 'gguf', files: [{ name: 'x.gguf', bytes: 5, sha256: 'd'.repeat(64) }], quantization: 'Q8_0' };
      j.sparsity = { gateThresholds: [0, 0.01], targetSkip: 0.3, measuredSkip: [0, 0.31], measuredOn: 'held-out code' };
    }));
    assert.ok(m.formatVersion === 2);
    assert.equal(m.fim, undefined);
    assert.equal(m.chat?.format, 'chatml');
    assert.equal(m.source?.files[0].name, 'x.gguf');
    assert.deepEqual(m.sparsity, { gateThresholds: [0, 0.01], targetSkip: 0.3, measuredSkip: [0, 0.31], measuredOn: 'held-out code' });
  });

  it('v1 manifests still parse as v1 (attentionBias false), and requireV1 rejects v2 by name', () => {
    const v1 = parseManifest(fs.readFileSync(path.join(__dirname, '../../fixtures/tiny-model/manifest.json'), 'utf8'));
    assert.equal(v1.formatVersion, 1);
    assert.equal(v1.architecture.attentionBias, false);
    assert.throws(() => requireV1(parseManifest(v2()), 'Model'), (e: unknown) => e instanceof ModelFormatUnsupportedError && /Model.*format version 2.*ModelV2/.test((e as Error).message));
  });

  it('rejects formatVersion 3 as unsupported', () => {
    assert.throws(() => parseManifest(v2((m) => { m.formatVersion = 3; })), (e: unknown) => e instanceof ModelFormatUnsupportedError && /version 3.*1 or 2/.test((e as Error).message));
  });

  it('rejects each invalid field by name', () => {
    invalid((m) => { delete m.architecture.attentionBias; }, /architecture\.attentionBias/);
    invalid((m) => { m.architecture.ffnGated = false; }, /architecture\.ffnGated must be true when ffnActivation is silu/);
    invalid((m) => { m.architecture.ffnActivation = 'gelu'; }, /architecture\.ffnActivation/);
    invalid((m) => { m.architecture.dModel = 48; }, /architecture\.dModel must be a multiple of 32/);
    invalid((m) => { m.architecture.headDim = 12; }, /architecture\.headDim × heads must be a multiple of 32/);
    invalid((m) => { m.architecture.kvHeads = 3; }, /architecture\.heads/);
    invalid((m) => { m.graphs = {}; }, /graphs must be absent/);
    invalid((m) => { delete m.weights; }, /weights/);
    invalid((m) => { m.quantization = 'q4'; }, /quantization/);
    invalid((m) => { delete m.files['weights.bin']; }, /files does not list weights\.bin/);
    invalid((m) => { m.fim = { order: 'psm', prefixToken: '<p>' }; }, /fim\.suffixToken/);
    invalid((m) => { m.chat = { template: 't' }; }, /chat\.format/);
    invalid((m) => { m.source = { kind: 'onnx', files: [], quantization: 'f32' }; }, /source\.kind/);
    invalid((m) => { m.sparsity = { gateThresholds: [0], targetSkip: 0.3, measuredSkip: [0, 0], measuredOn: 'x' }; }, /sparsity\.gateThresholds must list 2 numbers/);
    invalid((m) => { m.sparsity = { gateThresholds: [0, -1], targetSkip: 0.3, measuredSkip: [0, 0], measuredOn: 'x' }; }, /sparsity\.gateThresholds/);
    invalid((m) => { m.sparsity = { gateThresholds: [0, 0], targetSkip: 1.5, measuredSkip: [0, 0], measuredOn: 'x' }; }, /sparsity\.targetSkip/);
    invalid((m) => { m.predictors = { file: 'predictors.bin', perLayer: [] }; }, /predictors must be absent for a silu model/);
  });
});
