// The v2 engine's worker threads: threads − 1 worker threads that instantiate the shared-memory
// kernels on the model's shared arena, plus the calling thread. One `run` is one step of the
// forward pass split into units (a prompt chunk's tokens, or a decoded token's rows), each a list
// of kernel calls writing outputs no other unit writes. The calling thread writes the units into an Int32Array control block and wakes the
// workers with Atomics.notify; then every thread, the caller included, claims the next unit with
// Atomics.compareExchange until none is left, and the caller Atomics.waits for the last to finish —
// no message per call, whose round trip would cost more than a small chunk's kernels. Claiming
// rather than fixed halves: on a busy machine a thread the OS runs less takes fewer units instead
// of holding the others up (fixed halves measured slower than one thread under load).
// A worker that throws, exits or does not answer in time fails the run with PrefillThreadError
// and leaves the pool broken: its owner disposes it and starts a new one (ModelV2).
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { EngineDisposedError, PrefillThreadError } from '../errors';
import type { KernelArena } from '../wasm/wasmKernels';

/** The kernels, and readAt: a positioned read from a file into the kernels' memory, so that the
 *  threads can share a read as they share a matmul (weightStream.ts). */
type Kernels = KernelArena['kernels'] & { readAt(fd: number, dst: number, bytes: number, posLo: number, posHi: number, result: number): void };
const OPS = ['matmulQ8P', 'matmulQ8', 'matmulQ4', 'downQ8', 'gatherUpQ8', 'sparseDownQ8', 'attendQ8', 'swiglu', 'rmsNorm', 'quantizeI16', 'qkvPost', 'addInto', 'readAt'] as const;
type Op = (typeof OPS)[number];
/** One kernel call: its name and arguments (all i32: byte offsets and counts). */
export type KernelCall = { [K in Op]: [K, ...Parameters<Kernels[K]>] }[Op];

/** Reads `bytes` of file `fd` at posHi·2^32 + posLo into buffer[dst…], and stores at the i32
 *  buffer[result] how many it read (fewer: the file ended), or −1 if the read threw (the caller
 *  reads that part again itself, for the error). (Its source also runs in the workers.) */
function readAt(fsModule: typeof fs, buffer: ArrayBufferLike, fd: number, dst: number, bytes: number, posLo: number, posHi: number, result: number): void {
  const view = new Uint8Array(buffer, dst, bytes), position = posHi * 2 ** 32 + (posLo >>> 0);
  let done = 0;
  try {
    for (let got = 1; done < bytes && got > 0; done += got) got = fsModule.readSync(fd, view, done, bytes - done, position + done);
  } catch {
    done = -1;
  }
  new Int32Array(buffer, result, 1)[0] = done;
}

// The control block, [layout(workers).ints] i32, shared: the header, then a slot of SLOT_INTS per worker,
// then each unit's first call index, then the calls.
const TASK = 0; //     sequence number of the last task posted: workers wait on it
const CLAIM = 1; //    (task tag << UNIT_BITS) | next unclaimed unit: a thread claims one by compareExchange
const UNITS = 2; //    units in the task
const FINISHED = 3; // units finished: the calling thread waits on it
const HEADER = 16;
const SLOT_INTS = 16; // per worker (a cache line of its own):
const STATE = 0; //    0 working, 1 a unit threw, 2 it is exiting
const FAULT = 1; //    test hook: at its next claimed unit it 1 throws, 2 exits the thread, 3 never answers
const HOLDING = 2; //  1 + the unit it is running, 0 between units
const MESSAGE = 3; //  length of the failure text (UTF-16 units, in its text region)
const CLAIMED = 4; //  units it has claimed since it started
const UNIT_BITS = 12;
const MAX_UNITS = 1 << UNIT_BITS;
const TAG_MASK = (1 << (31 - UNIT_BITS)) - 1;
const CALL_INTS = 16; // op index and up to 15 arguments (attendQ8 takes 14)
const MAX_CALLS = 2048;
const TEXT_UNITS = 256;

export type Fault = 'throw' | 'exit' | 'hang';

/** Busy-waits up to 1 ms for `ready`, before a thread sleeps in Atomics.wait: a decoded token is
 *  hundreds of short passes over the threads, and waking a sleeping thread took longer than most
 *  of them (a second thread gained nothing at decode until the threads spun). A pool left idle
 *  sleeps 1 ms later. (Its source also runs in the workers: nothing from outside it.) */
function spin(ready: () => boolean): void {
  const until = performance.now() + 1;
  while (!ready()) {
    for (let i = 0; i < 256; i++) if (ready()) return;
    if (performance.now() > until) return;
  }
}
const FAULTS: Record<Fault, number> = { throw: 1, exit: 2, hang: 3 };

/** Int offsets in the control block for `workers` workers. */
const layout = (workers: number) => {
  const slots = HEADER, unitStarts = slots + workers * SLOT_INTS, calls = unitStarts + MAX_UNITS + 1;
  return { slots, unitStarts, calls, ints: calls + MAX_CALLS * CALL_INTS };
};

// The worker's code, run with `eval` so it needs no file of its own beside the bundle (the
// extension, the CLI and tsx all run it unchanged). Plain JavaScript: it claims units and
// dispatches their calls, as ThreadPool.run does on the calling thread.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
${spin.toString()}
${readAt.toString()}
const { module, memory, control, text, worker, ops, layout } = workerData;
const [TASK, CLAIM, UNITS, FINISHED, SLOT_INTS, STATE, FAULT, HOLDING, MESSAGE, CLAIMED, UNIT_BITS, TAG_MASK, CALL_INTS, TEXT_UNITS] = ${JSON.stringify([TASK, CLAIM, UNITS, FINISHED, SLOT_INTS, STATE, FAULT, HOLDING, MESSAGE, CLAIMED, UNIT_BITS, TAG_MASK, CALL_INTS, TEXT_UNITS])};
const ctl = new Int32Array(control);
const slot = layout.slots + worker * SLOT_INTS;
const chars = new Uint16Array(text, worker * TEXT_UNITS * 2, TEXT_UNITS);
const kernels = { ...new WebAssembly.Instance(module, { env: { memory } }).exports,
  readAt: (fd, dst, bytes, posLo, posHi, result) => readAt(fs, memory.buffer, fd, dst, bytes, posLo, posHi, result) };
function fail(state, message) {
  const s = String(message).slice(0, TEXT_UNITS);
  for (let i = 0; i < s.length; i++) chars[i] = s.charCodeAt(i);
  Atomics.store(ctl, slot + MESSAGE, s.length);
  Atomics.store(ctl, slot + STATE, state);
  Atomics.notify(ctl, FINISHED);
}
process.on('exit', (code) => fail(2, 'exited (code ' + code + ')'));
function work(tag) {
  for (;;) {
    const claim = Atomics.load(ctl, CLAIM);
    if ((claim >>> UNIT_BITS) !== tag) return; // a newer task: the wait below sees it
    const unit = claim & ((1 << UNIT_BITS) - 1);
    if (unit >= Atomics.load(ctl, UNITS)) return;
    if (Atomics.compareExchange(ctl, CLAIM, claim, claim + 1) !== claim) continue;
    Atomics.store(ctl, slot + HOLDING, unit + 1);
    Atomics.add(ctl, slot + CLAIMED, 1);
    try {
      const fault = Atomics.exchange(ctl, slot + FAULT, 0);
      if (fault === 1) throw new Error('injected fault');
      if (fault === 2) process.exit(1);
      if (fault === 3) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
      for (let c = ctl[layout.unitStarts + unit]; c < ctl[layout.unitStarts + unit + 1]; c++) {
        const at = layout.calls + c * CALL_INTS;
        const fn = kernels[ops[ctl[at]]];
        fn.apply(null, Array.from(ctl.subarray(at + 1, at + 1 + fn.length)));
      }
    } catch (e) {
      fail(1, 'threw: ' + (e && e.message ? e.message : e));
    }
    Atomics.store(ctl, slot + HOLDING, 0);
    Atomics.add(ctl, FINISHED, 1);
    Atomics.notify(ctl, FINISHED);
  }
}
parentPort.postMessage('ready');
let seen = 0;
for (;;) {
  spin(() => Atomics.load(ctl, TASK) !== seen);
  Atomics.wait(ctl, TASK, seen);
  seen = Atomics.load(ctl, TASK);
  work(seen & TAG_MASK);
}
`;

export class ThreadPool {
  /** A run may take this long after the calling thread ran out of units to claim, and at least
   *  `timeLimitFactor` times as long as the calling thread's own units took. */
  minTimeLimitMs = 10_000;
  timeLimitFactor = 50;
  /** Test hook: false leaves every unit to the workers (so that they run some however fast the
   *  kernels are). */
  callerClaims = true;
  /** Resolves when every worker has its kernels instantiated; rejects if one cannot start. */
  readonly ready: Promise<void>;
  private readonly workers: Worker[] = [];
  private readonly kernels: Kernels; // this thread's
  private readonly alive = new Set<Worker>();
  private readonly control: Int32Array; // layout(threads − 1), shared
  private readonly at: ReturnType<typeof layout>;
  private readonly text: Uint16Array; // [threads − 1][TEXT_UNITS] u16, shared: why a worker failed
  private task = 0;
  /** A fault injected and not yet met: the calling thread leaves every unit to the workers. */
  private faultPending = false;
  /** Why the pool cannot run: a worker failed or exited (which, and what happened), or 'disposed'. */
  private broken: { thread: number; what: string } | 'disposed' | undefined;

  constructor(arena: KernelArena, readonly threads: number) {
    if (!arena.shared) throw new Error('ThreadPool needs a shared arena (KernelArena({ shared: true }))');
    const workers = threads - 1;
    this.kernels = { ...arena.kernels, readAt: (fd, dst, bytes, posLo, posHi, result) => readAt(fs, arena.memory.buffer, fd, dst, bytes, posLo, posHi, result) };
    this.at = layout(workers);
    this.control = new Int32Array(new SharedArrayBuffer(this.at.ints * 4));
    this.text = new Uint16Array(new SharedArrayBuffer(workers * TEXT_UNITS * 2));
    const started: Promise<void>[] = [];
    for (let w = 0; w < workers; w++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module: arena.module, memory: arena.memory, control: this.control.buffer, text: this.text.buffer, worker: w, ops: OPS, layout: this.at },
      });
      worker.unref(); // an idle pool does not keep the process alive
      // Between runs (the event loop turns): a worker gone means the pool must be replaced.
      worker.on('error', (e) => { this.broken ??= { thread: w + 1, what: `failed: ${e.message}` }; });
      worker.on('exit', (code) => {
        this.alive.delete(worker);
        this.broken ??= { thread: w + 1, what: `exited (code ${code})` };
      });
      started.push(new Promise((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', (e) => reject(new PrefillThreadError(w + 1, `could not start: ${e.message}`)));
        worker.once('exit', (code) => reject(new PrefillThreadError(w + 1, `exited while starting (code ${code})`)));
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

  /** Units the workers (not the calling thread) have run since the pool started. */
  get workerUnits(): number {
    let n = 0;
    for (let w = 1; w < this.threads; w++) n += this.slot(w, CLAIMED);
    return n;
  }

  /** Whether the pool can run; false once a worker failed or exited (replace it). */
  get healthy(): boolean {
    return this.broken === undefined;
  }

  /** Runs every unit (a list of kernel calls writing outputs no other unit writes) once, on the
   *  calling thread and the workers: each thread claims the next unit until none is left, so a
   *  thread the OS runs less (a busy machine) takes fewer. Throws PrefillThreadError (and the pool
   *  is broken) when a worker fails. */
  run(units: KernelCall[][]): void {
    if (this.broken === 'disposed') throw new EngineDisposedError();
    if (this.broken) throw new PrefillThreadError(this.broken.thread, this.broken.what);
    if (units.length >= MAX_UNITS - 1) throw new RangeError(`${units.length} units in one run (at most ${MAX_UNITS - 2})`);
    const c = this.control, at = this.at;
    const task = ++this.task;
    const tag = task & TAG_MASK;
    // First the claim word with the new tag and no unit left: a worker still in the last task's
    // claim loop sees a tag not its own, so nothing claims a unit while the units are rewritten.
    Atomics.store(c, CLAIM, (tag << UNIT_BITS) | (MAX_UNITS - 1));
    let call = 0;
    units.forEach((calls, u) => {
      c[at.unitStarts + u] = call;
      if (call + calls.length > MAX_CALLS) throw new RangeError(`more than ${MAX_CALLS} kernel calls in one run`);
      for (const [op, ...args] of calls) {
        if (args.length >= CALL_INTS) throw new RangeError(`${op} takes ${args.length} arguments, more than a call slot holds (${CALL_INTS - 1})`);
        c[at.calls + call * CALL_INTS] = OPS.indexOf(op);
        c.set(args, at.calls + call++ * CALL_INTS + 1);
      }
    });
    c[at.unitStarts + units.length] = call;
    c[UNITS] = units.length;
    Atomics.store(c, FINISHED, 0);
    Atomics.store(c, CLAIM, tag << UNIT_BITS);
    Atomics.store(c, TASK, task);
    Atomics.notify(c, TASK);
    const start = performance.now();
    while (this.callerClaims && !this.faultPending) {
      const claim = Atomics.load(c, CLAIM);
      const unit = claim & (MAX_UNITS - 1);
      if (unit >= units.length) break;
      if (Atomics.compareExchange(c, CLAIM, claim, claim + 1) !== claim) continue;
      runCalls(this.kernels, units[unit]);
      Atomics.add(c, FINISHED, 1);
    }
    const limitMs = Math.max(this.minTimeLimitMs, this.timeLimitFactor * (performance.now() - start));
    const deadline = performance.now() + limitMs;
    for (let done = Atomics.load(c, FINISHED); done !== units.length; done = Atomics.load(c, FINISHED)) {
      for (let w = 1; w < this.threads; w++) if (this.slot(w, STATE) === 2) this.fail(w, this.message(w));
      const left = deadline - performance.now();
      if (left <= 0) {
        const w = [...Array(this.threads).keys()].find((i) => i > 0 && this.slot(i, HOLDING) !== 0) ?? 1;
        this.fail(w, `did not answer within ${Math.round(limitMs)} ms`);
      }
      spin(() => Atomics.load(c, FINISHED) !== done);
      if (Atomics.load(c, FINISHED) !== done) continue;
      // woken by each finished unit, or by a worker's exit handler; at most 50 ms, for an exit
      // that notified between the check above and this wait
      Atomics.wait(c, FINISHED, done, Math.min(left, 50));
    }
    for (let w = 1; w < this.threads; w++) if (this.slot(w, STATE) !== 0) this.fail(w, this.message(w));
  }

  /** Test hook: worker `thread` (1…threads − 1) fails at the next unit it claims, this way. Until
   *  a worker fails the calling thread claims no units, so that (at 2 threads) the worker gets one
   *  however fast the kernels are. */
  injectFault(thread: number, fault: Fault): void {
    Atomics.store(this.control, this.at.slots + (thread - 1) * SLOT_INTS + FAULT, FAULTS[fault]);
    this.faultPending = true;
  }

  /** Test hook: ends worker `thread` as if it had died between runs. */
  async terminateWorker(thread: number): Promise<void> {
    await this.workers[thread - 1].terminate();
  }

  /** Worker threads not yet exited (tests: none after dispose). */
  get liveWorkers(): number {
    return this.alive.size;
  }

  /** Ends every worker; the pool cannot run afterwards. */
  async dispose(): Promise<void> {
    this.broken = 'disposed';
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private slot(w: number, field: number): number {
    return Atomics.load(this.control, this.at.slots + (w - 1) * SLOT_INTS + field);
  }

  private message(w: number): string {
    const units = this.text.subarray((w - 1) * TEXT_UNITS, (w - 1) * TEXT_UNITS + this.slot(w, MESSAGE));
    return String.fromCharCode(...units) || 'failed';
  }

  private fail(w: number, what: string): never {
    this.broken = { thread: w, what };
    this.faultPending = false;
    throw new PrefillThreadError(w, what);
  }
}

/** Runs the calls on this thread's kernels. */
export function runCalls(kernels: KernelArena['kernels'] & Partial<Kernels>, calls: readonly KernelCall[]): void {
  for (const [op, ...args] of calls) (kernels[op] as (...a: number[]) => void)(...args);
}

/** Which way the next piece of work goes — split across the threads, or all on the calling thread —
 *  by which has been faster lately: a split piece waits for threads the OS may not be running (a
 *  process busy on the second of two cores). The first `trials` pieces alternate, split first; then
 *  each goes the faster way, except a probe now and then, which goes the other way to refresh its
 *  time: the first at piece `probeEvery`, then `probeEvery` pieces after a probe that beat the
 *  faster way's time, twice as long after one that did not, up to PROBE_BACKOFF × probeEvery (a
 *  probe costs what its way is slower: the random 0.5B model decoded 26.1 tok/s on one thread and
 *  34.5 split in bench:peers, so a probe every 16th token cost it about 2 %). A way's time is the second fastest of its last SPLIT_CHOICE_WINDOW pieces: slow pieces (a
 *  collection, a preempted thread: a quarter of SmolLM2's split tokens took 23–24 ms against 10–14
 *  on an idle machine) do not turn the choice unless four of five are slow, and one lucky fast split
 *  piece does not either while a busy core slows the others. Splitting stays the choice unless one thread is SPLIT_CHOICE_MARGIN
 *  faster: fresh threads warm up over their first pieces (a SmolLM2 prompt layer split took 11.2,
 *  8.0, 6.9 and 6.4 ms, then 3.3–3.6, against 6.5–7.2 on one thread), and a busy core costs more
 *  than that (2× here). The caller makes the results the same bits either way. */
export class SplitChoice {
  private readonly times = { split: [] as number[], single: [] as number[] }; // the last few, ms
  private count = 0;
  private interval: number; // pieces from the last probe to the next
  private nextProbe: number;
  private probing = false; // the piece in flight is a probe
  constructor(private readonly trials: number, private readonly probeEvery: number) {
    this.interval = this.nextProbe = probeEvery;
  }

  /** Whether the next piece is split. */
  next(): boolean {
    const n = ++this.count, faster = this.splitFaster(this.time('split'), this.time('single'));
    if (n <= this.trials) return n % 2 === 1;
    this.probing = n >= this.nextProbe;
    return this.probing ? !faster : faster;
  }

  /** Whether the trials are over and splitting is the faster way. */
  get splitSettled(): boolean {
    return this.count >= this.trials && this.splitFaster(this.time('split'), this.time('single'));
  }

  /** Ends the trials, splitting from the next piece: another choice over the same threads settled
   *  on splitting (a prompt's layers, for the tokens decoded after it), so the calling thread's way
   *  waits for a probe instead of trials that would each cost a slower piece. */
  endTrials(): void {
    this.count = Math.max(this.count, this.trials);
  }

  /** How long a piece took, ms, and whether it was split. */
  record(split: boolean, ms: number): void {
    if (this.probing) { // did the probe beat the faster way's time? then probe again soon
      const beat = split ? this.splitFaster(ms, this.time('single')) : !this.splitFaster(this.time('split'), ms);
      this.interval = beat ? this.probeEvery : Math.min(2 * this.interval, PROBE_BACKOFF * this.probeEvery);
      this.nextProbe = this.count + this.interval;
      this.probing = false;
    }
    const times = this.times[split ? 'split' : 'single'];
    times.push(ms);
    if (times.length > SPLIT_CHOICE_WINDOW) times.shift();
  }

  private splitFaster(splitMs: number, singleMs: number): boolean {
    return splitMs <= singleMs * SPLIT_CHOICE_MARGIN;
  }

  /** A way's time (a way not yet timed: Infinity, slower than any). */
  private time(way: 'split' | 'single'): number {
    const sorted = [...this.times[way]].sort((a, b) => a - b);
    return sorted.length === 0 ? Infinity : sorted[Math.min(1, sorted.length - 1)];
  }
}

const SPLIT_CHOICE_WINDOW = 5;
const SPLIT_CHOICE_MARGIN = 1.1;
const PROBE_BACKOFF = 4;
