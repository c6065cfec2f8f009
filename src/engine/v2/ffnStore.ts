// Where a v2 model's FFN up and down rows live. Resident: every neuron in the kernels' memory.
// Flash ("LLM in a flash"): a per-layer neuron cache of `slots` rows in the kernels' memory,
// filled from ffn.bin's row-column bundles ([up | down] of a neuron in one record) on a miss,
// least recently used first out; misses are read in runs of adjacent neurons. Prefill touches
// nearly every neuron, so it streams the layer's whole section through one staging area instead.
import fs from 'node:fs';
import type { KernelArena } from '../wasm/wasmKernels';
import type { Q8 } from './matrix';
import { ModelFileCorruptError } from '../errors';
import { allF16Scales, f16Bits, isF16Scale, scaleError } from '../weights/f16';

/** down: a column per neuron, [F][d]: in the row layout (ffn.bin's records: the flash cache's
 *  rows), or the down-block layout that downQ8 reads (a dense layer's, layout 'blocks'). */
export interface FfnRows { up: Q8; down: Q8 }
/** A layer for the dense path: also down's scales transposed, [d/32][F] f16 bits at downScalesT (downQ8). */
export type DenseFfnRows = FfnRows & { downScalesT: number };

export interface FfnStore {
  /** Every neuron of layer l, rows in neuron order (prefill). */
  dense(l: number): DenseFfnRows;
  /** Makes neurons ids[0…k) of layer l available at once (k ≤ capacity) and writes the row each
   *  sits at into rows[0…k) (may alias ids). */
  gather(l: number, ids: Int32Array, k: number, rows: Int32Array): FfnRows;
  /** Most neurons one gather can hold. */
  readonly capacity: number;
  readonly stats: FlashStatsV2;
}

export interface FlashStatsV2 {
  tokens: number;
  bytesRead: number;
  reads: number;
  hits: number;
  misses: number;
}

/** The neurons of a decoded token's next turn through a store: kept neurons ids[at…kept) (ascending),
 *  at most `capacity` of them, ending where a group of 32 (ids / 32) does when the turn cannot take
 *  them all, so that sparseDownQ8 sees each group whole, as downQ8 does (a capacity below a group's
 *  kept neurons splits it). */
export function turnLength(ids: Int32Array, at: number, kept: number, capacity: number): number {
  const n = Math.min(capacity, kept - at);
  if (at + n === kept) return n;
  let cut = n;
  while (cut > 0 && ids[at + cut] >> 5 === ids[at + cut - 1] >> 5) cut--;
  return cut > 0 ? cut : n;
}

const newStats = (): FlashStatsV2 => ({ tokens: 0, bytesRead: 0, reads: 0, hits: 0, misses: 0 });

export class ResidentFfn implements FfnStore {
  readonly stats = newStats();
  constructor(private readonly layers: readonly DenseFfnRows[], readonly capacity: number) {}
  dense(l: number): DenseFfnRows {
    return this.layers[l];
  }
  gather(l: number, ids: Int32Array, k: number, rows: Int32Array): FfnRows {
    if (rows !== ids) rows.set(ids.subarray(0, k));
    return this.layers[l];
  }
}

/** A flash read spans misses up to this many records apart, the records between read too: each
 *  read() is a system call, and copying a few records between two misses costs less than one more. */
export const READ_GAP = 16;

/** Bytes of one neuron's record in a silu model's ffn.bin (FORMAT.md §F: up and down quants, then their scales). */
export const recordBytesV2 = (d: number) => (2 * d * 9) / 8;

interface LayerCache {
  rows: FfnRows; // [slots][d] each
  slotOf: Int32Array; // [F]: slot of neuron j, or -1
  neuronOf: Int32Array; // [slots]: neuron in slot s, or -1
  lastUsed: Float64Array; // [slots]: the gather that last used slot s
  filled: number;
}

export class FlashFfnV2 implements FfnStore {
  readonly stats = newStats();
  private readonly caches: LayerCache[] = [];
  private readonly staging: Uint8Array; // in the kernels' memory: one layer section, or the misses of one gather
  private readonly stagingWords: Uint32Array; // the same bytes (its scales checked as bit patterns)
  private readonly stagedRows: DenseFfnRows; // [F][d]: the layer streamed for prefill
  private readonly memory: Uint8Array; // the kernels' memory (it never grows)
  private tick = 0;

  private readonly kernels: KernelArena['kernels'];
  private readonly downTmp: number; // toDownBlocks' 32·d bytes

  constructor(
    private readonly fd: number,
    private readonly sections: readonly { offset: number }[],
    private readonly d: number,
    private readonly F: number,
    readonly capacity: number,
    arena: KernelArena,
    q8: (rows: number) => Q8,
  ) {
    this.kernels = arena.kernels;
    this.downTmp = arena.bytes(32 * d).ptr;
    for (let l = 0; l < sections.length; l++) {
      this.caches.push({
        rows: { up: q8(capacity), down: q8(capacity) }, slotOf: new Int32Array(F).fill(-1),
        neuronOf: new Int32Array(capacity).fill(-1), lastUsed: new Float64Array(capacity).fill(-1), filled: 0,
      });
    }
    this.stagedRows = { up: q8(F), down: { ...q8(F), layout: 'blocks' }, downScalesT: arena.bytes((F * d) / 16).ptr };
    this.staging = arena.bytes(F * recordBytesV2(d)).view;
    this.stagingWords = new Uint32Array(this.staging.buffer, this.staging.byteOffset, this.staging.length / 4);
    this.memory = new Uint8Array(arena.memory.buffer);
  }

  /** Arena bytes beyond the resident weights: the caches, the prefill staging rows and the read buffer. */
  static arenaBytes(layers: number, F: number, d: number, capacity: number): number {
    return (layers * 2 * capacity + 2 * F) * ((d * 9) / 8) + (F * d) / 16 + 32 * d + F * recordBytesV2(d) + 64 * (2 * layers + 5);
  }

  dense(l: number): DenseFfnRows {
    const R = recordBytesV2(this.d);
    this.read(this.sections[l].offset, this.F * R);
    for (let j = 0; j < this.F; j++) {
      this.checkScales(j * R, l, j);
      this.place(j * R, this.stagedRows, j);
    }
    transposeScales(this.memory.buffer, this.stagedRows.down, this.stagedRows.downScalesT);
    this.kernels.toDownBlocks(this.stagedRows.down.ptr, this.F, this.d, this.downTmp);
    return this.stagedRows;
  }

  gather(l: number, ids: Int32Array, k: number, rows: Int32Array): FfnRows {
    const c = this.caches[l];
    const now = ++this.tick;
    const missing: number[] = []; // positions i whose neuron must be read
    for (let i = 0; i < k; i++) {
      const s = c.slotOf[ids[i]];
      if (s >= 0) { rows[i] = s; c.lastUsed[s] = now; } else missing.push(i);
    }
    this.stats.hits += k - missing.length;
    this.stats.misses += missing.length;
    if (missing.length === 0) return c.rows;
    const slots = this.freeSlots(c, missing.length, now);
    missing.sort((a, b) => ids[a] - ids[b]);
    const R = recordBytesV2(this.d);
    for (let m = 0; m < missing.length;) {
      let end = m + 1; // misses at most READ_GAP apart: one read, the records between them too
      while (end < missing.length && ids[missing[end]] - ids[missing[end - 1]] <= READ_GAP) end++;
      const first = ids[missing[m]];
      this.read(this.sections[l].offset + first * R, (ids[missing[end - 1]] - first + 1) * R);
      for (let r = m; r < end; r++) {
        const s = slots[r], j = ids[missing[r]];
        const at = (j - first) * R;
        // checked before the slot changes hands: a bad record leaves the cache as it was
        this.checkScales(at, l, j);
        if (c.neuronOf[s] >= 0) c.slotOf[c.neuronOf[s]] = -1;
        c.neuronOf[s] = j;
        c.slotOf[j] = s;
        c.lastUsed[s] = now;
        this.place(at, c.rows, s);
        rows[missing[r]] = s;
      }
      m = end;
    }
    return c.rows;
  }

  /** `n` slots not used by this gather: unfilled ones first, then the least recently used. */
  private freeSlots(c: LayerCache, n: number, now: number): number[] {
    const out: number[] = [];
    const filledBefore = c.filled;
    while (out.length < n && c.filled < this.capacity) out.push(c.filled++);
    if (out.length === n) return out;
    const candidates: number[] = [];
    for (let s = 0; s < filledBefore; s++) if (c.lastUsed[s] !== now) candidates.push(s);
    candidates.sort((a, b) => c.lastUsed[a] - c.lastUsed[b]);
    return out.concat(candidates.slice(0, n - out.length));
  }

  private read(position: number, bytes: number): void {
    readFully(this.fd, this.staging.subarray(0, bytes), position, this.stats);
  }

  /** The scales of neuron j's record at staging[at…] (checkRecordScales, without a view a record). */
  private checkScales(at: number, l: number, j: number): void {
    const first = at + 2 * this.d, count = this.d / 16;
    if (!allF16Scales(this.stagingWords, first / 4, count)) checkRecordScales(this.staging, first, count, l, j); // names the scale
  }

  /** Copies the record at staging[at…] into row `row` of `rows` (up, down: quants then scales);
   *  within one buffer, so no view is made per copy. */
  private place(at: number, rows: FfnRows, row: number): void {
    const d = this.d, mem = this.memory, s = this.staging.byteOffset + at;
    mem.copyWithin(rows.up.ptr + row * d, s, s + d);
    mem.copyWithin(rows.down.ptr + row * d, s + d, s + 2 * d);
    mem.copyWithin(rows.up.scales + (row * d) / 8, s + 2 * d, s + 2 * d + d / 8);
    mem.copyWithin(rows.down.scales + (row * d) / 8, s + 2 * d + d / 8, s + 2 * d + d / 4);
  }
}

/** Layers whose up and down stay resident, and layers read whole from ffn.bin each time they run
 *  (a silu model without calibrated sparsity runs every neuron, so a neuron cache would only
 *  thrash): the section in one positioned read into the kernels' memory, split there
 *  (splitRecordsQ8) into the rows the dense path takes — the same bits as resident rows. */
export class LayerStreamFfn implements FfnStore {
  readonly stats = newStats();
  readonly capacity: number;
  private readonly staging: Uint8Array; // one layer's records, [F][recordBytes]
  private readonly staged: DenseFfnRows;

  constructor(
    private readonly resident: readonly (DenseFfnRows | undefined)[],
    private readonly fd: number,
    private readonly sections: readonly { offset: number }[],
    private readonly d: number,
    private readonly F: number,
    private readonly arena: KernelArena,
    q8: (rows: number) => Q8,
  ) {
    this.capacity = F;
    this.staging = arena.bytes(F * recordBytesV2(d)).view;
    this.staged = { up: q8(F), down: { ...q8(F), layout: 'blocks' }, downScalesT: arena.bytes((F * d) / 16).ptr };
  }

  /** Arena bytes of the staging area and the staged rows (any layer streamed). */
  static arenaBytes(F: number, d: number): number {
    return F * recordBytesV2(d) + 2 * F * ((d * 9) / 8) + (F * d) / 16 + 64 * 4;
  }

  dense(l: number): DenseFfnRows {
    const rows = this.resident[l];
    if (rows) return rows;
    readFully(this.fd, this.staging, this.sections[l].offset, this.stats);
    const { up, down, downScalesT } = this.staged;
    this.arena.kernels.splitRecordsQ8(this.staging.byteOffset, this.F, this.d, up.ptr, up.scales, down.ptr, downScalesT);
    return this.staged;
  }

  gather(l: number, ids: Int32Array, k: number, rows: Int32Array): FfnRows {
    if (rows !== ids) rows.set(ids.subarray(0, k));
    return this.dense(l);
  }
}

/** Fills `into` from ffn.bin at `position`; a file that ends first is ModelFileCorruptError. */
function readFully(fd: number, into: Uint8Array, position: number, stats: FlashStatsV2): void {
  let done = 0;
  while (done < into.length) {
    const n = fs.readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new ModelFileCorruptError('ffn.bin', `it ended at byte ${position + done}, reading ${into.length} bytes at offset ${position}`);
    done += n;
  }
  stats.bytesRead += into.length;
  stats.reads++;
}

/** The `count` f32 scales at records[at…] of neuron j of layer l are f16 values ≥ 0 (FORMAT.md §Q:
 *  a NaN would turn every suggestion into noise, silently; the kernels hold them in 16 bits). */
export function checkRecordScales(records: Uint8Array, at: number, count: number, l: number, j: number): void {
  const start = records.byteOffset + at;
  if (start % 4 === 0 && allF16Scales(new Uint32Array(records.buffer, start, count))) return;
  const view = new DataView(records.buffer, records.byteOffset + at, count * 4);
  for (let i = 0; i < count; i++) {
    const scale = view.getFloat32(4 * i, true);
    if (!Number.isFinite(scale)) throw new ModelFileCorruptError('ffn.bin', `layer ${l} neuron ${j} has a scale of ${scale}`);
    if (!isF16Scale(scale)) throw scaleError('ffn.bin', `layer ${l} neuron ${j}'s scale ${i}`, scale);
  }
}

/** down's scales [F][d/32] (row layout) written transposed, [d/32][F] f16 bits, at dst. */
export function transposeScales(memory: ArrayBufferLike, down: Q8, dst: number): void {
  const F = down.rows, nb = down.cols / 32;
  const from = new Float32Array(memory, down.scales, F * nb), to = new Uint16Array(memory, dst, F * nb);
  for (let j = 0; j < F; j++) for (let b = 0; b < nb; b++) to[b * F + j] = f16Bits(from[j * nb + b]);
}
