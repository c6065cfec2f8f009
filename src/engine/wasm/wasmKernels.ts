// The WebAssembly SIMD kernels (kernels.wat) and a linear memory they read: neuron caches,
// predictors, attention weights, the KV cache and scratch rows are carved out of it once at load
// (an arena; it never grows, so the Float32Array views stay valid), and each call passes byte offsets.
// A shared arena (threads > 1) is the same memory as a SharedArrayBuffer, which worker threads
// instantiate the shared-memory variant of the kernels on (src/engine/v2/threadPool.ts).
import { KERNELS_SHARED_WASM_BASE64, KERNELS_WASM_BASE64 } from './kernelsWasm';

interface Exports {
  ffnRows(gate: number, up: number, down: number, slots: number, k: number, d: number, x: number, y: number, squared: number): number;
  predict(x: number, a: number, b: number, bias: number, d: number, r: number, n: number, low: number, scores: number): void;
  /** out[i] = rows[i] · x for i < n; rows [n][d]. */
  rowDots(rows: number, x: number, n: number, d: number, out: number): void;
  /** y = x · w; x [n], w [n][m]. */
  vecmat(x: number, w: number, n: number, m: number, y: number): void;
  /** Causal attention of T tokens (positions S0…) for `heads` query heads sharing keys and values
   *  int8 [S][hd] at k and v with row scales f32 [S] at ks and vs (the 8-bit KV cache): queries at
   *  q + t·qStride + h·hd·4, results at out + t·outStride + h·hd·4; qx: hd·2 bytes of scratch (the
   *  query quantized); hd a multiple of 8, at most 256. */
  attendQ8(q: number, qStride: number, k: number, ks: number, v: number, vs: number, S0: number, T: number, heads: number, hd: number, scores: number, qx: number, out: number, outStride: number): void;
  /** gate[i] = silu(gate[i]), up[i] ·= gate[i] over n floats (n a multiple of 4). */
  swiglu(gate: number, up: number, n: number): void;
  /** The sparse FFN's choice: a = act(gate[j]) for j < n (kind 0 ReLU, 1 SiLU as swiglu, 2 squared
   *  ReLU); the j with |a| > threshold kept in order (ids[i] = j, gate[i] = a, in place). Returns how
   *  many; n a multiple of 4. */
  gateSelect(gate: number, n: number, kind: number, threshold: number, ids: number): number;
  /** s[0…n) = softmax(s[0…n)), in place. */
  softmax(s: number, n: number): void;
  /** qx [n] i16 and sx [n/32] f32: x [n] f32 quantized to 16 bits per block of 32 (n a multiple of 32). */
  quantizeI16(x: number, n: number, qx: number, sx: number): void;
  /** out [T][n] f32 = x [T][d] (quantized: qx, sx) · Wᵀ, W q8_32 [n][d] (quants w, scales ws). */
  matmulQ8(w: number, ws: number, n: number, d: number, qx: number, sx: number, T: number, out: number): void;
  /** As matmulQ8 for W q4_32 [n][d] (nibbles w, scales ws, mins wm: models/FORMAT.md §Q4). */
  matmulQ4(w: number, ws: number, wm: number, n: number, d: number, qx: number, sx: number, T: number, out: number): void;
  /** The row-layout matrix at ptr rewritten as panels in place; tmp: rows·cols/8 + 4·cols bytes. */
  toPanels(ptr: number, rows: number, cols: number, tmp: number): void;
  /** matmulQ8 over W in panels (kernels.wat: the panel layout; w: its first byte). */
  matmulQ8P(w: number, n: number, d: number, qx: number, sx: number, T: number, out: number): void;
  /** out[i] = (W[rows[i]] · x) · g[i] for i < k (rows i32), x quantized: W in panels at w (panels 1)
   *  or the row layout (quants w, scales ws); each row gives matmulQ8P's bits. */
  gatherUpQ8(w: number, ws: number, panels: number, rows: number, k: number, d: number, qx: number, sx: number, g: number, out: number): void;
  /** out [T][d] = h [T][F] · D, D q8 [F][d] in the down-block layout (quants w) with scales transposed,
   *  sT [d/32][F] f32; zq [T·d/32·32] i16 and zs [T·d/32] f32 are scratch. Only output blocks
   *  b0 … b1 (of d/32) are computed (a decoded token's split across threads); out's others are untouched. */
  downQ8(w: number, sT: number, h: number, T: number, F: number, d: number, zq: number, zs: number, out: number, b0: number, b1: number): void;
  /** out [T][d] = RMSNorm(x [T][d]) · w, as norm.ts' rmsNorm computes it (the same bits); eps: the
   *  address of eps as an f64. */
  rmsNorm(x: number, w: number, eps: number, out: number, T: number, d: number): void;
  /** y [n] += x [n] (n a multiple of 4). */
  addInto(y: number, x: number, n: number): void;
  /** The qkv rows of T tokens after their projection: + bias (0: none), RoPE (f32 cos and sin at
   *  trig [T][hd/2][2]), queries · the f32 at scale, keys and values written into the 8-bit KV cache
   *  (quants kq, scales ks) at rows g·cap + row0 + t, scale max|row| / 127, quants Math.round(v · 127 / max) in f64. */
  qkvPost(q: number, n: number, T: number, H: number, Hkv: number, hd: number, trig: number, scale: number, bias: number, kq: number, ks: number, row0: number, cap: number): void;
  /** A silu layer's ffn.bin records (F of them, d wide) split: up rows and scales (row layout),
   *  down columns in the down-block layout and their scales transposed [d/32][F] (downQ8). */
  splitRecordsQ8(src: number, F: number, d: number, up: number, us: number, down: number, dsT: number): void;
  /** y [b0·32 … b1·32) += the down projection of k kept neurons (neuron ids[i], its column at row
   *  rows[i], its h[i]; ids ascending) over output blocks b0 … b1 of d/32, with downQ8's arithmetic:
   *  downQ8 on h with the skipped neurons' h = 0, bit for bit, reading only the kept columns. W's
   *  quants in the row layout (R d, B 32) or the down-block layout (R 32, B 1024): row j's block b at
   *  w + (j >> 5)·32·d + (j & 31)·R + b·B; its scales [*][d/32] f32 at ws. tmp: sparseDownScratch(d)
   *  bytes of this call's own. */
  sparseDownQ8(y: number, w: number, ws: number, h: number, rows: number, ids: number, k: number, d: number, R: number, B: number, b0: number, b1: number, tmp: number): void;
  /** D's quants [F][d] (row layout, F a multiple of 32) rewritten in place in the down-block layout
   *  (per 32 neurons and output block, the neurons' 32 bytes in a run of 1 KiB); tmp: 32·d bytes. */
  toDownBlocks(ptr: number, F: number, d: number, tmp: number): void;
}

/** Bytes of sparseDownQ8's scratch for rows of d (kernels.wat: a group's z, 4 blocks at a time, and
 *  its row addresses, then zs and the pairs' z words, rows of d/32 + 4). */
export const sparseDownScratch = (d: number) => 640 + 17 * 4 * (d / 32 + 4);

const compiled: { plain?: WebAssembly.Module | null; shared?: WebAssembly.Module | null } = {};

/** The compiled module, or null where WebAssembly SIMD (or, for `shared`, threads) is missing. */
function kernelsModule(shared = false): WebAssembly.Module | null {
  const key = shared ? 'shared' : 'plain';
  if (compiled[key] === undefined) {
    const bytes = Buffer.from(shared ? KERNELS_SHARED_WASM_BASE64 : KERNELS_WASM_BASE64, 'base64');
    compiled[key] = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled[key];
}

export function wasmKernelsAvailable(): boolean {
  return kernelsModule() !== null;
}

const PAGE_BYTES = 65536;
const ALIGN = 16;

/** A fixed-size arena in the kernels' memory. Plan every allocation's floats first (`bytesFor`). */
export class KernelArena {
  readonly kernels: Exports;
  readonly memory: WebAssembly.Memory;
  /** The compiled kernels this arena runs: a worker instantiates the shared one on `memory`. */
  readonly module: WebAssembly.Module;
  private next = ALIGN; // address 0 stays unused: a 0 address means "none" (a plain FFN's gate)

  /** shared: the memory is a SharedArrayBuffer that worker threads can run the kernels on; its
   *  maximum is its size (the arena never grows, and a shared memory must declare one). */
  constructor(readonly capacityBytes: number, options: { shared?: boolean } = {}) {
    const shared = options.shared ?? false;
    const module = kernelsModule(shared);
    if (!module) throw new Error(`WebAssembly SIMD${shared ? ' with shared memory' : ''} is not available`);
    this.module = module;
    const pages = Math.max(1, Math.ceil((capacityBytes + ALIGN) / PAGE_BYTES));
    this.memory = new WebAssembly.Memory(shared ? { initial: pages, maximum: pages, shared } : { initial: pages });
    this.kernels = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as unknown as Exports;
  }

  get shared(): boolean {
    return this.memory.buffer instanceof SharedArrayBuffer;
  }

  /** Bytes an allocation of `floats` 4-byte values takes in the arena. */
  static bytesFor(floats: number): number {
    return Math.ceil((floats * 4) / ALIGN) * ALIGN;
  }

  floats(count: number): { ptr: number; view: Float32Array } {
    const ptr = this.take(count);
    return { ptr, view: new Float32Array(this.memory.buffer, ptr, count) };
  }

  /** `count` bytes (int8 quants, i16 pairs), 16-aligned. */
  bytes(count: number): { ptr: number; view: Uint8Array } {
    const ptr = this.take(Math.ceil(count / 4));
    return { ptr, view: new Uint8Array(this.memory.buffer, ptr, count) };
  }

  /** The arena's unallocated end (free until the next allocation): scratch for the load. */
  freeTail(): { ptr: number; bytes: number } {
    return { ptr: this.next, bytes: this.memory.buffer.byteLength - this.next };
  }

  /** Shortens the latest allocation, at ptr, to `bytes` (a matrix rearranged into fewer bytes than
   *  it was read in: panels.ts). */
  trimLast(ptr: number, bytes: number): void {
    const end = ptr + KernelArena.bytesFor(Math.ceil(bytes / 4));
    if (end > this.next) throw new RangeError(`trimLast: ${bytes} bytes at ${ptr} end past the arena's allocations (${this.next})`);
    this.next = end;
  }

  ints(count: number): { ptr: number; view: Int32Array } {
    const ptr = this.take(count);
    return { ptr, view: new Int32Array(this.memory.buffer, ptr, count) };
  }

  private take(count: number): number {
    const ptr = this.next;
    const bytes = KernelArena.bytesFor(count);
    if (ptr + bytes > this.memory.buffer.byteLength) throw new Error(`kernel arena full: ${ptr + bytes} > ${this.memory.buffer.byteLength} bytes`);
    this.next += bytes;
    return ptr;
  }
}
