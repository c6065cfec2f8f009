// One forward pass of a format-v2 model on WebGPU, in the order the data flows: embed → per layer
// (attention → FFN, each added into the residual) → head. The weights are uploaded once from the
// WebAssembly model's memory (the same panels, q4_32 matrices and neuron columns its kernels run
// on), the KV cache lives in a GPU buffer, a chunk of up to GPU_CHUNK_TOKENS tokens is one compute
// pass in one submission, and only the logits asked for are read back. Dispatches and their bind
// groups are built at load; a chunk writes 16 bytes of step parameters and the token ids, nothing
// else. A decoded token's FFN goes the sparse way wherever WASM's does (a ReLU gate, or the gate's
// thresholds at load): sparseUp reads the up rows of the neurons the gate keeps and zeroes the
// others' h, and down reads only the kept neurons' columns, with no readback in between. Under a
// memory budget that puts the FFN behind the neuron cache, the cache is mirrored on the GPU
// (flashLayers); a budget that leaves matrices in weights.bin or streams whole FFN layers keeps the
// model on WASM (gpuUnsupportedReason).
/// <reference types="@webgpu/types" />
import type { Architecture } from '../manifest';
import type { ForwardPass } from '../forwardPass';
import type { KvPositions } from '../kvCache';
import { FlashFfnV2, ResidentFfn, turnLength, type FfnRows } from '../v2/ffnStore';
import { Int8KvCache } from '../v2/kvCacheQ8';
import type { Weight } from '../v2/matrix';
import type { StreamedMatrix } from '../v2/matrix';
import type { ModelV2 } from '../v2/modelV2';
import { panelBytes } from '../v2/panels';
import { q4Bytes, q4Layout } from '../weights/q4';
import { kernelSource, WORKGROUP, type KernelName } from './kernels';
import { EngineError } from '../errors';
import { WebGpuFaultError, WebGpuUnsupportedError } from './gpuErrors';

export const GPU_CHUNK_TOKENS = 64;

/** A chunk's readback that has not arrived within this, or 20× what a token took after the
 *  warm-up times that chunk's tokens (a software adapter runs SmolLM2 at ~1 s a token), will not:
 *  the GPU is hung or gone. */
export const READBACK_TIME_LIMIT_MS = 10_000;
/** The first run compiles every kernel. */
const WARM_UP_TIME_LIMIT_MS = 120_000;

export interface GpuModelOptions {
  /** A fixed limit for every readback instead (tests use 0: a readback that cannot arrive in time). */
  readbackTimeLimitMs?: number;
  /** Rewrites a kernel's WGSL before it is compiled (tests inject a shader that fails). */
  rewriteKernel?: (name: KernelName, wgsl: string) => string;
  /** Time every dispatch on the GPU (timestamp queries, one compute pass each: slower; for
   *  bench/webgpu.ts), summed per kernel into `kernelMs`. Ignored where the adapter cannot. */
  profile?: boolean;
}

type Count = (T: number, outRows: number, pos0: number) => number;
/** A count for a prompt's chunks only (T > 1), or a decoded token's only (T = 1). */
const promptOnly = (c: Count): Count => (t, r, p) => (t === 1 ? 0 : c(t, r, p));
const decodeOnly = (c: Count): Count => (t, r, p) => (t === 1 ? c(t, r, p) : 0);
interface Dispatch { name: KernelName; pipeline: GPUComputePipeline; group: GPUBindGroup; count: Count }
/** Work on the CPU between two submissions of a chunk (a flash layer's FFN: reading records from
 *  ffn.bin, or the gate's choice back): everything before it has been submitted. */
interface Hook { hook: (gpu: GpuModelV2) => Promise<void>; /** runs for a decoded token (T = 1), or for a prompt's chunk */ decode: boolean }
type Step = Dispatch | Hook;
interface Profiler { queries: GPUQuerySet; resolved: GPUBuffer; read: GPUBuffer }

const ACTIVATIONS = { silu: 0, relu: 1, squared_relu: 2 } as const;

const isStreamed = (m: Weight): m is StreamedMatrix => 'streamed' in m;

/** Why `model` cannot run on the GPU, or undefined when it can. */
export function gpuUnsupportedReason(model: ModelV2): string | undefined {
  const { arch, weights: w } = model;
  if (!(w.ffn instanceof ResidentFfn || w.ffn instanceof FlashFfnV2)) return 'the memory budget streams whole FFN layers from ffn.bin, which the WebGPU path does not';
  const matrices = [w.embed, w.head, ...w.layers.flatMap((l) => [l.qkv, l.out, ...(l.gate ? [l.gate] : [])])];
  if (matrices.some(isStreamed)) return 'the memory budget leaves some matrices in weights.bin; the WebGPU path needs every weight resident';
  if (matrices.some((m) => !isStreamed(m) && m.layout !== 'panels' && m.mins === undefined)) return 'it has q8_32 matrices outside the panel layout, which the WebGPU kernels do not read';
  if (!(arch.ffnActivation in ACTIVATIONS)) return `its FFN activation ${arch.ffnActivation} has no WebGPU kernel`;
  return undefined;
}

export class GpuModelV2 implements ForwardPass {
  /** The GPU runs a chunk as one submission: encoding and submitting count as `embed`, the wait
   *  for its logits (the kernels' time) as `head`. */
  readonly stageMs = { embed: 0, attention: 0, ffn: 0, head: 0 };
  readonly arch: Architecture;
  readonly contextTokens: number;
  /** Token ids whose keys and values the GPU's KV buffer holds, in position order. */
  private held: number[] = [];
  private lost: string | undefined;
  private readonly dispatches: { embed: Dispatch[]; layers: Step[]; head: Dispatch[] };
  private readonly fixedLimitMs: number | undefined;
  /** Milliseconds of one token after the warm-up (the readback limit scales with it). */
  private tokenMs = 0;
  private warming = false;
  private profiler: Profiler | undefined;
  /** GPU milliseconds per kernel since load (options.profile), e.g. { matmul: 812, mix: 40, … }. */
  readonly kernelMs: Partial<Record<KernelName, number>> = {};
  /** Layers whose FFN a decoded token runs the sparse way (the gate's thresholds at load, or a ReLU
   *  gate): only the kept neurons' up rows and down columns are read. */
  readonly sparseLayers: number;

  private constructor(
    readonly device: GPUDevice,
    model: ModelV2,
    private readonly buffers: { step: GPUBuffer; ids: GPUBuffer; logits: GPUBuffer; staging: GPUBuffer; all: GPUBuffer[] },
    dispatches: GpuModelV2['dispatches'],
    options: GpuModelOptions,
  ) {
    this.arch = model.arch;
    this.sparseLayers = dispatches.layers.filter((d) => 'name' in d && (d.name === 'sparseUp' || d.name === 'gateActivations')).length;
    this.contextTokens = model.contextTokens;
    this.dispatches = dispatches;
    this.fixedLimitMs = options.readbackTimeLimitMs;
    void device.lost.then((info) => { this.lost = info.message || info.reason || 'device lost'; });
  }

  /** Uploads `model`'s weights to a device of `adapter` and compiles the kernels. Throws
   *  WebGpuUnsupportedError (the model) or WebGpuFaultError (the GPU). */
  static async load(adapter: GPUAdapter, model: ModelV2, options: GpuModelOptions = {}): Promise<GpuModelV2> {
    const why = gpuUnsupportedReason(model);
    if (why) throw new WebGpuUnsupportedError(why);
    const { limits } = adapter;
    const profile = options.profile === true && adapter.features.has('timestamp-query');
    const device = await adapter.requestDevice({
      requiredFeatures: profile ? ['timestamp-query'] : [],
      requiredLimits: { maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize, maxBufferSize: limits.maxBufferSize, maxStorageBuffersPerShaderStage: Math.min(8, limits.maxStorageBuffersPerShaderStage) },
    });
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    try {
      const built = await build(device, model, options);
      const validation = await device.popErrorScope();
      const memory = await device.popErrorScope();
      if (memory) throw new WebGpuFaultError('out-of-memory', memory.message);
      if (validation) throw new WebGpuFaultError('validation', validation.message);
      const gpu = new GpuModelV2(device, model, built.buffers, built.dispatches, options);
      if (profile) {
        const slots = 2 * gpu.dispatchCount;
        gpu.profiler = {
          queries: device.createQuerySet({ type: 'timestamp', count: slots }),
          resolved: device.createBuffer({ size: 8 * slots, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
          read: device.createBuffer({ size: 8 * slots, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
        };
      }
      await gpu.warmUp();
      return gpu;
    } catch (e) {
      device.destroy();
      throw e;
    }
  }

  /** Runs one token through every kernel: drivers compile a pipeline at its first dispatch
   *  (llvmpipe: up to seconds a kernel, before its disk cache has it), which belongs to the load,
   *  not to the first request's time limit. */
  private async warmUp(): Promise<void> {
    this.warming = true;
    try {
      await this.forward([0], this.newCache());
      const start = performance.now();
      await this.forward([0], this.newCache());
      this.tokenMs = performance.now() - start;
    } finally {
      this.warming = false;
      this.held = [];
    }
  }

  private async readTimes(profiler: Profiler, timed: KernelName[]): Promise<void> {
    await profiler.read.mapAsync(GPUMapMode.READ, 0, 16 * timed.length);
    const ns = new BigInt64Array(profiler.read.getMappedRange(0, 16 * timed.length));
    timed.forEach((name, i) => { this.kernelMs[name] = (this.kernelMs[name] ?? 0) + Number(ns[2 * i + 1] - ns[2 * i]) / 1e6; });
    profiler.read.unmap();
  }

  /** Compute dispatches of a chunk that reads logits (the profile of bench/webgpu.ts). */
  get dispatchCount(): number {
    const { embed, layers, head } = this.dispatches;
    return embed.length + layers.filter((d) => 'name' in d).length + head.length;
  }

  /** A cache of the WebAssembly model's kind: only its ids are used here (which positions the GPU's
   *  KV buffer must hold), so its int8 rows are never allocated; after a fault the fallback
   *  recomputes them on WASM. */
  newCache(): Int8KvCache {
    return new Int8KvCache(this.arch.layers, this.arch.kvHeads, this.arch.headDim, this.contextTokens);
  }

  forward(ids: readonly number[], kv: KvPositions): Promise<Float32Array> {
    return this.run(ids, kv, false);
  }

  forwardAll(ids: readonly number[], kv: KvPositions): Promise<Float32Array> {
    return this.run(ids, kv, true);
  }

  async dispose(): Promise<void> {
    this.held = [];
    for (const b of this.buffers.all) b.destroy();
    this.device.destroy();
  }

  /** Runs what `kv` holds and the GPU does not (another cache, or positions computed elsewhere)
   *  and then `ids`; appends `ids` to `kv`. On a WebGpuFaultError `kv` is as it was. */
  private async run(ids: readonly number[], kv: KvPositions, all: boolean): Promise<Float32Array> {
    kv.checkRoom(ids.length);
    if (this.lost) throw new WebGpuFaultError('device-lost', this.lost);
    let have = 0;
    while (have < kv.length && have < this.held.length && this.held[have] === kv.ids[have]) have++;
    const todo = [...kv.ids.slice(have), ...ids];
    const V = this.arch.vocabSize;
    const out = new Float32Array((all ? ids.length : 1) * V);
    const firstOwn = todo.length - ids.length; // index in todo of ids[0]
    this.held = this.held.slice(0, have);
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    try {
      for (let at = 0; at < todo.length; at += GPU_CHUNK_TOKENS) {
        const chunk = todo.slice(at, at + GPU_CHUNK_TOKENS);
        const end = at + chunk.length;
        const own = Math.max(0, end - Math.max(at, firstOwn)); // positions of ids in this chunk: its tail
        const rows = all ? own : end === todo.length ? 1 : 0;
        const logits = await this.chunk(chunk, have + at, rows);
        if (logits) out.set(logits, all ? (end - own - firstOwn) * V : 0);
      }
      const validation = await this.device.popErrorScope();
      const memory = await this.device.popErrorScope();
      if (this.lost) throw new WebGpuFaultError('device-lost', this.lost);
      if (memory) throw new WebGpuFaultError('out-of-memory', memory.message);
      if (validation) throw new WebGpuFaultError('validation', validation.message);
    } catch (e) {
      this.held = [];
      if (e instanceof WebGpuFaultError) throw e;
      if (e instanceof EngineError || (e instanceof Error && 'syscall' in e)) { // a flash layer's read of ffn.bin: the file's fault, not the GPU's
        await this.device.popErrorScope().catch(() => undefined);
        await this.device.popErrorScope().catch(() => undefined);
        throw e;
      }
      throw new WebGpuFaultError(this.lost ? 'device-lost' : 'failed', this.lost ?? (e as Error).message);
    }
    kv.advance(ids);
    this.held = kv.ids.slice();
    return out;
  }

  /** One chunk of T tokens at positions pos0…; returns the logits of its last `outRows` tokens. */
  private async chunk(ids: number[], pos0: number, outRows: number): Promise<Float32Array | undefined> {
    const T = ids.length;
    let start = performance.now();
    const { queue } = this.device;
    queue.writeBuffer(this.buffers.step, 0, new Uint32Array([T, pos0, outRows, T - outRows]));
    queue.writeBuffer(this.buffers.ids, 0, Uint32Array.from(ids));
    let encoder = this.device.createCommandEncoder();
    const { embed, layers, head } = this.dispatches;
    const timed: KernelName[] = [];
    const profiler = this.profiler;
    let pass = profiler ? undefined : encoder.beginComputePass();
    for (const d of [...embed, ...layers, ...(outRows > 0 ? head : [])]) {
      if ('hook' in d) { // what the GPU has so far goes first
        if (d.decode !== (T === 1)) continue;
        if (!profiler) pass!.end();
        queue.submit([encoder.finish()]);
        const at = performance.now();
        this.stageMs.embed += at - start;
        await d.hook(this);
        start = performance.now();
        this.stageMs.ffn += start - at;
        encoder = this.device.createCommandEncoder();
        pass = profiler ? undefined : encoder.beginComputePass();
        continue;
      }
      const n = d.count(T, outRows, pos0);
      if (n === 0) continue;
      if (profiler) {
        const at = 2 * timed.push(d.name) - 2;
        pass = encoder.beginComputePass({ timestampWrites: { querySet: profiler.queries, beginningOfPassWriteIndex: at, endOfPassWriteIndex: at + 1 } });
      }
      encodeDispatch(pass!, d, n);
      if (profiler) pass!.end();
    }
    if (!profiler) pass!.end();
    if (profiler && timed.length > 0) {
      encoder.resolveQuerySet(profiler.queries, 0, 2 * timed.length, profiler.resolved, 0);
      encoder.copyBufferToBuffer(profiler.resolved, 0, profiler.read, 0, 16 * timed.length);
    }
    const bytes = outRows * this.arch.vocabSize * 4;
    if (bytes > 0) encoder.copyBufferToBuffer(this.buffers.logits, 0, this.buffers.staging, 0, bytes);
    queue.submit([encoder.finish()]);
    if (profiler && timed.length > 0) await this.readTimes(profiler, timed);
    const submitted = performance.now();
    this.stageMs.embed += submitted - start;
    if (bytes === 0) return undefined;
    const logits = await this.readBack(this.buffers.staging, bytes, T);
    this.stageMs.head += performance.now() - submitted;
    return logits;
  }

  /** The first `bytes` of `staging` (MAP_READ; its copy already submitted), once the GPU gets
   *  there, within the readback time limit of a chunk of T tokens. */
  async readBack(staging: GPUBuffer, bytes: number, T: number): Promise<Float32Array> {
    let timer: NodeJS.Timeout | undefined;
    const limitMs = this.warming ? WARM_UP_TIME_LIMIT_MS : this.fixedLimitMs ?? Math.max(READBACK_TIME_LIMIT_MS, 20 * this.tokenMs * T);
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), limitMs); });
    try {
      const mapping = staging.mapAsync(GPUMapMode.READ, 0, bytes);
      mapping.catch(() => undefined); // after a timeout it rejects when the device goes; nobody waits then
      const mapped = await Promise.race([mapping, late]);
      if (mapped === 'late') throw new WebGpuFaultError('timeout', `a readback did not finish within ${Math.round(limitMs)} ms`);
    } finally {
      clearTimeout(timer);
    }
    const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    return out;
  }
}

/** The buffers and the dispatches of every stage, bound once. */
async function build(device: GPUDevice, model: ModelV2, options: GpuModelOptions) {
  const { arch, contextTokens: C, weights: w } = model;
  const { dModel: d, heads: H, kvHeads: Hkv, headDim: hd, ffnSize: F, vocabSize: V, layers: nLayers } = arch;
  const T = GPU_CHUNK_TOKENS;
  const n = (H + 2 * Hkv) * hd;
  const widest = Math.max(d, H * hd, F);
  const memory = () => w.arena.memory.buffer;
  const all: GPUBuffer[] = [];
  const storage = (bytes: number, usage = 0) => {
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: GPUBufferUsage.STORAGE | usage });
    all.push(b);
    return b;
  };
  // Copied through a mapping, not writeBuffer: the kernels' memory may be a SharedArrayBuffer,
  // whose views Dawn's writeBuffer rejects.
  const upload = (bytes: Uint8Array) => {
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(bytes.length / 16) * 16), usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
    new Uint8Array(b.getMappedRange()).set(bytes);
    b.unmap();
    all.push(b);
    return b;
  };
  const floats = (f: Float32Array) => upload(new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
  // A resident matrix: q8_32 in panels, or q4_32 as one buffer of its nibbles, scales and mins
  // (`scalesAt`, `minsAt`: word offsets of the last two).
  const matrix = (m: Weight): { buffer: GPUBuffer; q4?: { scalesAt: number; minsAt: number } } => {
    if (isStreamed(m)) throw new WebGpuUnsupportedError(`${m.name} streams from weights.bin`); // gpuUnsupportedReason refuses such a model first
    if (m.mins === undefined) return { buffer: upload(new Uint8Array(memory(), m.ptr, panelBytes(m.rows, m.cols))) };
    const n = m.rows * m.cols;
    const bytes = new Uint8Array(q4Bytes(m.rows, m.cols));
    const at = q4Layout(m.rows, m.cols);
    bytes.set(new Uint8Array(memory(), m.ptr, n / 2));
    bytes.set(new Uint8Array(memory(), m.scales, n / 8), at.scales);
    bytes.set(new Uint8Array(memory(), m.mins, n / 8), at.mins);
    return { buffer: upload(bytes), q4: { scalesAt: at.scales / 4, minsAt: at.mins / 4 } };
  };
  const uniform = (words: (number | { f32: number })[]) => {
    const b = device.createBuffer({ size: Math.ceil(words.length / 4) * 16, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
    const u = new Uint32Array(b.getMappedRange()), f = new Float32Array(u.buffer);
    words.forEach((v, i) => { if (typeof v === 'number') u[i] = v; else f[i] = v.f32; });
    b.unmap();
    all.push(b);
    return b;
  };

  // scratch, sized for a chunk                                   shapes
  const step = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const ids = storage(4 * T, GPUBufferUsage.COPY_DST); //          [T] u32
  const hidden = storage(4 * T * d); //                            [T][d] f32, the residual stream
  const x = storage(4 * T * H * hd); //                            [T][H·hd] attention out
  const qx = storage(4 * T * widest); //                           x quantized: [T][cols] i16 values as i32
  const sx = storage(4 * T * Math.max(widest / 32, H)); //          [T][cols/32] f32; attention: the queries' scales [T][H]
  const qkv = storage(4 * T * n); //                               [T][(H + 2·Hkv)·hd] f32
  const scores = storage(4 * T * H * C); //                        [T][H][C] f32
  const gate = storage(4 * T * F); //                              [T][F] f32
  const h = storage(4 * T * F); //                                 [T][F] f32: up, then the activations times it
  const zq = storage(4 * T * (d / 32) * F); //                     [F/32][T·d/32][32] i32
  const zs = storage(4 * T * (d / 32) * (F / 32)); //              [F/32][T·d/32] f32
  const logits = storage(4 * T * V, GPUBufferUsage.COPY_SRC); //   [outRows][V] f32
  const kvRows = nLayers * 2 * Hkv * C; //                         Int8KvCache's rows: [layers][2][Hkv][C]
  const kv = storage(kvRows * hd + 4 * kvRows); //                 [rows][hd] int8 (4 a word), then [rows] f32 scales
  const staging = device.createBuffer({ size: 4 * T * V, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  all.push(step, staging);
  // RoPE's angles as rope.ts rounds them: cos then sin, [C][hd/2] each
  const half = hd / 2;
  const table = new Float32Array(2 * C * half);
  for (let pos = 0; pos < C; pos++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(pos * Math.fround(arch.ropeTheta ** (-2 * i / hd)));
      table[pos * half + i] = Math.cos(angle);
      table[C * half + pos * half + i] = Math.sin(angle);
    }
  }
  const rope = floats(table);
  const none = storage(16);

  const pipelines = new Map<KernelName, GPUComputePipeline>();
  for (const name of ['embed', 'embedQ4', 'normQuantize', 'quantize', 'matmul', 'matmulQ4', 'qkvPost', 'scores', 'softmax', 'mix', 'activate', 'downPrep', 'down', 'sparseUp', 'matmulRows', 'gateActivations', 'flashUp', 'flashDown', 'addBias'] as const) {
    const code = options.rewriteKernel ? options.rewriteKernel(name, kernelSource(name)) : kernelSource(name);
    const module = device.createShaderModule({ code, label: name });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length > 0) throw new WebGpuFaultError('compile', `kernel ${name}: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ')}`);
    try {
      pipelines.set(name, await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: name }));
    } catch (e) {
      throw new WebGpuFaultError('compile', `kernel ${name}: ${(e as Error).message}`);
    }
  }
  const dispatch = (name: KernelName, params: (number | { f32: number })[], buffers: GPUBuffer[], count: Count): Dispatch => {
    const pipeline = pipelines.get(name)!;
    const entries: GPUBindGroupEntry[] = [step, uniform(params), ...buffers].map((buffer, binding) => ({ binding, resource: { buffer } }));
    return { name, pipeline, group: device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }), count };
  };
  const eps = Math.fround(arch.normEps);
  const normQuantize = (weight: GPUBuffer, last: 0 | 1): Dispatch => dispatch('normQuantize', [d, last, { f32: eps }, { f32: Math.fround(arch.normEps - eps) }], [hidden, weight, qx, sx], (t, r) => (last ? r : t) * d / 32);
  const quantize = (cols: number): Dispatch => dispatch('quantize', [cols], [x, qx, sx], (t) => t * cols / 32);
  const matmul = (W: ReturnType<typeof matrix>, rows: number, cols: number, out: GPUBuffer, accumulate: 0 | 1, last: 0 | 1 = 0): Dispatch =>
    W.q4
      ? dispatch('matmulQ4', [rows, cols, accumulate, last, W.q4.scalesAt, W.q4.minsAt], [W.buffer, qx, sx, out], (t, r) => Math.ceil((last ? r : t) / 4) * rows)
      : dispatch('matmul', [rows, cols, accumulate, last], [W.buffer, qx, sx, out], (t, r) => Math.ceil((last ? r : t) / 4) * Math.ceil(rows / 4));

  const embedW = matrix(w.embed);
  const embed = [embedW.q4
    ? dispatch('embedQ4', [d, embedW.q4.scalesAt, embedW.q4.minsAt], [ids, embedW.buffer, hidden], (t) => t * d)
    : dispatch('embed', [d], [ids, embedW.buffer, hidden], (t) => t * d)];
  const layers: Step[] = [];
  const kvScalesAt = kvRows * hd / 4; // word index of the scales in kv
  const act = ACTIVATIONS[arch.ffnActivation as keyof typeof ACTIVATIONS];
  const flash = w.ffn instanceof FlashFfnV2 ? flashLayers(device, model, { storage, all, dispatch, hidden, gate, h, qx, sx, zq, zs }) : undefined;
  for (let l = 0; l < nLayers; l++) {
    const L = w.layers[l];
    const attention = [
      normQuantize(floats(L.attnNorm), 0), matmul(matrix(L.qkv), n, d, qkv, 0),
      dispatch('qkvPost', [H, Hkv, hd, C, l, L.qkvBias ? 1 : 0, { f32: Math.fround(1 / Math.sqrt(hd)) }, kvScalesAt], [qkv, L.qkvBias ? floats(L.qkvBias) : none, rope, kv, qx, sx], (t) => t * (H + 2 * Hkv)),
      dispatch('scores', [H, Hkv, hd, C, l, kvScalesAt], [qx, sx, kv, scores], (t, _, pos0) => t * H * (pos0 + t)),
      dispatch('softmax', [H, C], [scores], (t) => t * H),
      dispatch('mix', [H, Hkv, hd, C, l, kvScalesAt], [kv, scores, x], (t) => t * H * hd),
      quantize(H * hd), matmul(matrix(L.out), d, H * hd, hidden, 1),
    ];
    const threshold = model.gateThresholds[l] ?? 0;
    if (flash) {
      if (!L.gate) throw new WebGpuUnsupportedError('an ungated FFN behind the neuron cache');
      layers.push(...attention, normQuantize(floats(L.ffnNorm), 0), matmul(matrix(L.gate), F, d, gate, 0), ...flash.layer(l, act, threshold));
      continue;
    }
    const rows = w.ffn.dense(l);
    const up = matrix(rows.up);
    const down = upload(new Uint8Array(memory(), rows.down.ptr, F * d));
    const downScalesT = upload(new Uint8Array(memory(), rows.downScalesT, (F * d) / 16));
    // a decoded token goes the sparse way where WASM's does (ModelV2.ffn): the gate skips neurons
    const sparse = L.gate !== undefined && (threshold > 0 || arch.ffnActivation !== 'silu');
    const ffn = [
      normQuantize(floats(L.ffnNorm), 0),
      ...(L.gate ? [matmul(matrix(L.gate), F, d, gate, 0)] : []),
      ...[
        matmul(up, F, d, h, 0),
        dispatch('activate', [F, act, L.gate ? 1 : 0], [gate, h], (t) => t * F),
      ].map((x) => (sparse ? { ...x, count: promptOnly(x.count) } : x)),
      ...(sparse ? [dispatch('sparseUp', [F, d, act, { f32: f32AtOrBelow(threshold) }], [gate, up.buffer, qx, sx, h], decodeOnly(() => F))] : []),
      // a decoded token's skipped neurons have h = 0: down reads only the kept columns (WASM's sparseDownQ8 bits)
      dispatch('downPrep', [F, d], [h, downScalesT, zq, zs], (t) => t * (d / 32) * (F / 32)),
      dispatch('down', [F, d], [down, zq, zs, hidden], (t) => t * (d / 4)),
    ];
    layers.push(...attention, ...ffn);
  }
  const head = [normQuantize(floats(w.finalNorm), 1), matmul(w.head === w.embed ? embedW : matrix(w.head), V, d, logits, 0, 1)];
  if (w.headBias) head.push(dispatch('addBias', [V], [floats(w.headBias), logits], (_, r) => r * V));
  return { buffers: { step, ids, logits, staging, all }, dispatches: { embed, layers, head } };
}

/** The largest f32 ≤ x: for every f32 a, a > x exactly when a > f32AtOrBelow(x) (a WGSL kernel
 *  compares in f32 what gateSelect compares in f64). */
export function f32AtOrBelow(x: number): number {
  const f = new Float32Array([x]);
  if (f[0] <= x) return f[0];
  const bits = new Int32Array(f.buffer);
  if (f[0] === 0) bits[0] = 0x80000001 | 0; // the negative number closest to 0
  else bits[0] += f[0] > 0 ? -1 : 1;
  return f[0];
}

/** The buffers a flash layer's dispatches share with the rest of the pass. */
interface Shared {
  storage: (bytes: number, usage?: number) => GPUBuffer;
  /** Every buffer, destroyed with the model. */
  all: GPUBuffer[];
  dispatch: (name: KernelName, params: (number | { f32: number })[], buffers: GPUBuffer[], count: Count) => Dispatch;
  hidden: GPUBuffer; gate: GPUBuffer; h: GPUBuffer; qx: GPUBuffer; sx: GPUBuffer; zq: GPUBuffer; zs: GPUBuffer;
}

/** A model whose FFN is behind the neuron cache (FlashFfnV2, under a memory budget) on the GPU.
 *  A prompt streams each layer's records from ffn.bin as the WASM path does (FlashFfnV2.dense) and
 *  uploads them into one staging set of buffers, which the dense kernels then read (up in the row
 *  layout: matmulRows). A decoded token reads the gate's choice back (gateActivations: the one
 *  sync a layer costs), gathers the kept neurons through the same neuron cache as WASM — misses
 *  read from ffn.bin — and mirrors that cache in a GPU buffer per layer: a slot is uploaded only
 *  when it holds another neuron than the GPU's copy. Then flashUp and flashDown run on the cache's
 *  slots, in turns of at most `capacity` neurons as WASM does. */
function flashLayers(device: GPUDevice, model: ModelV2, shared: Shared) {
  const { dModel: d, ffnSize: F, layers: nLayers } = model.arch;
  const store = model.weights.ffn as FlashFfnV2;
  const cap = store.capacity, nb = d / 32;
  const memory = () => model.weights.arena.memory.buffer;
  const { storage, dispatch } = shared;
  const copyDst = GPUBufferUsage.COPY_DST;
  // a layer's cache, as the arena's (q8 rows: quants [cap][d], then scales [cap][d/32] f32): up, then down
  const rowBytes = (rows: number) => (rows * d * 9) / 8;
  const caches = Array.from({ length: nLayers }, () => ({ buffer: storage(2 * rowBytes(cap), copyDst), neuronOf: new Int32Array(cap).fill(-1) }));
  const stagedUp = storage(rowBytes(F), copyDst), stagedDown = storage(F * d, copyDst), stagedScalesT = storage((F * d) / 16, copyDst);
  const acts = storage(4 * F, GPUBufferUsage.COPY_SRC);
  const actsRead = device.createBuffer({ size: 4 * F, usage: GPUBufferUsage.MAP_READ | copyDst });
  const turnSlots = storage(12 * cap, copyDst); // [cap] slots, [cap] activations (f32 bits), [cap] neuron ids
  const turn = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | copyDst }); // k, first, last
  shared.all.push(actsRead, turn);
  const y = storage(4 * d);
  const ids = new Int32Array(F), av = new Float32Array(F), slots = new Int32Array(cap);
  const turnWords = new Uint32Array(3 * cap), turnFloats = new Float32Array(turnWords.buffer);
  // a copy outside the kernels' memory, which may be a SharedArrayBuffer (writeBuffer rejects those)
  const bytesAt = (ptr: number, n: number) => new Uint8Array(memory(), ptr, n).slice();

  /** The kernels' rows of a prompt's layer l: streamed by the store, then uploaded. */
  const stage = (l: number): void => {
    const rows = store.dense(l);
    device.queue.writeBuffer(stagedUp, 0, bytesAt(rows.up.ptr, rowBytes(F)));
    device.queue.writeBuffer(stagedDown, 0, bytesAt(rows.down.ptr, F * d));
    device.queue.writeBuffer(stagedScalesT, 0, bytesAt(rows.downScalesT, (F * d) / 16));
  };

  /** Uploads the slots of `rows` (the arena's cache of layer l) that hold another neuron than the
   *  GPU's copy, in runs of adjacent slots. */
  const mirror = (l: number, rows: FfnRows, turnIds: Int32Array, n: number): void => {
    const c = caches[l];
    const stale: number[] = [];
    for (let i = 0; i < n; i++) {
      if (c.neuronOf[slots[i]] !== turnIds[i]) { c.neuronOf[slots[i]] = turnIds[i]; stale.push(slots[i]); }
    }
    stale.sort((a, b) => a - b);
    for (let i = 0; i < stale.length;) {
      let end = i + 1;
      while (end < stale.length && stale[end] === stale[end - 1] + 1) end++;
      const s0 = stale[i], m = end - i;
      for (const [q8, at] of [[rows.up, 0], [rows.down, rowBytes(cap)]] as const) {
        device.queue.writeBuffer(c.buffer, at + s0 * d, bytesAt(q8.ptr + s0 * d, m * d));
        device.queue.writeBuffer(c.buffer, at + cap * d + 4 * s0 * nb, bytesAt(q8.scales + 4 * s0 * nb, 4 * m * nb));
      }
      i = end;
    }
  };

  return {
    layer(l: number, act: number, threshold: number): Step[] {
      const { buffer } = caches[l];
      const up = dispatch('flashUp', [d, cap, (cap * d) / 4], [turn, turnSlots, buffer, shared.qx, shared.sx, shared.h], () => 0);
      const down = dispatch('flashDown', [d, cap, rowBytes(cap) / 4, (rowBytes(cap) + cap * d) / 4], [turn, turnSlots, buffer, shared.h, y, shared.hidden], () => 0);
      const decodeLayer = async (gpu: GpuModelV2): Promise<void> => {
        const copy = device.createCommandEncoder();
        copy.copyBufferToBuffer(acts, 0, actsRead, 0, 4 * F);
        device.queue.submit([copy.finish()]);
        const a = await gpu.readBack(actsRead, 4 * F, 1);
        let k = 0;
        for (let j = 0; j < F; j++) if (a[j] !== 0) { ids[k] = j; av[k++] = a[j]; }
        if (l === 0) store.stats.tokens++;
        for (let at = 0, n = 0; at < k; at += n) { // more neurons than the cache holds: in turns, as WASM's
          n = turnLength(ids, at, k, cap);
          const turnIds = ids.subarray(at, at + n);
          mirror(l, store.gather(l, turnIds, n, slots), turnIds, n);
          turnWords.set(slots.subarray(0, n));
          turnFloats.set(av.subarray(at, at + n), cap);
          turnWords.set(turnIds, 2 * cap);
          device.queue.writeBuffer(turnSlots, 0, turnWords);
          device.queue.writeBuffer(turn, 0, Uint32Array.of(n, at === 0 ? 1 : 0, at + n === k ? 1 : 0, 0));
          const encoder = device.createCommandEncoder();
          const pass = encoder.beginComputePass();
          encodeDispatch(pass, up, n);
          encodeDispatch(pass, down, d / 4);
          pass.end();
          device.queue.submit([encoder.finish()]);
        }
      };
      return [
        { hook: async () => stage(l), decode: false },
        ...[
          dispatch('matmulRows', [F, d, (F * d) / 4], [stagedUp, shared.qx, shared.sx, shared.h], (t) => Math.ceil(t / 4) * F),
          dispatch('activate', [F, act, 1], [shared.gate, shared.h], (t) => t * F),
          dispatch('downPrep', [F, d], [shared.h, stagedScalesT, shared.zq, shared.zs], (t) => t * (d / 32) * (F / 32)),
          dispatch('down', [F, d], [stagedDown, shared.zq, shared.zs, shared.hidden], (t) => t * (d / 4)),
        ].map((x) => ({ ...x, count: promptOnly(x.count) })),
        dispatch('gateActivations', [F, act, { f32: f32AtOrBelow(threshold) }], [shared.gate, acts], decodeOnly(() => F)),
        { hook: decodeLayer, decode: true },
      ];
    },
  };
}

/** `n` invocations of `d` into `pass` (workgroups beyond 65,535 in a second dimension). */
function encodeDispatch(pass: GPUComputePassEncoder, d: Dispatch, n: number): void {
  pass.setPipeline(d.pipeline);
  pass.setBindGroup(0, d.group);
  const groups = Math.ceil(n / WORKGROUP);
  const x = Math.min(groups, 65535);
  pass.dispatchWorkgroups(x, Math.ceil(groups / x));
}
