// Past keys and values of every layer, as the attention graphs return them, and the token ids they
// were computed from: the next prompt reuses the longest common prefix and prefills only the rest.
export class KvCache {
  // per layer: [1][kvHeads][length][headDim] f32; after truncate() a view on the start of a longer buffer
  readonly keys: Float32Array[];
  readonly values: Float32Array[];
  /** Token ids whose keys and values are held, in position order; its length is the cache length. */
  readonly ids: number[] = [];

  constructor(readonly layers: number, readonly kvHeads: number, readonly headDim: number) {
    this.keys = Array.from({ length: layers }, () => new Float32Array(0));
    this.values = Array.from({ length: layers }, () => new Float32Array(0));
  }

  get length(): number {
    return this.ids.length;
  }

  /** Bytes of keys and values held. */
  get bytes(): number {
    return 2 * this.layers * this.kvHeads * this.length * this.headDim * Float32Array.BYTES_PER_ELEMENT;
  }

  dims(): number[] {
    return [1, this.kvHeads, this.length, this.headDim];
  }

  /** Replaces layer l's past with the graph's present; the caller appends the run ids with
   *  `advance` after the last layer. */
  set(layer: number, keys: Float32Array, values: Float32Array): void {
    this.keys[layer] = keys;
    this.values[layer] = values;
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

  /** Keeps the first `length` positions. In place: each head's rows move down to close the gap, so
   *  nothing is allocated; the arrays become views on the start of their buffers. */
  truncate(length: number): void {
    const old = this.length;
    if (length >= old) return;
    if (length <= 0) return this.clear();
    const row = this.headDim;
    for (const arrays of [this.keys, this.values]) {
      for (let l = 0; l < this.layers; l++) {
        const a = arrays[l];
        // Head h moves from h·old rows to h·length rows; head 0 stays. Moving down in head order
        // never overwrites a head that has not moved yet.
        for (let h = 1; h < this.kvHeads; h++) a.copyWithin(h * length * row, h * old * row, (h * old + length) * row);
        arrays[l] = a.subarray(0, this.kvHeads * length * row);
      }
    }
    this.ids.length = length;
  }

  /** Forgets everything and frees the buffers. */
  clear(): void {
    for (let l = 0; l < this.layers; l++) {
      this.keys[l] = new Float32Array(0);
      this.values[l] = new Float32Array(0);
    }
    this.ids.length = 0;
  }
}
