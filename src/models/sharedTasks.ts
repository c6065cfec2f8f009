// Concurrent requests for the same model share one download: the second caller joins the first's
// promise and gets its progress too. The work is cancelled only when every caller has cancelled,
// so one window's Cancel does not break another's download.

export interface SharedRun<P> {
  signal: AbortSignal;
  progress: (p: P) => void;
}

interface Entry<T, P> {
  promise: Promise<T>;
  controller: AbortController;
  listeners: Set<(p: P) => void>;
  waiting: number;
  last?: P;
}

export class SharedTasks<T, P> {
  private readonly running = new Map<string, Entry<T, P>>();

  /** Whether `key` is being worked on (a caller joining it would not start anything). */
  has(key: string): boolean {
    return this.running.has(key);
  }

  run(key: string, work: (run: SharedRun<P>) => Promise<T>, signal?: AbortSignal, onProgress?: (p: P) => void): Promise<T> {
    let entry = this.running.get(key);
    if (!entry) {
      const controller = new AbortController();
      const listeners = new Set<(p: P) => void>();
      const created: Entry<T, P> = { controller, listeners, waiting: 0, promise: undefined as unknown as Promise<T> };
      created.promise = work({
        signal: controller.signal,
        progress: (p) => {
          created.last = p;
          for (const l of listeners) l(p);
        },
      }).finally(() => this.running.delete(key));
      this.running.set(key, created);
      entry = created;
    }
    return this.join(entry, signal, onProgress);
  }

  private join(entry: Entry<T, P>, signal: AbortSignal | undefined, onProgress: ((p: P) => void) | undefined): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : abortError());
    entry.waiting++;
    if (onProgress) {
      entry.listeners.add(onProgress);
      if (entry.last !== undefined) onProgress(entry.last);
    }
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const leave = () => {
        if (onProgress) entry.listeners.delete(onProgress);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        if (settled) return;
        settled = true;
        leave();
        if (--entry.waiting === 0) entry.controller.abort();
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      entry.promise.then((value) => {
        if (settled) return;
        settled = true;
        entry.waiting--;
        leave();
        resolve(value);
      }, (error: unknown) => {
        if (settled) return;
        settled = true;
        entry.waiting--;
        leave();
        reject(error);
      });
    });
  }
}

function abortError(): Error {
  const e = new Error('cancelled');
  e.name = 'AbortError';
  return e;
}
