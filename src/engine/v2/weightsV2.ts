// A v2 model's weights in the kernels' memory: weights.bin's tensors read straight into the
// arena, ffn.bin's bundled records split into the gate / up / down matrices the kernels run on.
import type { Architecture } from '../manifest';
import { ModelFileCorruptError } from '../errors';
import { KernelArena } from '../wasm/wasmKernels';
import { q4Bytes, q4Layout } from '../weights/q4';
import { checkRecordScales, FlashFfnV2, LayerStreamFfn, recordBytesV2, ResidentFfn, transposeScales, type DenseFfnRows } from './ffnStore';
import type { Q8, StreamedMatrix, Weight } from './matrix';
import { panelBytes, panelRoom, rowsToPanels } from './panels';
import type { LayerV2, WeightsV2 } from './modelV2';
import { chunkTokens, scratchBytes } from './modelV2';
import { stagingSize, WeightStream } from './weightStream';

/** Where a v2 model's tensors come from: the files (loadV2.ts) or, in tests, arrays. */
export interface TensorSource {
  /** Fills `dst` with tensor `name`'s bytes (q8_32 as FORMAT.md §Q lays them out, or f32). */
  read(name: string, dst: Uint8Array): Promise<void>;
  has(name: string): boolean;
  /** A matrix's storage: 'q4_32' (FORMAT.md §Q4) or, when absent or anything else, q8_32. */
  dtype?(name: string): string | undefined;
  /** Layer l's FFN records (ffn.bin v3, dtype q8_32), `F` of `recordBytes` each. */
  ffnLayer(l: number): Promise<Uint8Array>;
  ffnGatedRecords: boolean;
  /** weights.bin open for positioned reads, for the matrices the budget leaves there (loadV2.ts). */
  file?: { fd: number; name: string; offset(tensor: string): number };
}

const q8Bytes = (rows: number, cols: number) => rows * cols + (rows * cols / 32) * 4;
const isQ4 = (source: Pick<TensorSource, 'dtype'>, name: string) => source.dtype?.(name) === 'q4_32';
/** Arena bytes of weights.bin's matrix `name` [rows][cols]: q4_32 as stored, q8_32 in panels. */
const matrixBytes = (source: Pick<TensorSource, 'dtype'>, name: string, rows: number, cols: number) => (isQ4(source, name) ? q4Bytes(rows, cols) : panelBytes(rows, cols));

/** How the FFN's up and down rows are held: all resident; `capacity` neurons per layer cached
 *  from ffn.bin (open as `fd`, layer sections at `sections`); or the layers in `streamed` read whole
 *  from ffn.bin each time they run, the others resident (silu models). */
export type FfnPlan = { kind: 'resident' }
  | { kind: 'flash'; capacity: number; fd: number; sections: readonly { offset: number }[] }
  | { kind: 'layers'; streamed: ReadonlySet<number>; fd: number; sections: readonly { offset: number }[] };

/** Arena bytes for the weights of `arch` plus the KV cache and scratch of `contextTokens`, the FFN
 *  held as `plan` says, the weights.bin matrices named in `streamed` left in the file (and a
 *  staging area to read them into when there are any), for a prefill on `threads` threads. */
export function arenaBytes(arch: Architecture, contextTokens: number, source: Pick<TensorSource, 'has' | 'dtype'>, plan: FfnPlan = { kind: 'resident' }, streamed: ReadonlySet<string> = new Set(), threads = 1): number {
  const { dModel: d, heads: H, kvHeads: Hkv, headDim: hd, ffnSize: F, vocabSize: V, layers } = arch;
  const b = (bytes: number) => KernelArena.bytesFor(Math.ceil(bytes / 4));
  const m = (name: string, rows: number, cols: number) => (streamed.has(name) ? 0 : b(matrixBytes(source, name, rows, cols)));
  // a matrix is read in its row layout before it becomes panels, up to rows·cols/16 bytes more (panel)
  let total = b((Math.max(V, F, (H + 2 * Hkv) * hd) * Math.max(d, H * hd)) / 16);
  total += m('embed', V, d) + (arch.tiedEmbeddings ? 0 : m('head', V, d)) + b(4 * d);
  if (source.has('head_bias')) total += b(4 * V);
  // resident: up in panels, down as ffn.bin's neuron columns (down-block layout, converted through
  // 32·d bytes of scratch) plus its scales transposed (downQ8)
  const upDown = b(panelBytes(F, d)) + b(q8Bytes(F, d)) + b((F * d) / 16);
  const residentFfn = (l: number) => plan.kind === 'resident' || (plan.kind === 'layers' && !plan.streamed.has(l));
  if (plan.kind !== 'flash') total += b(32 * d);
  for (let l = 0; l < layers; l++) {
    const p = `layers.${l}.`;
    total += 3 * b(4 * d) + m(`${p}qkv`, (H + 2 * Hkv) * hd, d) + m(`${p}out`, d, H * hd) + (residentFfn(l) ? upDown : 0)
      + (arch.ffnActivation === 'silu' ? m(`${p}ffn_gate`, F, d) : b(panelBytes(F, d))) + (arch.attentionBias ? b(4 * (H + 2 * Hkv) * hd) : 0);
  }
  const cache = plan.kind === 'flash' ? FlashFfnV2.arenaBytes(layers, F, d, plan.capacity)
    : plan.kind === 'layers' && plan.streamed.size > 0 ? b(LayerStreamFfn.arenaBytes(F, d)) : 0;
  const s = stagingSize([...streamed].map((name) => streamedShape(arch, source, name)), chunkTokens(threads));
  const staging = streamed.size > 0 ? b(s.dataBytes + s.outBytes + 4 * threads) : 0;
  return total + cache + staging + scratchBytes(arch, contextTokens, threads);
}

/** [rows, cols] and storage of weights.bin's matrix `name` (FORMAT.md §W). */
function streamedShape(arch: Architecture, source: Pick<TensorSource, 'dtype'>, name: string): { rows: number; cols: number; q4: boolean } {
  const { dModel: d, heads: H, kvHeads: Hkv, headDim: hd, ffnSize: F, vocabSize: V } = arch;
  const q4 = isQ4(source, name);
  if (name === 'embed' || name === 'head') return { rows: V, cols: d, q4 };
  if (name.endsWith('.qkv')) return { rows: (H + 2 * Hkv) * hd, cols: d, q4 };
  if (name.endsWith('.out')) return { rows: d, cols: H * hd, q4 };
  if (name.endsWith('.ffn_gate')) return { rows: F, cols: d, q4 };
  throw new Error(`no streamed matrix is called ${name}`);
}

function q8In(arena: KernelArena, rows: number, cols: number): Q8 & { bytes: Uint8Array } {
  const { ptr, view } = arena.bytes(q8Bytes(rows, cols));
  return { ptr, scales: ptr + rows * cols, rows, cols, layout: 'rows', bytes: view };
}

/** Room for a matrix in panels, its row layout first (to read or split records into, then `panel`,
 *  before the next allocation: the row layout is the larger, panel trims it). */
function panelIn(arena: KernelArena, rows: number, cols: number): Q8 & { bytes: Uint8Array } {
  const { ptr } = arena.bytes(panelRoom(rows, cols));
  return { ptr, scales: ptr + rows * cols, rows, cols, layout: 'rows', bytes: new Uint8Array(arena.memory.buffer, ptr, q8Bytes(rows, cols)) };
}

/** The latest allocation, panelIn's m, rearranged into panels and trimmed to them. */
function panel(arena: KernelArena, m: Q8): Q8 {
  // in the kernels, with the arena's still unallocated end as scratch (later layers, the KV cache
  // and the scratch rows: always enough at real sizes), else in JavaScript (3–5× slower)
  const tail = arena.freeTail();
  if (tail.bytes >= (m.rows * m.cols) / 8 + 4 * m.cols) arena.kernels.toPanels(m.ptr, m.rows, m.cols, tail.ptr);
  else rowsToPanels(arena.memory.buffer, m.ptr, m.rows, m.cols);
  arena.trimLast(m.ptr, panelBytes(m.rows, m.cols));
  return { ptr: m.ptr, scales: m.ptr, rows: m.rows, cols: m.cols, layout: 'panels' };
}

function q4In(arena: KernelArena, rows: number, cols: number): Q8 & { bytes: Uint8Array } {
  const { ptr, view } = arena.bytes(q4Bytes(rows, cols));
  const at = q4Layout(rows, cols);
  return { ptr, scales: ptr + at.scales, mins: ptr + at.mins, rows, cols, bytes: view };
}

/** threads > 1: the arena is a shared memory the prefill's worker threads run the kernels on. */
export async function loadWeightsV2(arch: Architecture, contextTokens: number, source: TensorSource, gateThresholds: number[], plan: FfnPlan = { kind: 'resident' }, streamed: ReadonlySet<string> = new Set(), threads = 1): Promise<WeightsV2> {
  const { dModel: d, heads: H, kvHeads: Hkv, headDim: hd, ffnSize: F, vocabSize: V } = arch;
  const arena = new KernelArena(arenaBytes(arch, contextTokens, source, plan, streamed, threads), { shared: threads > 1 });
  let stream: WeightStream | undefined;
  if (streamed.size > 0) {
    if (!source.file) throw new Error('streamed matrices need weights.bin open (TensorSource.file)');
    const size = stagingSize([...streamed].map((name) => streamedShape(arch, source, name)), chunkTokens(threads));
    stream = new WeightStream(source.file.fd, source.file.name, arena.memory, arena.bytes(size.dataBytes + size.outBytes + 4 * threads).ptr, size.dataBytes, size.outBytes);
  }
  const q8 = async (name: string, rows: number, cols: number): Promise<Weight> => {
    if (stream && source.file && streamed.has(name)) {
      const m: StreamedMatrix = { streamed: true, name, offset: source.file.offset(name), rows, cols, q4: isQ4(source, name) };
      stream.check(m);
      return m;
    }
    if (isQ4(source, name)) {
      const q4 = q4In(arena, rows, cols);
      await source.read(name, q4.bytes);
      return q4;
    }
    const m = panelIn(arena, rows, cols);
    await source.read(name, m.bytes);
    return panel(arena, m);
  };
  const f32 = async (name: string, n: number) => {
    const { view } = arena.floats(n);
    await source.read(name, new Uint8Array(view.buffer, view.byteOffset, 4 * n));
    return view;
  };
  const embed = await q8('embed', V, d);
  const head = arch.tiedEmbeddings ? embed : await q8('head', V, d);
  const headBias = source.has('head_bias') ? await f32('head_bias', V) : undefined;
  const finalNorm = await f32('final_norm', d);
  const layers: LayerV2[] = [];
  const ffnRows: (DenseFfnRows | undefined)[] = [];
  let downTmp: number | undefined; // toDownBlocks' 32·d bytes, once
  for (let l = 0; l < arch.layers; l++) {
    const p = `layers.${l}.`;
    const layer: LayerV2 = {
      attnNorm: await f32(`${p}attn_norm`, d),
      qkv: await q8(`${p}qkv`, (H + 2 * Hkv) * hd, d),
      qkvBias: arch.attentionBias ? await f32(`${p}qkv_bias`, (H + 2 * Hkv) * hd) : undefined,
      out: await q8(`${p}out`, d, H * hd),
      ffnNorm: await f32(`${p}ffn_norm`, d),
      gate: arch.ffnActivation === 'silu' ? await q8(`${p}ffn_gate`, F, d) : undefined,
    };
    layers.push(layer);
    if (plan.kind === 'flash') continue; // up and down stay in ffn.bin
    if (plan.kind === 'layers' && plan.streamed.has(l)) { // read whole when it runs: its scales checked once here
      const records = await source.ffnLayer(l), R = recordBytesV2(d);
      for (let j = 0; j < F; j++) checkRecordScales(records, j * R + 2 * d, d / 16, l, j);
      ffnRows.push(undefined);
      continue;
    }
    // each matrix filled from the records and rearranged before the next is allocated (panel)
    const records = await source.ffnLayer(l), parts = source.ffnGatedRecords ? 3 : 2;
    checkRecords(records, l, F, d, parts);
    const memory = new Uint8Array(arena.memory.buffer);
    const fill = (m: Q8 & { bytes: Uint8Array }, part: number) => (copyPart(records, F, d, parts, part, m, memory), m);
    if (parts === 3) layer.gate = panel(arena, fill(panelIn(arena, F, d), 0));
    const up = panel(arena, fill(panelIn(arena, F, d), parts - 2));
    const down = fill(q8In(arena, F, d), parts - 1);
    const downScalesT = arena.bytes((F * d) / 16).ptr;
    transposeScales(arena.memory.buffer, down, downScalesT);
    downTmp ??= arena.bytes(32 * d).ptr;
    arena.kernels.toDownBlocks(down.ptr, F, d, downTmp);
    ffnRows.push({ up, down: { ...down, layout: 'blocks' }, downScalesT });
  }
  const ffn = plan.kind === 'flash'
    ? new FlashFfnV2(plan.fd, plan.sections, d, F, plan.capacity, arena, (rows) => q8In(arena, rows, d))
    : plan.kind === 'layers' && plan.streamed.size > 0
      ? new LayerStreamFfn(ffnRows, plan.fd, plan.sections, d, F, arena, (rows) => q8In(arena, rows, d))
      : new ResidentFfn(ffnRows as DenseFfnRows[], F);
  return { arena, embed, head, headBias, finalNorm, layers, ffn, gateThresholds, stream };
}

/** Layer l's records (FORMAT.md §F, `parts` parts each) are F of them, with valid scales. */
function checkRecords(records: Uint8Array, l: number, F: number, d: number, parts: number): void {
  const recordBytes = (parts * d * 9) / 8;
  if (records.length !== F * recordBytes) throw new ModelFileCorruptError('ffn.bin', `a layer of ${records.length} bytes, expected ${F * recordBytes}`);
  for (let j = 0; j < F; j++) checkRecordScales(records, j * recordBytes + parts * d, (parts * d) / 32, l, j);
}

/** Copies part p of each record (its quants, then its scales: FORMAT.md §F) into row j of m. */
function copyPart(records: Uint8Array, F: number, d: number, parts: number, p: number, m: Q8, memory: Uint8Array): void {
  const recordBytes = (parts * d * 9) / 8, blocks = d / 32;
  for (let j = 0; j < F; j++) {
    const at = j * recordBytes;
    memory.set(records.subarray(at + p * d, at + (p + 1) * d), m.ptr + j * d);
    memory.set(records.subarray(at + parts * d + p * blocks * 4, at + parts * d + (p + 1) * blocks * 4), m.scales + j * blocks * 4);
  }
}

