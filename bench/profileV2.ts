// npm run bench:profile-v2 -- [DIR] [--prompt N] [--decode N] [--reps N]
// Where the milliseconds of a v2 model go: the model's own stage counters (embed, attention,
// FFN, head) over a prefill of N prompt tokens and over each decoded token, and each kernel of
// one layer timed alone at the model's shapes (a random arena of the same sizes), so a stage's
// time splits into its matmuls and its attention core. Default DIR: the SmolLM2-135M Q8_0 import
// bench:peers writes (.cache/peers/smollm2-135m-q8_0).
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openModelDir } from '../src/engine/modelDir';
import type { ManifestV2 } from '../src/engine/manifestV2';
import { loadModelV2 } from '../src/engine/v2/loadV2';
import { CHUNK_TOKENS, type ModelV2 } from '../src/engine/v2/modelV2';
import { KernelArena } from '../src/engine/wasm/wasmKernels';
import { panelRoom, rowsToPanels } from '../src/engine/v2/panels';
import { f16Bits } from '../src/engine/weights/f16';
import { quantizeQ8 } from '../src/engine/weights/weightsFile';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { prompt: { type: 'string', default: '128' }, decode: { type: 'string', default: '32' }, reps: { type: 'string', default: '3' } },
});
const PROMPT = Number(values.prompt), DECODE = Number(values.decode), REPS = Number(values.reps);
const dir = positionals[0] ?? path.resolve(__dirname, '../.cache/peers/smollm2-135m-q8_0');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const round = (v: number) => Math.round(v * 100) / 100;

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

type Stages = ModelV2['stageMs'];
const diff = (a: Stages, b: Stages, per: number) => Object.fromEntries(Object.keys(a).map((k) => [k, (a[k as keyof Stages] - b[k as keyof Stages]) / per])) as Stages;

async function modelStages(model: ModelV2) {
  const prompt = Array.from({ length: PROMPT }, (_, i) => (300 + i * 7919) % model.arch.vocabSize);
  const runs: { prefillMs: number; prefill: Stages; decodeMs: number; decode: Stages }[] = [];
  for (let rep = -1; rep < REPS; rep++) { // rep -1: warm-up
    const kv = model.newCache();
    let s0 = { ...model.stageMs };
    let start = performance.now();
    let next = argmax(await model.forward(prompt, kv));
    const prefillMs = performance.now() - start;
    const prefill = diff(model.stageMs, s0, 1);
    s0 = { ...model.stageMs };
    start = performance.now();
    for (let i = 0; i < DECODE; i++) next = argmax(await model.forward([next], kv));
    const decodeMs = (performance.now() - start) / DECODE;
    if (rep >= 0) runs.push({ prefillMs, prefill, decodeMs, decode: diff(model.stageMs, s0, DECODE) });
  }
  const med = (f: (r: typeof runs[0]) => number) => round(median(runs.map(f)));
  const stages = (pick: (r: typeof runs[0]) => Stages) => Object.fromEntries(Object.keys(model.stageMs).map((k) => [k, med((r) => pick(r)[k as keyof Stages])]));
  return {
    prefill: { tokens: PROMPT, totalMs: med((r) => r.prefillMs), stagesMs: stages((r) => r.prefill) },
    decodePerToken: { contextTokens: `${PROMPT}…${PROMPT + DECODE}`, totalMs: med((r) => r.decodeMs), stagesMs: stages((r) => r.decode) },
  };
}

/** One layer's kernels alone at T tokens (and attention at `context` positions), ms per call
 *  (best of 7: the machine is shared), on random weights in the layouts the model uses. */
function kernelTimes(model: ModelV2, T: number, context: number) {
  const { dModel: d, heads: H, kvHeads: Hkv, headDim: hd, ffnSize: F, vocabSize: V } = model.arch;
  const widest = Math.max(d, H * hd, F);
  const shapes = { qkv: [(H + 2 * Hkv) * hd, d], out: [d, H * hd], gate: [F, d], up: [F, d], head: [V, d] } as const;
  let bytes = 0;
  for (const [r, c] of Object.values(shapes)) bytes += panelRoom(r, c) + 64;
  const arena = new KernelArena(bytes + F * d * 2 + 4 * (T * widest * 4 + 2 * Hkv * context * hd + context + T * V + 4 * F + T * (d / 32) * F) + 65536);
  const rnd = (() => { let s = 1; return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5; })();
  const panels = Object.fromEntries(Object.entries(shapes).map(([name, [r, c]]) => {
    const m = arena.bytes(panelRoom(r, c));
    m.view.set(quantizeQ8(Float32Array.from({ length: r * c }, rnd), r, c));
    rowsToPanels(arena.memory.buffer, m.ptr, r, c);
    return [name, { ptr: m.ptr, rows: r, cols: c }];
  })) as Record<keyof typeof shapes, { ptr: number; rows: number; cols: number }>;
  const down = arena.bytes(F * d * 9 / 8);
  down.view.set(quantizeQ8(Float32Array.from({ length: F * d }, rnd), F, d));
  const downScalesT = arena.bytes(F * d / 16).ptr; // f16 bits
  new Uint16Array(arena.memory.buffer, downScalesT, F * d / 32).fill(f16Bits(2 ** -7));
  const x = arena.floats(T * widest), qx = arena.floats(T * widest / 2).ptr, sx = arena.floats(T * widest / 32).ptr;
  x.view.forEach((_, i) => { x.view[i] = Math.sin(i); });
  const out = arena.floats(T * Math.max(V, widest)).ptr;
  const kv = arena.floats(2 * Hkv * context * hd).ptr, scores = arena.floats(context).ptr;
  const zq = arena.floats(T * (d / 32) * 17).ptr;
  const k = arena.kernels;
  const time = (fn: () => void) => {
    fn();
    const ms: number[] = [];
    for (let r = 0; r < 7; r++) { const s = performance.now(); fn(); ms.push(performance.now() - s); }
    return Math.round(Math.min(...ms) * 1000) / 1000;
  };
  const mm = (m: { ptr: number; rows: number; cols: number }) => time(() => {
    k.quantizeI16(x.ptr, T * m.cols, qx, sx);
    k.matmulQ8P(m.ptr, m.rows, m.cols, qx, sx, T, out);
  });
  return {
    tokens: T,
    qkvMs: mm(panels.qkv), outMs: mm(panels.out), gateMs: mm(panels.gate), upMs: mm(panels.up),
    downMs: time(() => k.downQ8(down.ptr, downScalesT, x.ptr, T, F, d, zq, zq + T * (d / 32) * 64, out, 0, d / 32)),
    attentionCoreMs: time(() => {
      for (let t = 0; t < T; t++) for (let hh = 0; hh < H; hh++) {
        k.rowDots(kv, x.ptr, context, hd, scores);
        k.softmax(scores, context);
        k.vecmat(scores, kv + 4 * Hkv * context * hd, context, hd, out);
      }
    }),
    ...(T === 1 ? { headMs: mm(panels.head) } : {}),
  };
}

async function main() {
  const d = await openModelDir(dir);
  const model = await loadModelV2(d as typeof d & { manifest: ManifestV2 });
  model.gateThresholds = []; // dense
  const stages = await modelStages(model);
  const kernels = { decode: kernelTimes(model, 1, PROMPT), prefillChunk: kernelTimes(model, CHUNK_TOKENS, PROMPT / 2) };
  process.stdout.write(`${JSON.stringify({ model: dir, layers: model.arch.layers, ...stages, oneLayerKernelsMs: kernels }, null, 1)}\n`);
  await model.dispose();
}

main().catch((e) => { console.error(e); process.exit(1); });
