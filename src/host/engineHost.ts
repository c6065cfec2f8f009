// Owns the loaded model: starts the inference worker, swaps it when the model settings change,
// and publishes its state. A load error leaves the extension up with completions off.

import { autoBudgetMB } from '../engine/memoryBudget';
import * as vscode from 'vscode';
import { describeError } from '../common/describeError';
import { CompletionPipeline } from '../completion/pipeline';
import { startWorkerEngine, type Engine, type FlashOptions, type GenerateResult } from '../engine';
import type { BackendSetting } from '../engine/gpu/backendSetting';
import type { EngineState } from './engineState';
import { FfnNotices, ffnNoticeText } from './ffnNotice';
import type { OutputLog } from './output';
import { describeFfn } from './statusText';

export interface LoadOptions {
  modelDir: string;
  threads: number;
  workerScript: string;
  ortWasmDir: string;
  /** Sparse or dense FFN, and the memory budget (flashcode.engine.sparseFfn and the settings after it). */
  flash: FlashOptions;
  /** What computes a format-v2 model (flashcode.engine.backend; default 'auto'). */
  backend?: BackendSetting;
}

export class EngineHost implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<EngineState>();
  readonly onDidChange = this.changed.event;
  private current: EngineState = { kind: 'loading', modelDir: '' };
  private engine: Engine | undefined;
  private loaded: CompletionPipeline | undefined;
  /** Bumped by every load and by dispose; a load that finishes after a newer one is thrown away. */
  private generation = 0;
  private lastOptions: LoadOptions | undefined;
  private lastGenerated: GenerateResult | undefined;
  private readonly ffnNotices = new FfnNotices();

  /** `buildPipeline`: the completion pipeline over each engine loaded, built by the composition root
   *  (src/extension.ts); by default a bare one (no tree-sitter, no extra context). */
  constructor(
    private readonly log: OutputLog,
    private readonly buildPipeline: (engine: Engine) => CompletionPipeline = (engine) => new CompletionPipeline(engine),
  ) {}

  get state(): EngineState {
    return this.current;
  }

  /** The pipeline over the loaded model; undefined unless the state is ready. */
  get pipeline(): CompletionPipeline | undefined {
    return this.loaded;
  }

  /** The last engine call of the completion pipeline that finished (a prefetch included), since the
   *  model loaded: its timings give the decode rate. */
  get lastGeneration(): GenerateResult | undefined {
    return this.lastGenerated;
  }

  /** The loaded engine (Explain / Refactor use it directly); undefined unless the state is ready. */
  get readyEngine(): Engine | undefined {
    return this.current.kind === 'ready' ? this.engine : undefined;
  }

  /** Loads the model, replacing the one loaded before. Never rejects: failures become the error state. */
  async load(options: LoadOptions): Promise<void> {
    const generation = ++this.generation;
    this.lastOptions = options;
    this.unload();
    this.setState({ kind: 'loading', modelDir: options.modelDir });
    const budget = options.flash.memoryBudgetMB > 0 ? `${options.flash.memoryBudgetMB} MB` : `${autoBudgetMB()} MB (automatic: half of this machine's memory)`;
    const ffn = options.flash.mode === 'sparse' ? `sparse FFN within ${budget}` : 'dense FFN';
    this.log.info(`loading the model from ${options.modelDir} (${options.threads} thread(s), ${ffn})`);
    const startMs = performance.now();
    try {
      const engine = await startWorkerEngine(options);
      if (generation !== this.generation) {
        await engine.dispose();
        return;
      }
      this.engine = engine;
      this.loaded = this.buildPipeline(recordingGenerations(engine, (result) => {
        if (generation !== this.generation) return;
        this.lastGenerated = result;
        if (result.backendFault !== undefined) this.onBackendFault(engine, options.threads, result.backendFault);
      }));
      this.log.info(`loaded ${engine.info.displayName} (${engine.info.id}) in ${Math.round(performance.now() - startMs)} ms; FFN: ${describeFfn(engine.info.ffn)}`);
      if (engine.info.memory !== undefined) this.log.info(engine.info.memory);
      this.log.info(`backend: ${engine.info.backend} — ${engine.info.backendReason ?? ''}`);
      if (engine.info.backendWarning !== undefined) {
        this.log.warn(engine.info.backendWarning);
        void vscode.window.showWarningMessage(`Flashcode: ${engine.info.backendWarning}`);
      }
      if (engine.info.ffn.notice !== undefined) this.log.warn(ffnNoticeText(engine.info.ffn.notice));
      const news = this.ffnNotices.afterLoad(options.modelDir, engine.info.ffn.notice);
      if (news !== undefined) void vscode.window.showWarningMessage(`Flashcode: ${ffnNoticeText(news)}`);
      this.setState({ kind: 'ready', modelDir: options.modelDir, info: engine.info, threads: engine.info.threads });
    } catch (error) {
      if (generation !== this.generation) return;
      this.setState({ kind: 'error', modelDir: options.modelDir, message: describeError(error) });
      this.log.error(error, `loading the model from ${options.modelDir}`);
    }
  }

  /** WebGPU failed during a generation, which finished on WebAssembly (the engine runs there until
   *  it loads again): said once, since the engine reports a fault once. */
  private onBackendFault(engine: Engine, threads: number, fault: string): void {
    const message = `WebGPU failed, so the model runs on WebAssembly until it loads again (a change of flashcode.engine.backend or a restart): ${fault}`;
    this.log.warn(message);
    void vscode.window.showWarningMessage(`Flashcode: ${message}`);
    const info = { ...engine.info, backend: 'WebAssembly SIMD kernels', backendReason: message };
    if (this.current.kind === 'ready') this.setState({ kind: 'ready', modelDir: this.current.modelDir, info, threads });
  }

  /** After the inference worker died (EngineCrashedError), starts a fresh one with the same model. */
  restartAfterCrash(error: unknown): void {
    if (!(error instanceof Error) || error.name !== 'EngineCrashedError' || !this.lastOptions) return;
    this.log.info('the inference worker stopped; starting it again');
    void this.load(this.lastOptions);
  }

  dispose(): void {
    this.generation++;
    this.unload();
    this.changed.dispose();
  }

  private unload(): void {
    this.loaded?.cancel();
    this.loaded = undefined;
    this.lastGenerated = undefined;
    const engine = this.engine;
    this.engine = undefined;
    engine?.dispose().catch((error: unknown) => this.log.error(error, 'stopping the inference worker'));
  }

  private setState(state: EngineState): void {
    this.current = state;
    this.changed.fire(state);
  }
}

/** `engine`, telling `record` about every generation that finishes (not one that throws). */
function recordingGenerations(engine: Engine, record: (result: GenerateResult) => void): Engine {
  return {
    get info() { return engine.info; },
    generate: async (request, callbacks) => {
      const result = await engine.generate(request, callbacks);
      record(result);
      return result;
    },
    countTokens: (text) => engine.countTokens(text),
    dispose: () => engine.dispose(),
  };
}
