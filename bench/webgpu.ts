// npm run bench:webgpu -- [DIR …] [--prompt N] [--decode N] [--reps N] [--profile] [--json]
// WebGPU against the WebAssembly kernels on the same v2 model, side by side in one process:
// prefill tokens/s (a prompt of N tokens on a fresh cache) and decode tokens/s (greedy steps after
// it), medians of --reps runs, and whether they agree (max |logit difference|, greedy tokens equal).
// The GPU side's profile says where its time goes: dispatches per chunk, CPU time encoding and
// submitting, and the wait for the logits' readback; with --profile also the GPU time of each
// kernel over one run (timestamp queries, on a model of its own: they slow what they time). Default DIRs: the bundled model converted to
// v2 (.cache/peers/bundled-v2) and SmolLM2-135M v2 (.cache/smollm2-v2), those present. The adapter
// is whatever Dawn finds (a software one too: then the figures say nothing about speed).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { probeAdapter } from '../src/engine/gpu/adapter';
import { GpuModelV2 } from '../src/engine/gpu/modelGpu';
import type { ForwardPass } from '../src/engine/forwardPass';
import type { ManifestV2 } from '../src/engine/manifestV2';
import { openModelDir, type ModelDir } from '../src/engine/modelDir';
import { loadModelV2 } from '../src/engine/v2/loadV2';
import type { ModelV2 } from '../src/engine/v2/modelV2';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { prompt: { type: 'string', default: '128' }, decode: { type: 'string', default: '32' }, reps: { type: 'string', default: '3' }, json: { type: 'boolean', default: false }, profile: { type: 'boolean', default: false } },
});
const PROMPT = Number(values.prompt), DECODE = Number(values.decode), REPS = Number(values.reps);
const root = path.resolve(__dirname, '..');
const dirs = positionals.length > 0 ? positionals : ['.cache/peers/bundled-v2', '.cache/smollm2-v2'].map((d) => path.join(root, d)).filter((d) => fs.existsSync(path.join(d, 'manifest.json')));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const round = (v: number) => Math.round(v * 100) / 100;
const log = (line: string) => { if (!values.json) console.log(line); };

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** Prefill and decode times of one run, and every logit row it produced (for the agreement). */
async function timeRun(pass: ForwardPass, prompt: number[]) {
  const kv = pass.newCache();
  let start = performance.now();
  let logits = await pass.forward(prompt, kv);
  const prefillMs = performance.now() - start;
  const rows = [logits];
  start = performance.now();
  for (let i = 0; i < DECODE; i++) rows.push(logits = await pass.forward([argmax(logits)], kv));
  return { prefillMs, decodeMs: performance.now() - start, rows };
}

/** GPU milliseconds per kernel over one run (prefill + decode), timestamp queries on. */
async function profileKernels(adapter: GPUAdapter, wasm: ModelV2, ids: number[]) {
  const gpu = await GpuModelV2.load(adapter, wasm, { profile: true });
  for (const k of Object.keys(gpu.kernelMs) as (keyof typeof gpu.kernelMs)[]) delete gpu.kernelMs[k]; // the warm-up's
  await timeRun(gpu, ids);
  await gpu.dispose();
  return Object.fromEntries(Object.entries(gpu.kernelMs).sort(([, a], [, b]) => b - a).map(([k, v]) => [k, round(v)]));
}

async function main(): Promise<void> {
  const found = await probeAdapter();
  if (!found.ok) throw new Error(`no WebGPU adapter: ${found.reason}`);
  const report = { adapter: found.description, software: found.isSoftware, loadAverage: os.loadavg().map(round), prompt: PROMPT, decode: DECODE, reps: REPS, models: [] as unknown[] };
  log(`adapter ${found.description}${found.isSoftware ? ' (software: figures are not speed claims)' : ''}; load average ${report.loadAverage.join(' ')}`);
  for (const dir of dirs) {
    const wasm = await loadModelV2((await openModelDir(dir)) as ModelDir & { manifest: ManifestV2 });
    const prompt = () => Array.from({ length: PROMPT }, (_, i) => (i * 7919 + 13) % wasm.arch.vocabSize);
    const adapter = await probeAdapter(); // an adapter gives one device
    if (!adapter.ok) throw new Error(adapter.reason);
    // kernel times from a model of their own: timing every dispatch in its own pass slows the GPU
    const kernelMs = values.profile ? await profileKernels(adapter.adapter, wasm, prompt()) : undefined;
    const again = await probeAdapter();
    if (!again.ok) throw new Error(again.reason);
    const start = performance.now();
    const gpu = await GpuModelV2.load(again.adapter, wasm);
    const gpuLoadMs = performance.now() - start;
    const runs = { wasm: [] as Awaited<ReturnType<typeof timeRun>>[], webgpu: [] as Awaited<ReturnType<typeof timeRun>>[] };
    for (let r = 0; r < REPS; r++) { // interleaved, so that load on the machine hits both alike
      runs.wasm.push(await timeRun(wasm, prompt()));
      gpu.stageMs.embed = gpu.stageMs.head = 0;
      runs.webgpu.push(await timeRun(gpu, prompt()));
    }
    let maxDiff = 0, sameTokens = 0;
    const [a, b] = [runs.wasm[0].rows, runs.webgpu[0].rows];
    for (let i = 0; i < a.length; i++) {
      for (let v = 0; v < a[i].length; v++) maxDiff = Math.max(maxDiff, Math.abs(a[i][v] - b[i][v]));
      if (argmax(a[i]) === argmax(b[i])) sameTokens++;
    }
    const rates = (side: keyof typeof runs) => ({
      prefillTokPerS: round(PROMPT / (median(runs[side].map((x) => x.prefillMs)) / 1000)),
      decodeTokPerS: round(DECODE / (median(runs[side].map((x) => x.decodeMs)) / 1000)),
    });
    const entry = {
      model: path.basename(dir), wasm: rates('wasm'), webgpu: rates('webgpu'),
      agreement: { maxLogitDiff: maxDiff, greedyTokensEqual: `${sameTokens}/${a.length}` },
      gpuProfile: { loadMs: round(gpuLoadMs), dispatchesPerChunk: gpu.dispatchCount, lastRunEncodeMs: round(gpu.stageMs.embed), lastRunWaitMs: round(gpu.stageMs.head), kernelMsOfOneRun: kernelMs },
    };
    report.models.push(entry);
    log(`${entry.model}: prefill ${entry.webgpu.prefillTokPerS} tok/s WebGPU vs ${entry.wasm.prefillTokPerS} WASM (${round(entry.webgpu.prefillTokPerS / entry.wasm.prefillTokPerS)}×), decode ${entry.webgpu.decodeTokPerS} vs ${entry.wasm.decodeTokPerS} (${round(entry.webgpu.decodeTokPerS / entry.wasm.decodeTokPerS)}×); max |logit diff| ${maxDiff.toExponential(2)}, greedy tokens equal ${entry.agreement.greedyTokensEqual}; GPU: ${gpu.dispatchCount} dispatches a chunk, last run ${entry.gpuProfile.lastRunEncodeMs} ms encoding, ${entry.gpuProfile.lastRunWaitMs} ms waiting`);
    if (kernelMs) log(`  GPU ms per kernel over one run: ${Object.entries(kernelMs).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    await gpu.dispose();
  }
  if (values.json) console.log(JSON.stringify(report));
}

void main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
