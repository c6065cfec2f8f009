// One bench:peers measurement in its own process, so that its peak RSS (VmHWM) is
// that runtime's alone, node itself included on both sides. Prints one JSON line.
//   tsx bench/peers/child.ts flashcode DIR PROMPT.json DECODE THREADS
//   tsx bench/peers/child.ts llamacpp  GGUF PROMPT.json DECODE THREADS
//   tsx bench/peers/child.ts greedy    GGUF PROMPTS.json STEPS      (llama.cpp's greedy ids + top logits)
//   tsx bench/peers/child.ts agree     DIR  GREEDY.json             (Flashcode teacher-forced on them)
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { openModelDir } from '../../src/engine/modelDir';
import type { ManifestV2 } from '../../src/engine/manifestV2';
import { calibrateGateThresholds } from '../../src/engine/v2/calibrate';
import { loadModelV2 } from '../../src/engine/v2/loadV2';
import type { ModelV2 } from '../../src/engine/v2/modelV2';

const LLAMA_CPP = path.resolve(__dirname, '../../.cache/node-llama-cpp/node_modules/node-llama-cpp/dist/index.js');

const [mode, file, input, count, threads] = process.argv.slice(2);
/** This process's peak RSS in MB: VmHWM on Linux (ru_maxrss survives exec, so a child spawned by a
 *  big parent would report at least the parent's RSS), ru_maxrss elsewhere. */
function rssMb(): number {
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS / 1024;
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** threads: the prompt's chunks and each decoded token split across them. */
async function loadFlashcode(threadCount = 1): Promise<{ model: ModelV2; loadS: number }> {
  const start = performance.now();
  const dir = await openModelDir(file);
  const model = await loadModelV2(dir as typeof dir & { manifest: ManifestV2 }, undefined, threadCount);
  return { model, loadS: (performance.now() - start) / 1000 };
}

/** Prefill `prompt` on a fresh cache, then `steps` greedy tokens: time to the first, decode rate. */
async function decodeFlashcode(model: ModelV2, prompt: number[], steps: number) {
  const kv = model.newCache();
  let start = performance.now();
  let next = argmax(await model.forward(prompt, kv));
  const ttftS = (performance.now() - start) / 1000;
  const ids = [next];
  start = performance.now();
  for (let i = 1; i < steps; i++) ids.push(next = argmax(await model.forward([next], kv)));
  return { ttftS, decodeTokS: (steps - 1) / ((performance.now() - start) / 1000), ids };
}

async function flashcode() {
  const prompt: number[] = JSON.parse(fs.readFileSync(input, 'utf8'));
  const { model, loadS } = await loadFlashcode(Number(threads));
  const thresholds = model.gateThresholds;
  const sparseDefault = model.arch.ffnActivation !== 'silu'; // ReLU: its dense decode skips exact zeros
  model.gateThresholds = [];
  await decodeFlashcode(model, prompt.slice(0, 8), 4); // warm-up of the JIT-compiled JavaScript around the kernels, untimed
  const dense = await decodeFlashcode(model, prompt, Number(count));
  const peakRssMb = rssMb(); // before calibration's buffers
  let calibrated = false;
  if (!sparseDefault && !thresholds.some((t) => t > 0)) {
    // no thresholds in the manifest: calibrate at 50 % skipped on the prompt itself (untimed)
    model.gateThresholds = (await calibrateGateThresholds(model, [prompt], 0.5)).gateThresholds;
    calibrated = true;
  } else model.gateThresholds = thresholds;
  model.ffnCounts.computed = model.ffnCounts.skipped = 0;
  const sparse = await decodeFlashcode(model, prompt, Number(count));
  const { computed, skipped } = model.ffnCounts;
  await model.dispose(); // its prefill threads
  return {
    loadS, ttftS: dense.ttftS, prefillTokS: prompt.length / dense.ttftS, decodeTokS: dense.decodeTokS, ids: dense.ids,
    sparseDecodeTokS: sparse.decodeTokS, sparseSkippedShare: skipped / (computed + skipped || 1), sparseIsDense: sparseDefault,
    thresholdsCalibratedOnPrompt: calibrated, peakRssMb,
  };
}

async function llamaContext(threadCount: number) {
  // node-llama-cpp is installed outside the project's dependencies (scripts/install-llamacpp.mjs).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- its types live outside the project too
  const { getLlama } = (await import(pathToFileURL(LLAMA_CPP).href)) as { getLlama: (options: object) => Promise<any> };
  // maxThreads 0: the context's `threads` is used as given
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 0, logLevel: 'error' as never });
  const start = performance.now();
  const model = await llama.loadModel({ modelPath: file });
  const context = await model.createContext({ contextSize: 2048, threads: threadCount, batchSize: 512 });
  return { llama, model, context, sequence: context.getSequence(), loadS: (performance.now() - start) / 1000 };
}

type Seq = Awaited<ReturnType<typeof llamaContext>>['sequence'];

/** llama.cpp's logits after `ids` (all evaluated in one batch), its top `top` [id, logit]. */
async function llamaNext(sequence: Seq, ids: number[], top: number): Promise<[number, number][]> {
  const last = ids.length - 1;
  const out = await sequence.controlledEvaluate([
    ...(ids.slice(0, last) as never[]),
    [ids[last] as never, { generateNext: { logits: { filter: { tokens: [], includeTop: top } } } }],
  ]);
  const logits = out[last]?.next.logits;
  if (!logits) throw new Error('llama.cpp returned no logits');
  return [...logits.entries()].sort((a, b) => b[1] - a[1]).slice(0, top) as [number, number][];
}

async function llamacpp() {
  const prompt: number[] = JSON.parse(fs.readFileSync(input, 'utf8'));
  const steps = Number(count);
  const { llama, model, context, sequence, loadS } = await llamaContext(Number(threads));
  let start = performance.now();
  const first = (await llamaNext(sequence, prompt, 1))[0][0];
  const ttftS = (performance.now() - start) / 1000;
  const ids = [first];
  start = performance.now();
  for await (const token of sequence.evaluate([first as never], { temperature: 0 })) {
    ids.push(token);
    if (ids.length === steps) break;
  }
  const decodeTokS = (steps - 1) / ((performance.now() - start) / 1000);
  const peakRssMb = rssMb();
  await context.dispose(); await model.dispose(); await llama.dispose();
  return { loadS, ttftS, prefillTokS: prompt.length / ttftS, decodeTokS, ids, peakRssMb };
}

async function greedy() {
  const prompts: number[][] = JSON.parse(fs.readFileSync(input, 'utf8'));
  const { llama, model, context, sequence } = await llamaContext(1);
  const runs = [];
  for (const prompt of prompts) {
    await sequence.clearHistory();
    const ids: number[] = [], top: [number, number][][] = [];
    let feed = prompt;
    for (let s = 0; s < Number(count); s++) {
      const t = await llamaNext(sequence, feed, 5);
      top.push(t); ids.push(t[0][0]); feed = [t[0][0]];
    }
    runs.push({ prompt, ids, top });
  }
  await context.dispose(); await model.dispose(); await llama.dispose();
  return runs;
}

async function agree() {
  const runs: { prompt: number[]; ids: number[]; top: [number, number][][] }[] = JSON.parse(fs.readFileSync(input, 'utf8'));
  const { model } = await loadFlashcode();
  const V = model.arch.vocabSize;
  let steps = 0, same = 0, maxLogitDiff = 0;
  for (const r of runs) {
    const logits = await model.forwardAll([...r.prompt, ...r.ids.slice(0, -1)], model.newCache());
    for (let s = 0; s < r.ids.length; s++) {
      const row = logits.subarray((r.prompt.length - 1 + s) * V, (r.prompt.length + s) * V);
      steps++;
      if (argmax(row) === r.ids[s]) same++;
      for (const [id, logit] of r.top[s]) maxLogitDiff = Math.max(maxLogitDiff, Math.abs(row[id] - logit));
    }
  }
  return { steps, top1Agreement: same / steps, maxLogitDiff };
}

const run = { flashcode, llamacpp, greedy, agree }[mode as 'flashcode'];
if (!run) throw new Error(`child.ts: unknown mode ${mode}`);
run().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`), (e) => { console.error(e); process.exit(1); });
