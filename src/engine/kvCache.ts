// Past keys and values of every layer, as the attention graphs return them.
export class KvCache {
  // per layer: [1][kvHeads][length][headDim] f32
  readonly keys: Float32Array[];
  readonly values: Float32Array[];
  length = 0;

  constructor(readonly layers: number, readonly kvHeads: number, readonly headDim: number) {
    this.keys = Array.from({ length: layers }, () => new Float32Array(0));
    this.values = Array.from({ length: layers }, () => new Float32Array(0));
  }

  dims(): number[] {
    return [1, this.kvHeads, this.length, this.headDim];
  }

  /** Replaces layer l's past with the graph's present; the caller advances `length` after the last layer. */
  set(layer: number, keys: Float32Array, values: Float32Array): void {
    this.keys[layer] = keys;
    this.values[layer] = values;
  }
}
