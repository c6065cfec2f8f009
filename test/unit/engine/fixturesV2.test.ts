// The tiny format-v2 fixtures (models/pipeline/make_fixture_v2.py) load through the TypeScript
// readers: manifest v2, every file's checksum, weights.bin's table and every tensor's floats,
// ffn.bin version 3 against the architecture, and (tiny-relu-v2) predictors.bin; and a plain f64
// forward pass over what the readers return gives the NumPy reference's golden logits.
import assert from 'node:assert/strict';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { openModelDir } from '../../../src/engine/modelDir';
import { renderPromptIds } from '../../../src/engine/prompt';
import { TextTokenizer } from '../../../src/engine/tokenizer';
import { checkFfnMatchesV2, readFfnHeader, readFfnLayer } from '../../../src/engine/weights/ffnFile';
import { readPredictors } from '../../../src/engine/weights/predictorsFile';
import { dequantizeQ8, readTensorInto, readWeightsHeader } from '../../../src/engine/weights/weightsFile';
import { denseV2Logits } from '../../helpers/denseV2';

const fixtures = path.join(__dirname, '../../fixtures');
const golden: { fixtures: Record<string, { promptText: string; promptIds: number[]; prefillLastLogits: number[]; prefillArgmax: number; fim: { prefix: string; suffix: string; promptIds: number[] } }> } =
  JSON.parse(fsSync.readFileSync(path.join(__dirname, '../../golden/tiny-v2-reference.json'), 'utf8'));
const expected = {
  'tiny-llama-v2': { tied: false, bias: false, fim: true, chat: false, kvHeads: 2, predictors: false },
  'tiny-qwen2-v2': { tied: true, bias: true, fim: false, chat: true, kvHeads: 1, predictors: false },
  'tiny-relu-v2': { tied: false, bias: false, fim: true, chat: false, kvHeads: 2, predictors: true },
};

describe('format-v2 fixtures through the TypeScript readers', () => {
  for (const [name, e] of Object.entries(expected)) {
    it(`${name}: manifest, weights.bin, ffn.bin${e.predictors ? ', predictors.bin' : ''}`, async () => {
      const dir = await openModelDir(path.join(fixtures, name));
      const m = dir.manifest;
      assert.equal(m.formatVersion, 2);
      if (m.formatVersion !== 2) return;
      const a = m.architecture;
      assert.deepEqual([a.tiedEmbeddings, a.attentionBias, m.fim !== undefined, m.chat !== undefined, a.kvHeads], [e.tied, e.bias, e.fim, e.chat, e.kvHeads]);
      assert.equal(a.ffnActivation, e.predictors ? 'relu' : 'silu');
      const weights = await fs.open(dir.file(m.weights.file), 'r');
      try {
        const h = await readWeightsHeader(weights, m.weights.file, m);
        assert.equal(h.tensors.has('head'), !e.tied);
        assert.equal(h.tensors.has('layers.1.qkv_bias'), e.bias);
        assert.equal(h.tensors.get('head_bias')?.shape[0], a.vocabSize);
        for (const t of h.tensors.values()) {
          const bytes = new Uint8Array(t.bytes);
          await readTensorInto(weights, m.weights.file, t, bytes);
          if (t.dtype === 'q8_32') assert.ok(dequantizeQ8(bytes, t.shape[0], t.shape[1]).some((v) => v !== 0), t.name);
        }
      } finally {
        await weights.close();
      }
      const ffn = await fs.open(dir.file(m.ffn.file), 'r');
      try {
        const h = await readFfnHeader(ffn, m.ffn.file);
        checkFfnMatchesV2(h, m);
        const layer = await readFfnLayer(ffn, h, a.layers - 1);
        assert.equal(layer.gate !== undefined, e.predictors);
        assert.ok(layer.down.every(Number.isFinite));
      } finally {
        await ffn.close();
      }
      if (e.predictors) {
        const layers = await readPredictors(dir.file(m.predictors!.file), a);
        assert.equal(layers.length, a.layers);
      }
    });
  }

  for (const name of Object.keys(expected)) {
    it(`${name}: a plain forward pass over the readers' weights gives the golden's prefill logits`, async () => {
      const dir = await openModelDir(path.join(fixtures, name));
      assert.ok(dir.manifest.formatVersion === 2);
      const g = golden.fixtures[name];
      const logits = await denseV2Logits(dir, dir.manifest, g.promptIds);
      let worst = 0;
      logits.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - g.prefillLastLogits[i])); });
      assert.ok(worst < 1e-4, `max |Δ| ${worst}`); // measured ≤ 1.6e-5 (f64 here, f32 there)
      assert.equal(logits.indexOf(Math.max(...logits)), g.prefillArgmax);
    });
  }

  it('the engine\'s prompts are the golden\'s: PSM with FIM tokens, the prefix alone without (tiny-qwen2-v2)', async () => {
    for (const name of Object.keys(expected)) {
      const dir = await openModelDir(path.join(fixtures, name));
      const tok = await TextTokenizer.load(dir.file('tokenizer.json'));
      const g = golden.fixtures[name];
      assert.deepEqual(renderPromptIds({ kind: 'text', text: g.promptText }, tok, dir.manifest, 2000), g.promptIds, name);
      assert.deepEqual(renderPromptIds({ kind: 'fim', prefix: g.fim.prefix, suffix: g.fim.suffix }, tok, dir.manifest, 2000), g.fim.promptIds, name);
    }
  });
});
