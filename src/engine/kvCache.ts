// Past keys and values of every layer, and the token ids they were computed from: the next prompt
// reuses the longest common prefix and prefills only the rest. Fixed capacity (the model's
// context), so a decoded token's key and value are written in place and truncating moves nothing.
// KvPositions is what generation needs of any cache; KvCache holds f32 rows (format-v1 models),
// Int8KvCache (v2/kvCacheQ8.ts) 8-bit rows with a scale each (format-v2 models).
import { ContextOverflowError } from './errors';

export type KvKind = 0 | 1; // 0: keys, 1: values

export abstract class KvPositions {
  /** Token ids whose keys and values are held, in position order; its length is the cache length. */
  readonly ids: number[] = [];

  constructor(readonly layers: number, readonly kvHeads: number, readonly headDim: number, readonly capacity: number) {}

  /** Bytes one position's keys and values take, every layer and KV head. */
  abstract get bytesPerPosition(): number;

  get length(): number {
    return this.ids.length;
  }

  /** Bytes of keys and values held. */
  get bytes(): number {
    return this.length * this.bytesPerPosition;
  }

  /** Row number of `position` of kv head `head` in layer `layer`'s keys or values:
   *  [layers][2: keys, values][kvHeads][capacity] rows of headDim values. */
  row(layer: number, kind: KvKind, head: number, position: number): number {
    return ((layer * 2 + kind) * this.kvHeads + head) * this.capacity + position;
  }

  /** Throws ContextOverflowError unless `tokens` more fit after what is held. */
  checkRoom(tokens: number): void {
    if (this.length + tokens > this.capacity) throw new ContextOverflowError(this.length + tokens, this.capacity);
  }

  advance(ids: readonly number[]): void {
    for (const id of ids) this.ids.push(id);
  }

  /** Keeps the longest common prefix of what the cache holds and `promptIds`, but never the whole
   *  prompt: its last token must run to give logits. Returns the number of prompt tokens kept. */
  keepCommonPrefix(promptIds: readonly number[]): number {
    let common = 0;
    const limit = Math.min(this.length, promptIds.length - 1);
    while (common < limit && this.ids[common] === promptIds[common]) common++;
    this.truncate(common);
    return common;
  }

  /** Keeps the first `length` positions; the rows after them are written over by the next tokens. */
  truncate(length: number): void {
    if (length < this.length) this.ids.length = Math.max(0, length);
  }

  /** Forgets every position (the buffer stays for the next prompt). */
  clear(): void {
    this.ids.length = 0;
  }
}

/** f32 rows: [layers][2][kvHeads][capacity][headDim] f32 (format-v1 models' attention). */
export class KvCache extends KvPositions {
  private store: Float32Array = new Float32Array(0);

  /** Floats of the whole layout: [layers][2: keys, values][kvHeads][capacity][headDim] f32. */
  get floats(): number {
    return this.layers * 2 * this.kvHeads * this.capacity * this.headDim;
  }

  get bytesPerPosition(): number {
    return 2 * this.layers * this.kvHeads * this.headDim * Float32Array.BYTES_PER_ELEMENT;
  }

  /** Where the keys and values live: this cache's own buffer (allocated at first use), or the
   *  decode attention's memory while this is the cache it works on (`moveTo`). */
  get data(): Float32Array {
    if (this.store.length === 0) this.store = new Float32Array(this.floats);
    return this.store;
  }

  /** Float offset in `data` of `position` of kv head `head` in layer `layer`'s keys or values. */
  offset(layer: number, kind: KvKind, head: number, position: number): number {
    return this.row(layer, kind, head, position) * this.headDim;
  }

  /** Layer `layer`'s keys or values as the attention graph takes its past: [1][kvHeads][length][headDim], a copy. */
  past(layer: number, kind: KvKind): Float32Array {
    const rows = this.length * this.headDim;
    const out = new Float32Array(this.kvHeads * rows);
    for (let h = 0; h < this.kvHeads; h++) {
      const at = this.offset(layer, kind, h, 0);
      out.set(this.data.subarray(at, at + rows), h * rows);
    }
    return out;
  }

  /** Stores the positions after `length` of the graph's present [1][kvHeads][S][headDim]; the
   *  caller appends the run ids with `advance` after the last layer. */
  storePresent(layer: number, kind: KvKind, present: Float32Array, S: number): void {
    const row = this.headDim;
    for (let h = 0; h < this.kvHeads; h++) {
      const from = (h * S + this.length) * row;
      this.data.set(present.subarray(from, (h + 1) * S * row), this.offset(layer, kind, h, this.length));
    }
  }

  /** Moves what is held into `home` (the same layout) and keeps it there; returns the old buffer. */
  moveTo(home: Float32Array): Float32Array {
    if (home.length !== this.floats) throw new Error(`KV home of ${home.length} floats for a layout of ${this.floats}`);
    const old = this.store;
    const rows = this.length * this.headDim;
    if (rows > 0) {
      for (let l = 0; l < this.layers; l++) {
        for (const kind of [0, 1] as const) {
          for (let h = 0; h < this.kvHeads; h++) {
            const at = this.offset(l, kind, h, 0);
            home.set(old.subarray(at, at + rows), at);
          }
        }
      }
    }
    this.store = home;
    return old;
  }
}
