// A format-v2 model's KV cache in 8 bits: each (layer, keys|values, KV head, position) row of
// headDim values is stored as int8 quants with one f32 scale (max|row| / 127), written as the
// tokens run by the kernels' qkvPost and read in place by their attendQ8. A quarter of f32's bytes
// (SmolLM2-135M at 1,024 positions: 12.5 MB instead of 47 MB), within the q8 weights' own error.
import { KvPositions } from '../kvCache';

/** Where rows live: quants [rows][headDim] int8, scales [rows] f32 (KvPositions.row numbers them). */
export interface KvRowsQ8 { quants: Int8Array; scales: Float32Array }

export class Int8KvCache extends KvPositions {
  private store: KvRowsQ8 = { quants: new Int8Array(0), scales: new Float32Array(0) };

  /** Rows of the whole layout: [layers][2][kvHeads][capacity]. */
  get rows(): number {
    return this.layers * 2 * this.kvHeads * this.capacity;
  }

  get bytesPerPosition(): number {
    return 2 * this.layers * this.kvHeads * (this.headDim + Float32Array.BYTES_PER_ELEMENT);
  }

  /** Moves what is held into `home` (the same layout) and keeps it there. */
  moveTo(home: KvRowsQ8): void {
    if (home.scales.length !== this.rows || home.quants.length !== this.rows * this.headDim) throw new Error(`KV home of ${home.scales.length} rows for a layout of ${this.rows}`);
    const old = this.store;
    const n = this.length;
    if (n > 0) {
      for (let l = 0; l < this.layers; l++) {
        for (const kind of [0, 1] as const) {
          for (let h = 0; h < this.kvHeads; h++) {
            const r = this.row(l, kind, h, 0);
            home.scales.set(old.scales.subarray(r, r + n), r);
            home.quants.set(old.quants.subarray(r * this.headDim, (r + n) * this.headDim), r * this.headDim);
          }
        }
      }
    }
    this.store = home;
  }
}
