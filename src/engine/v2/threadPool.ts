// The threaded prefill's workers: threads − 1 worker threads that instantiate the shared-memory
// kernels on the model's shared arena, plus the calling thread. One `run` is one step of the
// forward pass split by tokens: each part a list of kernel calls writing disjoint output rows. The
// calling thread posts the parts into an Int32Array control block and wakes the workers with
// Atomics.notify, runs part 0 itself, then Atomics.waits for theirs — no message per call, whose
// round trip would cost more than a small chunk's kernels. A worker that throws, exits or does not
// answer in time fails the run with PrefillThreadError and leaves the pool broken: its owner
// disposes it and starts a new one (ModelV2).
import { Worker } from 'node:worker_threads';
import { PrefillThreadError } from '../errors';
import type { KernelArena } from '../wasm/wasmKernels';

type Kernels = KernelArena['kernels'];
const OPS = ['matmulQ8P', 'matmulQ8', 'matmulQ4', 'downQ8', 'attend'] as const;
type Op = (typeof OPS)[number];
/** One kernel call: its name and arguments (all i32: byte offsets and counts). */
export type KernelCall = { [K in Op]: [K, ...Parameters<Kernels[K]>] }[Op];

// One slot of the control block per worker, [SLOT_INTS] i32:
const TASK = 0; //       sequence number of the last task posted (the calling thread writes)
const DONE = 1; //       sequence number of the last task finished (the worker writes)
const STATE = 2; //      0 working, 1 its last task threw, 2 it is exiting
const FAULT = 3; //      test hook: its next task 1 throws, 2 exits the thread, 3 never answers
const CALLS = 4; //      calls in the task
const MESSAGE = 5; //    length of the failure text (UTF-16 units, in the slot's text region)
const HEADER = 8;
const CALL_INTS = 12; // op index and up to 11 arguments
const MAX_CALLS = 64; // attend's calls: one per KV group
const SLOT_INTS = HEADER + MAX_CALLS * CALL_INTS;
const TEXT_UNITS = 256;

export type Fault = 'throw' | 'exit' | 'hang';
const FAULTS: Record<Fault, number> = { throw: 1, exit: 2, hang: 3 };

// The worker's code, run with `eval` so it needs no file of its own beside the bundle (the
// extension, the CLI and tsx all run it unchanged). Plain JavaScript: it only dispatches calls.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, control, text, slot, ops } = workerData;
const [TASK, DONE, STATE, FAULT, CALLS, MESSAGE, HEADER, CALL_INTS, SLOT_INTS, TEXT_UNITS] = ${JSON.stringify([TASK, DONE, STATE, FAULT, CALLS, MESSAGE, HEADER, CALL_INTS, SLOT_INTS, TEXT_UNITS])};
const ctl = new Int32Array(control, slot * SLOT_INTS * 4, SLOT_INTS);
const units = new Uint16Array(text, slot * TEXT_UNITS * 2, TEXT_UNITS);
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
function fail(state, message) {
  const s = String(message).slice(0, TEXT_UNITS);
  for (let i = 0; i < s.length; i++) units[i] = s.charCodeAt(i);
  Atomics.store(ctl, MESSAGE, s.length);
  Atomics.store(ctl, STATE, state);
  Atomics.notify(ctl, DONE);
}
process.on('exit', (code) => fail(2, 'exited (code ' + code + ')'));
parentPort.postMessage('ready');
let seen = 0;
for (;;) {
  Atomics.wait(ctl, TASK, seen);
  const task = Atomics.load(ctl, TASK);
  if (task === seen) continue;
  seen = task;
  try {
    const fault = Atomics.exchange(ctl, FAULT, 0);
    if (fault === 1) throw new Error('injected fault');
    if (fault === 2) process.exit(1);
    if (fault === 3) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    const calls = Atomics.load(ctl, CALLS);
    for (let c = 0; c < calls; c++) {
      const at = HEADER + c * CALL_INTS;
      const op = ops[ctl[at]];
      const fn = kernels[op];
      fn.apply(null, Array.from(ctl.subarray(at + 1, at + 1 + fn.length)));
    }
  } catch (e) {
    fail(1, 'threw: ' + (e && e.message ? e.message : e));
  }
  Atomics.store(ctl, DONE, task);
  Atomics.notify(ctl, DONE);
}
`;

export class ThreadPool {
  /** A worker's part may take this long after the calling thread finished its own, and at least
   *  `timeLimitFactor` times as long as that own part took (parts are equal in size). */
  minTimeLimitMs = 10_000;
  timeLimitFactor = 50;
  /** Resolves when every worker has its kernels instantiated; rejects if one cannot start. */
  readonly ready: Promise<void>;
  private readonly workers: Worker[] = [];
  private readonly alive = new Set<Worker>();
  private readonly control: Int32Array; // [threads − 1][SLOT_INTS] i32, shared
  private readonly text: Uint16Array; // [threads − 1][TEXT_UNITS] u16, shared: why a worker failed
  private task = 0;
  /** Why the pool cannot run (a worker failed or exited, or it was disposed). */
  private broken: string | undefined;

  constructor(private readonly arena: KernelArena, readonly threads: number) {
    if (!arena.shared) throw new Error('ThreadPool needs a shared arena (KernelArena({ shared: true }))');
    const workers = threads - 1;
    this.control = new Int32Array(new SharedArrayBuffer(workers * SLOT_INTS * 4));
    this.text = new Uint16Array(new SharedArrayBuffer(workers * TEXT_UNITS * 2));
    const started: Promise<void>[] = [];
    for (let slot = 0; slot < workers; slot++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module: arena.module, memory: arena.memory, control: this.control.buffer, text: this.text.buffer, slot, ops: OPS },
      });
      worker.unref(); // an idle pool does not keep the process alive
      // Between runs (the event loop turns): a worker gone means the pool must be replaced.
      worker.on('error', (e) => { this.broken ??= `thread ${slot + 1} failed: ${e.message}`; });
      worker.on('exit', (code) => {
        this.alive.delete(worker);
        this.broken ??= `thread ${slot + 1} exited (code ${code})`;
      });
      started.push(new Promise((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', (e) => reject(new PrefillThreadError(slot + 1, `could not start: ${e.message}`)));
        worker.once('exit', (code) => reject(new PrefillThreadError(slot + 1, `exited while starting (code ${code})`)));
      }));
      this.workers.push(worker);
      this.alive.add(worker);
    }
    this.ready = Promise.all(started).then(() => undefined);
    this.ready.catch(() => undefined); // awaited by the first run; unhandled until then
  }

  /** Runs that went to the workers since the pool started. */
  get runs(): number {
    return this.task;
  }

  /** Whether the pool can run; false once a worker failed or exited (replace it). */
  get healthy(): boolean {
    return this.broken === undefined;
  }

  /** [start, end) token ranges of T tokens, one per thread that gets work: equal parts of at
   *  least `minTokens` (fewer parts when T is small; one when T < 2·minTokens). */
  ranges(T: number, minTokens: number): [number, number][] {
    const parts = Math.max(1, Math.min(this.threads, Math.floor(T / minTokens)));
    return Array.from({ length: parts }, (_, p) => [Math.round((p * T) / parts), Math.round(((p + 1) * T) / parts)]);
  }

  /** Runs parts[0] on the calling thread and parts[i] on worker i, all at once; returns when every
   *  part is done. Throws PrefillThreadError (and the pool is broken) when a worker fails. */
  run(parts: KernelCall[][]): void {
    if (this.broken) throw new PrefillThreadError(0, `pool unusable: ${this.broken}`);
    if (parts.length > this.threads) throw new RangeError(`${parts.length} parts for ${this.threads} threads`);
    const task = ++this.task;
    const c = this.control;
    for (let w = 1; w < parts.length; w++) {
      const base = (w - 1) * SLOT_INTS;
      const calls = parts[w];
      if (calls.length > MAX_CALLS) throw new RangeError(`${calls.length} kernel calls in one part (at most ${MAX_CALLS})`);
      calls.forEach(([op, ...args], i) => {
        const at = base + HEADER + i * CALL_INTS;
        c[at] = OPS.indexOf(op);
        c.set(args, at + 1);
      });
      c[base + CALLS] = calls.length;
      Atomics.store(c, base + TASK, task);
      Atomics.notify(c, base + TASK);
    }
    const start = performance.now();
    runCalls(this.arena.kernels, parts[0]);
    const ownMs = performance.now() - start;
    const limitMs = Math.max(this.minTimeLimitMs, this.timeLimitFactor * ownMs);
    const deadline = performance.now() + limitMs;
    for (let w = 1; w < parts.length; w++) {
      const base = (w - 1) * SLOT_INTS;
      for (let done = Atomics.load(c, base + DONE); done !== task; done = Atomics.load(c, base + DONE)) {
        if (Atomics.load(c, base + STATE) === 2) this.fail(w, this.message(w));
        const left = deadline - performance.now();
        if (left <= 0) this.fail(w, `did not answer within ${Math.round(limitMs)} ms`);
        Atomics.wait(c, base + DONE, done, left); // woken by its DONE, or by its exit handler
      }
      if (Atomics.load(c, base + STATE) !== 0) this.fail(w, this.message(w));
    }
  }

  /** Test hook: worker `thread` (1…threads − 1) fails its next task this way. */
  injectFault(thread: number, fault: Fault): void {
    Atomics.store(this.control, (thread - 1) * SLOT_INTS + FAULT, FAULTS[fault]);
  }

  /** Worker threads not yet exited (tests: none after dispose). */
  get liveWorkers(): number {
    return this.alive.size;
  }

  /** Ends every worker; the pool cannot run afterwards. */
  async dispose(): Promise<void> {
    this.broken ??= 'disposed';
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private message(w: number): string {
    const base = (w - 1) * SLOT_INTS;
    const units = this.text.subarray((w - 1) * TEXT_UNITS, (w - 1) * TEXT_UNITS + Atomics.load(this.control, base + MESSAGE));
    return String.fromCharCode(...units) || 'failed';
  }

  private fail(w: number, what: string): never {
    this.broken = `thread ${w} ${what}`;
    throw new PrefillThreadError(w, what);
  }
}

/** Runs the calls on this thread's kernels. */
export function runCalls(kernels: Kernels, calls: readonly KernelCall[]): void {
  for (const [op, ...args] of calls) (kernels[op] as (...a: number[]) => void)(...args);
}
