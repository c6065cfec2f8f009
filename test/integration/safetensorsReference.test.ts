// The safetensors chain end to end: a small random Llama (untied head) and Qwen2 (tied, Q/K/V
// biases), written in f32 by PyPI safetensors (scripts/safetensors-reference.py), imported by the
// TypeScript importer, run by the v2 engine, and compared with a NumPy forward pass.
//
// Which reference: the engine stores 8-bit (q8_32) or 4-bit (q4_32) weights, and that rounding alone
// moves these logits by 0.11 (Llama) and 0.22 (Qwen2) at 8 bits, 2.0 at 4 bits (measured, logits up
// to 3.5 and 8.0): 1e-3 against the ORIGINAL f32 weights is not possible. So the 1e-3 bound is
// against the same NumPy forward over the weights the importer wrote (dequantized: what the engine
// computes with; measured 4e-4 to 7e-4), and the distance to the f32 forward is printed and may
// exceed the stored weights' own distance by no more than that 1e-3.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { importCheckpoint } from '../../src/engine/import/importModel';
import type { ManifestV2 } from '../../src/engine/manifestV2';
import { openModelDir } from '../../src/engine/modelDir';
import { loadModelV2 } from '../../src/engine/v2/loadV2';
import { repoRoot } from '../helpers/fixture';
import { tempDir } from '../helpers/importFixtures';
import { requireImportPython } from '../helpers/smollm2';

const SCRIPT = path.join(repoRoot, 'scripts/safetensors-reference.py');
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('safetensors checkpoint → import → engine vs a NumPy forward', function () {
  this.timeout(300_000);
  let python: string;
  let work: string;
  let reference: Record<string, { ids: number[]; logits: number[][] }>;

  before(function () {
    python = requireImportPython(this);
    work = tempDir();
    execFileSync(python, [SCRIPT, 'write', work], { stdio: ['ignore', 'ignore', 'inherit'] });
    reference = JSON.parse(fs.readFileSync(path.join(work, 'reference.json'), 'utf8'));
  });

  for (const [name, bits] of [['llama', 8], ['qwen2', 8], ['llama', 4]] as const) {
    it(`${name}, --bits ${bits}: within 4e-2 of NumPy over the imported weights (int8 KV); near the f32 original`, async () => {
      const out = path.join(work, `${name}-${bits}`);
      await importCheckpoint({ input: path.join(work, name), outDir: out, bits });
      const dir = await openModelDir(out);
      const model = await loadModelV2(dir as typeof dir & { manifest: ManifestV2 });
      const { ids, logits: f32Rows } = reference[name];
      const engine = await model.forwardAll(ids, model.newCache());
      await model.dispose();
      const dequantized = (JSON.parse(execFileSync(python, [SCRIPT, 'imported', out], { encoding: 'utf8' })) as number[][]).flat();
      const f32 = f32Rows.flat();
      assert.equal(engine.length, f32.length);
      const vsImported = maxDiff(engine, dequantized), vsF32 = maxDiff(engine, f32), storage = maxDiff(dequantized, f32);
      console.log(`      ${name} --bits ${bits}: |engine − NumPy(imported)| ≤ ${vsImported.toExponential(2)}, |engine − NumPy(f32 original)| ≤ ${vsF32.toExponential(2)} (of which the stored weights' rounding: ${storage.toExponential(2)}), logits up to ${Math.max(...f32.map(Math.abs)).toFixed(2)}`);
      // Both store keys and values in int8 (the NumPy side as kvCacheQ8.ts does): measured 5e-3–2.4e-2
      // (f32 KV: under 1e-3), where the engine's 16-bit activations put a key or value on the other
      // side of an int8 rounding half than NumPy's f32 ones.
      assert.ok(vsImported <= 4e-2, `engine vs NumPy over the imported weights: ${vsImported}`);
      assert.ok(vsF32 <= storage + 4e-2, `engine vs NumPy over the f32 original: ${vsF32}, the stored weights alone ${storage}`);
    });
  }
});
