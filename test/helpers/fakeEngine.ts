// A scripted Engine for pipeline tests: answers each FIM prompt with a fixed text, streamed one
// character per "token" with a pause between tokens, one generation at a time like the real engines.
import { AbortedError, type Engine, type GenerateCallbacks, type GenerateRequest, type GenerateResult, type ModelInfo } from '../../src/engine';

export interface FakeCall {
  prefix: string;
  suffix: string;
  /** performance.now() when the engine began the call. */
  startedMs: number;
  /** Characters streamed so far. */
  streamed: string;
  outcome: 'running' | 'done' | 'aborted';
}

export class FakeEngine implements Engine {
  readonly info: ModelInfo = { id: 'fake', displayName: 'fake', contextTokens: 2048, vocabSize: 256, layers: 1, weightBytes: 0, ffn: { mode: 'dense' }, backend: 'fake', threads: 1, fim: true };
  readonly calls: FakeCall[] = [];
  running = 0;
  peakRunning = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<() => void>();

  /** `answer` gives the model's text for a cursor; `tokenMs` is the pause before each token (0: one
   *  event-loop turn). */
  constructor(private readonly answer: (prefix: string, suffix: string) => string, private readonly tokenMs = 0) {}

  generate(request: GenerateRequest, callbacks: GenerateCallbacks = {}): Promise<GenerateResult> {
    const run = this.queue.then(() => this.run(request, callbacks));
    this.queue = run.catch(() => undefined);
    return run;
  }

  countTokens(text: string): Promise<number> {
    return Promise.resolve(text.length);
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }

  /** Settles once the call made last has streamed at least `chars` characters. */
  streamedAtLeast(chars: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        const last = this.calls.at(-1);
        if (last && last.streamed.length >= chars) {
          this.listeners.delete(check);
          resolve();
        }
      };
      this.listeners.add(check);
      check();
    });
  }

  private async run(request: GenerateRequest, { signal, onText }: GenerateCallbacks): Promise<GenerateResult> {
    if (request.prompt.kind !== 'fim') throw new Error('the fake engine answers FIM prompts only');
    const { prefix, suffix } = request.prompt;
    const started = performance.now();
    const call: FakeCall = { prefix, suffix, startedMs: started, streamed: '', outcome: 'running' };
    this.calls.push(call);
    this.peakRunning = Math.max(this.peakRunning, ++this.running);
    try {
      const text = this.answer(prefix, suffix).slice(0, request.maxNewTokens);
      for (const char of text) {
        await (this.tokenMs > 0 ? new Promise((r) => setTimeout(r, this.tokenMs)) : new Promise((r) => setImmediate(r)));
        if (signal?.aborted) {
          call.outcome = 'aborted';
          throw new AbortedError();
        }
        call.streamed += char;
        onText?.(char);
        for (const listener of [...this.listeners]) listener();
      }
      call.outcome = 'done';
      const totalMs = performance.now() - started;
      return {
        text, tokenIds: [], promptTokens: prefix.length + suffix.length, generatedTokens: text.length, ttfsMs: totalMs, totalMs,
        stopReason: text.length >= request.maxNewTokens ? 'max-tokens' : 'stop-token', reusedPromptTokens: 0, prefilledPromptTokens: prefix.length + suffix.length,
      };
    } finally {
      this.running--;
    }
  }
}
