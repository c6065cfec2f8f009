// 4-bit vs 8-bit weights on one GGUF, side by side in one process: `npm run bench:bits -- [--gguf
// FILE] [--prompts 4] [--tokens 32] [--json]`. Imports the file twice (default: its Q4_0/Q4_1/Q4_K
// matrices kept q4_32; --bits 8: all q8_32) into a temp directory, then decodes the golden prompts'
// greedy tokens through both dense, interleaved token by token (A B A B …) so that load on a shared
// machine hits both alike. Prints median decode ms/token, their ratio, bytes on disk and the
// kernels' memory (weights + KV cache + scratch, the model's resident size).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { importCheckpoint } from '../src/engine/import/importModel';
import type { ManifestV2 } from '../src/engine/manifestV2';
import { openModelDir } from '../src/engine/modelDir';
import { loadModelV2 } from '../src/engine/v2/loadV2';

const root = path.resolve(__dirname, '..');
const { values } = parseArgs({
  options: {
    gguf: { type: 'string', default: path.join(root, '.cache/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf') },
    prompts: { type: 'string', default: '4' }, tokens: { type: 'string', default: '32' }, json: { type: 'boolean', default: false },
  },
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const dirBytes = (dir: string) => fs.readdirSync(dir).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'flashcode-bits-'));
  try {
    const golden = JSON.parse(fs.readFileSync(path.join(root, 'test/golden/smollm2-llamacpp.json'), 'utf8')) as { prompts: { promptIds: number[]; greedyIds: number[] }[] };
    const variants = [{ name: 'default', bits: undefined }, { name: 'bits8', bits: 8 }];
    const models = [];
    for (const v of variants) {
      const out = path.join(work, v.name);
      await importCheckpoint({ input: values.gguf, outDir: out, bits: v.bits });
      const dir = await openModelDir(out);
      const model = await loadModelV2(dir as typeof dir & { manifest: ManifestV2 });
      model.gateThresholds = []; // dense
      models.push({ ...v, model, quantization: (dir.manifest as ManifestV2).quantization, weightsBytes: fs.statSync(path.join(out, 'weights.bin')).size, dirBytes: dirBytes(out), ms: [] as number[] });
    }
    for (const p of golden.prompts.slice(0, Number(values.prompts))) {
      const caches = models.map((m) => m.model.newCache());
      for (const [i, m] of models.entries()) await m.model.forward(p.promptIds, caches[i]);
      for (const id of p.greedyIds.slice(0, Number(values.tokens))) {
        for (const [i, m] of models.entries()) {
          const start = performance.now();
          await m.model.forward([id], caches[i]);
          m.ms.push(performance.now() - start);
        }
      }
    }
    const result = {
      gguf: path.basename(values.gguf), loadAverage: os.loadavg()[0],
      models: models.map((m) => ({
        import: m.name, quantization: m.quantization, decodeMsPerToken: +median(m.ms).toFixed(2), tokens: m.ms.length,
        weightsBinBytes: m.weightsBytes, directoryBytes: m.dirBytes, kernelMemoryBytes: m.model.residentBytes,
      })),
      decodeTimeRatioDefaultOverBits8: +(median(models[0].ms) / median(models[1].ms)).toFixed(3),
    };
    for (const m of models) await m.model.dispose();
    console.log(values.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
