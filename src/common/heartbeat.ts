// How long this thread's event loop goes without turning, from a timer that should fire every
// 10 ms. Each beat records how late it came (wall clock) and, where the runtime can tell, how much
// CPU this thread spent since the beat before. Late with as much CPU: code on this thread ran that
// long without yielding (a block). Late with little CPU: the thread waited for a core on a busy
// machine, which no code on it caused.

import fs from 'node:fs';

export const BEAT_INTERVAL_MS = 10;
/** Beats later than this count as late (ms): the extension host's block budget. */
export const LATE_BEAT_MS = 20;
/** The extension host's heartbeat while typing (src/host/heartbeat.ts) ends its window after this
 *  long without an edit (ms): a request's time budget (1.5 s by default) plus a prefetch after it. */
export const TYPING_QUIET_MS = 3000;
const HEARTBEAT_LOG_PREFIX = 'host heartbeat while typing:';
/** Lateness histogram: 1 ms buckets, the last one holding everything from it up. */
const HISTOGRAM_MS = 1000;

export interface HeartbeatSummary {
  windowMs: number;
  beats: number;
  /** Most CPU this thread spent between two beats (ms); undefined where Node has no per-thread
   *  CPU clock (before 23.9). */
  maxBusyMs: number | undefined;
  /** Most a beat came late (ms). */
  maxLateMs: number;
  /** 99th percentile of lateness (ms), to 1 ms. */
  p99LateMs: number;
  /** Beats later than LATE_BEAT_MS. */
  lateBeats: number;
}

/** One typing window of the extension host, as logged. */
export type TypingWindow = HeartbeatSummary & {
  /** Completion requests the pipeline got in the window. */
  requests: number;
};

/** CPU time of the calling thread (ms): Node's clock (process.threadCpuUsage, Node ≥ 23.9), else,
 *  with `coarse`, Linux's /proc/thread-self/stat (10 ms ticks); undefined where neither exists. */
export function threadCpuMs({ coarse = false } = {}): number | undefined {
  const usage = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.();
  if (usage) return (usage.user + usage.system) / 1000;
  if (!coarse) return undefined;
  try {
    const stat = fs.readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 1/100 s ticks
  } catch {
    return undefined;
  }
}

export class Heartbeat {
  private timer: ReturnType<typeof setInterval> | undefined;
  private startMs = 0;
  private lastMs = 0;
  private lastCpuMs: number | undefined;
  private beats = 0;
  private maxBusyMs: number | undefined;
  private maxLateMs = 0;
  private lateBeats = 0;
  private readonly lateHistogram = new Uint32Array(HISTOGRAM_MS + 1); // [lateness in whole ms] count

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Starts a fresh window; does nothing while one runs. */
  start(): void {
    if (this.timer) return;
    this.startMs = this.lastMs = performance.now();
    this.lastCpuMs = threadCpuMs();
    this.beats = this.lateBeats = this.maxLateMs = 0;
    this.maxBusyMs = undefined;
    this.lateHistogram.fill(0);
    this.timer = setInterval(() => this.beat(), BEAT_INTERVAL_MS);
    this.timer.unref();
  }

  /** Ends the window; undefined when none ran. */
  stop(): HeartbeatSummary | undefined {
    if (!this.timer) return undefined;
    clearInterval(this.timer);
    this.timer = undefined;
    return {
      windowMs: round(performance.now() - this.startMs),
      beats: this.beats,
      maxBusyMs: this.maxBusyMs === undefined ? undefined : round(this.maxBusyMs),
      maxLateMs: round(this.maxLateMs),
      p99LateMs: this.percentileMs(0.99),
      lateBeats: this.lateBeats,
    };
  }

  private beat(): void {
    const nowMs = performance.now();
    const cpuMs = threadCpuMs();
    const lateMs = Math.max(0, nowMs - this.lastMs - BEAT_INTERVAL_MS);
    if (cpuMs !== undefined && this.lastCpuMs !== undefined) this.maxBusyMs = Math.max(this.maxBusyMs ?? 0, cpuMs - this.lastCpuMs);
    this.lastMs = nowMs;
    this.lastCpuMs = cpuMs;
    this.beats++;
    this.maxLateMs = Math.max(this.maxLateMs, lateMs);
    if (lateMs > LATE_BEAT_MS) this.lateBeats++;
    this.lateHistogram[Math.min(HISTOGRAM_MS, Math.floor(lateMs))]++;
  }

  private percentileMs(p: number): number {
    let seen = 0;
    for (let ms = 0; ms <= HISTOGRAM_MS; ms++) {
      seen += this.lateHistogram[ms];
      if (seen >= p * this.beats) return ms;
    }
    return 0;
  }
}

/** The log line of a typing window: words, then the same as JSON (the end-to-end test reads it). */
export function heartbeatLogLine(w: TypingWindow): string {
  const block = w.maxBusyMs === undefined ? 'unknown (no per-thread CPU clock)' : `${w.maxBusyMs} ms`;
  const words = `longest block ${block}, latest beat ${w.maxLateMs} ms late (${w.lateBeats} of ${w.beats} over ${LATE_BEAT_MS} ms), `
    + `${w.requests} completion requests in ${(w.windowMs / 1000).toFixed(1)} s`;
  return `${HEARTBEAT_LOG_PREFIX} ${words} ${JSON.stringify(w)}`;
}

/** The typing window a log line holds (a line from the log file may start with a timestamp and
 *  level), or undefined for any other line. */
export function parseHeartbeatLine(line: string): TypingWindow | undefined {
  const at = line.indexOf(HEARTBEAT_LOG_PREFIX);
  if (at < 0) return undefined;
  return JSON.parse(line.slice(line.indexOf('{', at))) as TypingWindow;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
