// The engine in the calling thread: load the model directory, then serve one generation at a time.
// The KV cache outlives a generation, so the next prompt prefills only what differs from the last.
import { EngineDisposedError, isAbort } from './errors';
import type { FlashStats } from './ffn/flashStats';
import { generateTokens } from './generate';
import type { KvPositions } from './kvCache';
import type { Manifest } from './manifest';
import type { ForwardPass } from './forwardPass';
import type { ManifestV2 } from './manifestV2';
import { Model } from './model';
import type { ModelDir } from './modelDir';
import { openModelDir } from './modelDir';
import { chatFormat, renderPromptIds } from './prompt';
import { promptBudgetTokens } from './promptBudget';
import { TextTokenizer } from './tokenizer';
import { loadModelV2 } from './v2/loadV2';
import { selectBackend, WASM_LABEL } from './gpu/selectBackend';
import type { Engine, EngineOptions, GenerateCallbacks, GenerateRequest, GenerateResult, ModelInfo } from './types';

/** ONNX Runtime's threads for version-1 models, whatever flashcode.engine.threads says: the bundled
 *  model ran 1.7–2.1× slower on 2 than on 1 on a 2-core machine (load 2.5–7), prompt and decode. */
export const V1_ORT_THREADS = 1;

export class InProcessEngine implements Engine {
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  /** Generations running right now; never above 1 (tests check it). */
  running = 0;
  peakRunning = 0;
  /** A WebGPU fault not yet reported on a GenerateResult. */
  private pendingFault: string | undefined;
  /** Keys and values of the last generation's prompt and the generated tokens that were run. */
  private readonly kv: KvPositions;

  private constructor(
    readonly info: ModelInfo,
    private readonly manifest: Manifest,
    private readonly model: ForwardPass,
    /** The same model when it is format v1 (its flash FFN's statistics). */
    private readonly v1: Model | undefined,
    private readonly tokenizer: TextTokenizer,
    private readonly stopIds: ReadonlySet<number>,
    private readonly maxCachedKvBytes: number,
  ) {
    this.kv = model.newCache();
  }

  static async load(options: EngineOptions): Promise<InProcessEngine> {
    const dir = await openModelDir(options.modelDir);
    const { manifest } = dir;
    const tokenizer = await TextTokenizer.load(dir.file('tokenizer.json'), manifest.architecture.vocabSize);
    tokenizer.checkManifestTokens(manifest);
    const stopIds = new Set(manifest.stopTokens.map((t) => tokenizer.specialId(t)));
    const threads = dir.manifest.formatVersion === 1 ? V1_ORT_THREADS : options.threads ?? 1;
    const v1 = dir.manifest.formatVersion === 1 ? await Model.load(dir, threads, options.ortWasmDir, options.flash) : undefined;
    const built: { engine?: InProcessEngine } = {}; // a GPU fault reaches the engine once it exists
    // The v2 model as loaded, kept apart from what computes it: its memory plan is reported even when WebGPU wraps it.
    const v2 = v1 ? undefined : await loadModelV2(dir as ModelDir & { manifest: ManifestV2 }, options.flash, threads);
    const choice = v2
      ? await selectBackend(v2, options.backend ?? 'auto', { onFault: (reason) => built.engine?.onBackendFault(reason) })
      : { pass: v1 as Model, label: 'WebAssembly SIMD kernels and ONNX Runtime Web', reason: 'a format-v1 model: its FFN graphs run on ONNX Runtime Web (WebGPU runs format-v2 models)', warning: undefined };
    const model: ForwardPass = choice.pass;
    // openModelDir has checked every size against the manifest.
    const weightBytes = Object.entries(manifest.files)
      .filter(([name]) => name !== 'tokenizer.json')
      .reduce((n, [, { bytes }]) => n + bytes, 0);
    const info: ModelInfo = {
      id: manifest.id,
      displayName: manifest.displayName,
      contextTokens: model.contextTokens,
      vocabSize: manifest.architecture.vocabSize,
      layers: manifest.architecture.layers,
      weightBytes,
      ffn: v1?.flash
        ? { mode: 'sparse', fullyResident: v1.flash.plan.fullyResident, residentNeurons: v1.flash.plan.neuronsPerLayer.reduce((n, c) => n + c, 0), neurons: manifest.architecture.layers * manifest.architecture.ffnSize }
        : { mode: 'dense', notice: v1?.flashNotice },
      backend: choice.label,
      backendReason: choice.reason,
      ...(choice.warning ? { backendWarning: choice.warning } : {}),
      memory: v2?.memoryPlan?.summary,
      threads,
      fim: manifest.fim !== undefined,
    };
    const chat = chatFormat(manifest);
    if (chat) info.chat = chat;
    const engine = new InProcessEngine(info, manifest, model, v1, tokenizer, stopIds, options.maxCachedKvBytes ?? Infinity);
    built.engine = engine;
    return engine;
  }

  /** WebGPU failed mid-run: the request finishes on WebAssembly, which runs from now on. */
  private onBackendFault(reason: string): void {
    this.info.backend = WASM_LABEL;
    this.info.backendReason = `WebGPU failed and is off until the model loads again: ${reason}`;
    this.pendingFault = reason;
  }

  generate(request: GenerateRequest, callbacks: GenerateCallbacks = {}): Promise<GenerateResult> {
    const run = this.queue.then(() => this.runOne(request, callbacks));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async countTokens(text: string): Promise<number> {
    if (this.disposed) throw new EngineDisposedError();
    return this.tokenizer.encode(text).length;
  }

  /** Tokens whose keys and values are kept for the next generation (tests and benchmarks). */
  get cachedKvTokens(): number {
    return this.kv.length;
  }

  /** What the flash FFN path did since load (bytes read, cache hits, neurons per layer, online
   *  recall); undefined when the FFN runs densely. */
  get flashStats(): FlashStats | undefined {
    return this.v1?.flash?.stats;
  }

  /** Token ids of a string, for tests and benchmarks that need exact prompt lengths. */
  encode(text: string): number[] {
    return this.tokenizer.encode(text);
  }

  private async runOne(request: GenerateRequest, callbacks: GenerateCallbacks): Promise<GenerateResult> {
    if (this.disposed) throw new EngineDisposedError();
    this.running++;
    this.peakRunning = Math.max(this.peakRunning, this.running);
    try {
      const budget = promptBudgetTokens(this.model.contextTokens, request.maxNewTokens);
      const promptIds = renderPromptIds(request.prompt, this.tokenizer, this.manifest, budget);
      const result = await generateTokens(
        { model: this.model, tokenizer: this.tokenizer, promptIds, stopIds: this.stopIds, contextTokens: this.model.contextTokens, kv: this.kv },
        request,
        callbacks,
      );
      if (this.pendingFault !== undefined) result.backendFault = this.pendingFault;
      this.pendingFault = undefined;
      return result;
    } catch (e) {
      // An abort leaves the cache as it was after the last token that ran; after a failure nothing
      // says it is, so it goes.
      if (!isAbort(e)) this.kv.clear();
      throw e;
    } finally {
      if (this.kv.bytes > this.maxCachedKvBytes) this.kv.clear();
      this.running--;
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue;
    this.kv.clear();
    await this.model.dispose();
  }
}
