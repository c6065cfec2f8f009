import type { KernelArena } from '../wasm/wasmKernels';

// One layer's resident FFN neurons ("LLM in a flash" windowing): a preallocated slab of neuron
// records, an id→slot map and, per slot, the last token step that used it. Slots 0…count-1 are
// occupied: eviction swap-deletes (the last slot moves into the hole) and loading appends, so nothing
// is reallocated per token. Neurons not used in the last `windowTokens` steps are evicted.

/** Neuron rows in the layout the FFN graph and the sparse kernel read: row s of each array is one
 *  neuron's gate row, up row and down column. */
export interface NeuronRows {
  readonly gate: Float32Array | undefined; // [rows][dModel]
  readonly up: Float32Array; //               [rows][dModel]
  readonly down: Float32Array; //             [rows][dModel]
}

export function allocateRows(rows: number, dModel: number, gated: boolean): NeuronRows {
  return {
    gate: gated ? new Float32Array(rows * dModel) : undefined,
    up: new Float32Array(rows * dModel),
    down: new Float32Array(rows * dModel),
  };
}

/** Where rows live in a kernel arena (byte offsets; gate 0 when the FFN is not gated). */
export interface RowAddresses { gate: number; up: number; down: number }

export class NeuronCache implements NeuronRows {
  /** [capacity][dModel] f32 each; slot s holds neuron idOf[s]. gate is undefined for plain FFNs. */
  readonly gate: Float32Array | undefined;
  readonly up: Float32Array;
  readonly down: Float32Array;
  /** slot of neuron j, or -1 when it is not resident. */
  readonly slotOf: Int32Array;
  readonly idOf: Int32Array;
  private readonly lastUsed: Int32Array;
  count = 0;

  /** Set when the rows live in the WebAssembly kernels' memory. */
  readonly addresses: RowAddresses | undefined;

  constructor(readonly capacity: number, readonly ffnSize: number, readonly dModel: number, gated: boolean, arena?: KernelArena) {
    if (arena) {
      const part = () => arena.floats(capacity * dModel);
      const gate = gated ? part() : undefined;
      const up = part();
      const down = part();
      ({ gate: this.gate, up: this.up, down: this.down } = { gate: gate?.view, up: up.view, down: down.view });
      this.addresses = { gate: gate?.ptr ?? 0, up: up.ptr, down: down.ptr };
    } else {
      ({ gate: this.gate, up: this.up, down: this.down } = allocateRows(capacity, dModel, gated));
    }
    this.slotOf = new Int32Array(ffnSize).fill(-1);
    this.idOf = new Int32Array(capacity);
    this.lastUsed = new Int32Array(capacity);
  }

  get full(): boolean {
    return this.capacity === this.ffnSize && this.count === this.ffnSize;
  }

  /** Marks the resident ones of `ids` used at `step`; returns how many were resident (hits). */
  touch(ids: Int32Array, n: number, step: number): number {
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const s = this.slotOf[ids[i]];
      if (s >= 0) { this.lastUsed[s] = step; hits++; }
    }
    return hits;
  }

  /** Evicts neurons whose last use is outside the window of the last `windowTokens` steps (those
   *  used at `step` stay). Returns how many were evicted. */
  evictOutsideWindow(step: number, windowTokens: number): number {
    let evicted = 0;
    for (let s = 0; s < this.count; ) {
      if (step - this.lastUsed[s] >= windowTokens) { this.swapDelete(s); evicted++; } else s++;
    }
    return evicted;
  }

  /** Frees slots, oldest use first, never one used at `step`, until `free` slots are free or
   *  nothing more may go. Returns how many were evicted. */
  makeRoom(free: number, step: number): number {
    let evicted = 0;
    while (this.capacity - this.count < free) {
      let oldest = -1;
      for (let s = 0; s < this.count; s++) {
        if (this.lastUsed[s] < step && (oldest < 0 || this.lastUsed[s] < this.lastUsed[oldest])) oldest = s;
      }
      if (oldest < 0) break;
      this.swapDelete(oldest);
      evicted++;
    }
    return evicted;
  }

  /** Claims the next free slot for neuron `id` (used at `step`); the caller fills its rows. */
  append(id: number, step: number): number {
    const s = this.count++;
    this.idOf[s] = id;
    this.slotOf[id] = s;
    this.lastUsed[s] = step;
    return s;
  }

  private swapDelete(s: number): void {
    const last = --this.count;
    this.slotOf[this.idOf[s]] = -1;
    if (s === last) return;
    const d = this.dModel;
    const moved = this.idOf[last];
    for (const a of [this.gate, this.up, this.down]) a?.copyWithin(s * d, last * d, (last + 1) * d);
    this.idOf[s] = moved;
    this.slotOf[moved] = s;
    this.lastUsed[s] = this.lastUsed[last];
  }
}
