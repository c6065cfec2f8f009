// weights.bin's matrices that the memory budget leaves on disk (loadV2.ts plans which): read into one
// bounded staging area in the kernels' memory just before use, a slice of rows at a time, with
// positioned reads (the page cache keeps hot ones fast), and run there by the same row kernels as
// resident ones — so a streamed matrix gives the same bits. The embedding reads one row per token.
import fs from 'node:fs';
import { ModelFileCorruptError } from '../errors';
import { isF16Scale, scaleError } from '../weights/f16';
import { q4Layout } from '../weights/q4';
import type { Q8, StreamedMatrix } from './matrix';
import type { KernelCall } from './threadPool';

/** Data bytes one streamed slice may take: one staging area of this size serves every matrix. 1 MiB
 *  holds a whole layer matrix at SmolLM2's size (its gate: 995 KB), read in one call (below). */
export const SLICE_BYTES = 1 << 20;

/** Bytes of one row of a streamed matrix (quants and its scales, and mins for q4_32). */
export const streamedRowBytes = (cols: number, q4: boolean) => (q4 ? (cols * 3) / 4 : (cols * 9) / 8);

/** Rows per slice: as many as SLICE_BYTES holds (at least one). */
export const sliceRows = (m: Pick<StreamedMatrix, 'rows' | 'cols' | 'q4'>) => Math.max(1, Math.min(m.rows, Math.floor(SLICE_BYTES / streamedRowBytes(m.cols, m.q4))));

/** The staging area the streamed matrices `ms` need for T tokens: their largest slice (data
 *  bytes), and the most rows a slice has (its [T][rows] f32 outputs before they go to their columns). */
export function stagingSize(ms: readonly Pick<StreamedMatrix, 'rows' | 'cols' | 'q4'>[], T: number): { dataBytes: number; outBytes: number } {
  let dataBytes = 0, rows = 0;
  for (const m of ms) {
    dataBytes = Math.max(dataBytes, sliceRows(m) * streamedRowBytes(m.cols, m.q4));
    rows = Math.max(rows, sliceRows(m));
  }
  return { dataBytes: Math.ceil(dataBytes / 64) * 64, outBytes: 4 * T * rows };
}

/** A read at least this long is shared by the threads when they are lent (WeightStream.threads):
 *  shorter ones take a few microseconds on one thread, about what a pass over the threads costs. */
export const SHARED_READ_MIN_BYTES = 1 << 17;

/** Threads reading together: runs a unit per thread (ThreadPool.run), and how many there are. */
export interface ReadThreads { run(units: KernelCall[][]): void; count: number }

export interface StreamStats { bytesRead: number; reads: number; sharedReads: number }

export class WeightStream {
  readonly stats: StreamStats = { bytesRead: 0, reads: 0, sharedReads: 0 };
  /** [T][slice rows] f32: a slice's outputs (matmul, T > 1). */
  readonly outPtr: number;
  /** Set while the forward pass lends its threads (ModelV2): each read of SHARED_READ_MIN_BYTES or
   *  more is split between them, a part each (SmolLM2 at half its bytes reads 93 MB a token; on 2
   *  threads it decoded in 20.5–25.2 ms a token against 24.3–31.5 with one thread reading:
   *  bench:flash-v2 --budgets 0.5 --threads 2). */
  threads: ReadThreads | undefined;
  private readonly results: number; // an i32 per part of a shared read: how many bytes it read

  /** The staging area at ptr: stagingSize's dataBytes, then its outBytes, then 4 bytes per thread. */
  constructor(private readonly fd: number, private readonly fileName: string, private readonly memory: WebAssembly.Memory, private readonly ptr: number, dataBytes: number, outBytes: number) {
    this.outPtr = ptr + dataBytes;
    this.results = this.outPtr + outBytes;
  }

  /** Rows [r0, r1) of `m` read into the staging area, in the row layout the kernels take. */
  rows(m: StreamedMatrix, r0: number, r1: number): Q8 {
    const n = r1 - r0, c = m.cols, nb = c / 32;
    if (m.q4) {
      const at = q4Layout(m.rows, c);
      const scales = this.ptr + (n * c) / 2, mins = scales + 4 * n * nb;
      if (n === m.rows) { // the whole matrix: its parts are adjacent in the file, one read
        this.read(m, this.ptr, (n * c * 3) / 4, m.offset);
      } else {
        this.read(m, this.ptr, (n * c) / 2, m.offset + (r0 * c) / 2);
        this.read(m, scales, 4 * n * nb, m.offset + at.scales + 4 * r0 * nb);
        this.read(m, mins, 4 * n * nb, m.offset + at.mins + 4 * r0 * nb);
      }
      return { ptr: this.ptr, scales, mins, rows: n, cols: c };
    }
    const scales = this.ptr + n * c;
    if (n === m.rows) { // the whole matrix: quants and scales are adjacent in the file, one read
      this.read(m, this.ptr, (n * c * 9) / 8, m.offset);
    } else {
      this.read(m, this.ptr, n * c, m.offset + r0 * c);
      this.read(m, scales, 4 * n * nb, m.offset + m.rows * c + 4 * r0 * nb);
    }
    return { ptr: this.ptr, scales, rows: n, cols: c, layout: 'rows' };
  }

  /** Reads all of `m` once, slice by slice, and refuses a non-finite scale or min, or a q8_32 scale
   *  that is not an f16 value (at load: the resident tensors get the same check from readTensorInto). */
  check(m: StreamedMatrix): void {
    const step = sliceRows(m);
    for (let r0 = 0; r0 < m.rows; r0 += step) {
      const s = this.rows(m, r0, Math.min(m.rows, r0 + step));
      const floats = new Float32Array(this.memory.buffer, s.scales, ((s.rows * s.cols) / 32) * (m.q4 ? 2 : 1));
      for (let i = 0; i < floats.length; i++) {
        if (!Number.isFinite(floats[i])) throw new ModelFileCorruptError(this.fileName, `tensor ${m.name} has a non-finite scale in rows ${r0}…${r0 + s.rows - 1}`);
        if (!m.q4 && !isF16Scale(floats[i])) throw scaleError(this.fileName, `tensor ${m.name}: a scale in rows ${r0}…${r0 + s.rows - 1}`, floats[i]);
      }
    }
  }

  private read(m: StreamedMatrix, dst: number, bytes: number, position: number): void {
    const threads = this.threads;
    if (threads && bytes >= SHARED_READ_MIN_BYTES) {
      const part = Math.ceil(bytes / threads.count / 64) * 64;
      const parts = Array.from({ length: Math.ceil(bytes / part) }, (_, i) => [i * part, Math.min(part, bytes - i * part)]);
      threads.run(parts.map(([at, n], i): KernelCall[] => [['readAt', this.fd, dst + at, n, (position + at) % 2 ** 32, Math.floor((position + at) / 2 ** 32), this.results + 4 * i]]));
      const done = new Int32Array(this.memory.buffer, this.results, parts.length);
      parts.forEach(([at, n], i) => {
        if (done[i] === -1) this.readHere(m, dst + at, n, position + at, bytes, position); // the read threw: again here, for its error
        else if (done[i] < n) throw this.ended(m, position + at + done[i], bytes, position);
      });
      this.stats.sharedReads++;
    } else this.readHere(m, dst, bytes, position, bytes, position);
    this.stats.bytesRead += bytes;
    this.stats.reads++;
  }

  /** Part [position, position + bytes) of the read of `whole` bytes at `from`, on this thread. */
  private readHere(m: StreamedMatrix, dst: number, bytes: number, position: number, whole: number, from: number): void {
    const view = new Uint8Array(this.memory.buffer, dst, bytes);
    for (let done = 0, got = 0; done < bytes; done += got) {
      got = fs.readSync(this.fd, view, done, bytes - done, position + done);
      if (got === 0) throw this.ended(m, position + done, whole, from);
    }
  }

  private ended(m: StreamedMatrix, at: number, bytes: number, position: number): ModelFileCorruptError {
    return new ModelFileCorruptError(this.fileName, `it ended at byte ${at}, reading ${bytes} bytes of tensor ${m.name} at offset ${position}`);
  }
}
