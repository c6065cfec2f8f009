// The engine as the extension host sees it: the same contract, served by a worker thread.
import { Worker } from 'node:worker_threads';
import { AbortedError, EngineCrashedError, EngineDisposedError } from '../errors';
import type { Engine, EngineOptions, GenerateCallbacks, GenerateRequest, GenerateResult, ModelInfo } from '../types';
import type { FromWorker, ToWorker } from './protocol';
import { fromWire } from './wireError';

interface Pending {
  resolve(r: GenerateResult | number): void;
  reject(e: Error): void;
  onText?: (delta: string) => void;
  unlisten(): void;
}

export class WorkerEngine implements Engine {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed: Error | undefined;

  private constructor(private readonly worker: Worker, readonly info: ModelInfo) {
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (e) => this.close(new EngineCrashedError(e.message)));
    worker.on('exit', (code) => this.close(new EngineCrashedError(`exit code ${code}`)));
  }

  static async start(options: EngineOptions & { workerScript: string }): Promise<WorkerEngine> {
    const { workerScript, ...engineOptions } = options;
    const worker = new Worker(workerScript);
    const info = await new Promise<ModelInfo>((resolve, reject) => {
      const onExit = (code: number) => reject(new EngineCrashedError(`exit code ${code} while loading`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (m: FromWorker) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        if (m.type === 'loaded') resolve(m.info);
        else if (m.type === 'load-failed') reject(fromWire(m.error));
        else reject(new EngineCrashedError(`unexpected ${m.type} while loading`));
      });
      worker.postMessage({ type: 'load', options: engineOptions } satisfies ToWorker);
    }).catch(async (e) => {
      await worker.terminate();
      throw e;
    });
    return new WorkerEngine(worker, info);
  }

  /** Generations sent to the worker and not yet settled (tests check it stays bounded). */
  get pendingCount(): number {
    return this.pending.size;
  }

  generate(request: GenerateRequest, { signal, onText }: GenerateCallbacks = {}): Promise<GenerateResult> {
    if (this.closed) return Promise.reject(this.closed);
    if (signal?.aborted) return Promise.reject(new AbortedError());
    const id = this.nextId++;
    return new Promise<GenerateResult | number>((resolve, reject) => {
      const onAbort = () => this.worker.postMessage({ type: 'abort', id } satisfies ToWorker);
      signal?.addEventListener('abort', onAbort, { once: true });
      const unlisten = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, { resolve, reject, onText, unlisten });
      this.worker.postMessage({ type: 'generate', id, request } satisfies ToWorker);
    }) as Promise<GenerateResult>;
  }

  countTokens(text: string): Promise<number> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise<GenerateResult | number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, unlisten: () => {} });
      this.worker.postMessage({ type: 'count', id, text } satisfies ToWorker);
    }) as Promise<number>;
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'text') return this.pending.get(m.id)?.onText?.(m.delta);
    if (m.type !== 'done' && m.type !== 'failed' && m.type !== 'counted') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    p.unlisten();
    if (m.type === 'done') p.resolve(m.result);
    else if (m.type === 'counted') p.resolve(m.tokens);
    else p.reject(fromWire(m.error));
  }

  private close(reason: Error): void {
    if (this.closed) return;
    this.closed = reason;
    for (const p of this.pending.values()) {
      p.unlisten();
      p.reject(reason);
    }
    this.pending.clear();
  }

  async dispose(): Promise<void> {
    if (this.closed) return;
    const done = new Promise<void>((resolve) => {
      const onMessage = (m: FromWorker) => { if (m.type === 'disposed') resolve(); };
      this.worker.on('message', onMessage);
      this.worker.once('exit', () => resolve());
    });
    this.worker.postMessage({ type: 'dispose' } satisfies ToWorker);
    await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
    this.close(new EngineDisposedError());
    await this.worker.terminate();
  }
}
