// Reads neuron records from ffn.bin into a neuron cache: ids sorted by offset, adjacent records
// coalesced into one positional read, then decoded into the cache's slots. The reads are
// synchronous, on the worker's thread: from the page cache that costs least per read (code-v1 at
// its minimum budget decoded 2.98 ms/token against 4.73 ms with async reads through libuv's thread
// pool, `npm run bench -- --io` before it was removed). Nothing enters the cache before its bytes are read, so a failed read leaves the
// cache as it was.
import { readSync } from 'node:fs';
import type fs from 'node:fs/promises';
import { ModelFileCorruptError } from '../errors';
import { decodeFfnRecord, type FfnHeader } from '../weights/ffnFile';
import type { NeuronCache, NeuronRows } from './neuronCache';

export interface ReadCounters {
  bytesRead: number;
  reads: number;
  neuronsRead: number;
}

export class RecordReader {
  /** Staging bytes for one layer's loads: up to `maxRecords` records. */
  private readonly staging: Buffer;

  constructor(
    private readonly file: fs.FileHandle,
    private readonly header: FfnHeader,
    readonly maxRecords: number,
    private readonly name: string,
  ) {
    this.staging = Buffer.alloc(maxRecords * header.recordBytes);
  }

  /** Loads neurons `ids[0…n)` (ascending, none resident, n ≤ maxRecords) of `layer` into `cache`,
   *  marking them used at `step`. */
  async load(layer: number, ids: Int32Array, n: number, cache: NeuronCache, step: number, counters: ReadCounters): Promise<void> {
    this.stage(layer, ids, 0, n, counters);
    for (let i = 0; i < n; i++) this.decodeRecord(i, cache.append(ids[i], step), cache);
  }

  /** Reads neurons `ids[from … from + n)` (ascending, n ≤ maxRecords) of `layer` into rows 0…n-1 of
   *  `rows`, outside any cache. */
  async loadRows(layer: number, ids: Int32Array, from: number, n: number, rows: NeuronRows, counters: ReadCounters): Promise<void> {
    this.stage(layer, ids, from, n, counters);
    for (let i = 0; i < n; i++) this.decodeRecord(i, i, rows);
  }

  /** ids[from … from + n) into staging records 0…n-1: adjacent records in one read. */
  private stage(layer: number, ids: Int32Array, from: number, n: number, counters: ReadCounters): void {
    const { recordBytes } = this.header;
    const base = this.header.sections[layer].offset;
    for (let i = 0; i < n; ) {
      let j = i + 1;
      while (j < n && ids[from + j] === ids[from + j - 1] + 1) j++; // one run of adjacent records
      const bytes = (j - i) * recordBytes;
      const at = i * recordBytes;
      const first = ids[from + i];
      const position = base + first * recordBytes;
      if (readSync(this.file.fd, this.staging, at, bytes, position) !== bytes) {
        throw new ModelFileCorruptError(this.name, `truncated: layer ${layer} neuron ${first} lies past the end`);
      }
      counters.bytesRead += bytes;
      counters.reads++;
      i = j;
    }
    counters.neuronsRead += n;
  }

  /** Reads neurons [first, first + count) of `layer` into `dst` rows 0…count-1 (dense streaming of
   *  a layer in chunks, for prefill when the layer is not resident). count ≤ maxRecords. */
  async readRange(layer: number, first: number, count: number, dst: NeuronRows, counters: ReadCounters): Promise<void> {
    const { recordBytes } = this.header;
    const bytes = count * recordBytes;
    const { bytesRead } = await this.file.read(this.staging, 0, bytes, this.header.sections[layer].offset + first * recordBytes);
    if (bytesRead !== bytes) throw new ModelFileCorruptError(this.name, `truncated: layer ${layer} neurons ${first}+${count}`);
    counters.bytesRead += bytes;
    counters.reads++;
    counters.neuronsRead += count;
    for (let i = 0; i < count; i++) this.decodeRecord(i, i, dst);
  }

  /** Staging record i (gate row | up row | down column; int8 with its scales) → row `slot` of `rows`. */
  private decodeRecord(i: number, slot: number, rows: NeuronRows): void {
    decodeFfnRecord(this.header, this.staging, i * this.header.recordBytes, rows, slot);
  }
}
