import type { FlashOptions } from './ffn/loadFlash';
import type { BackendSetting } from './gpu/backendSetting';

// The engine's public contract: plain data in, plain data out. Two implementations share it:
// InProcessEngine (tests, CLI, bench) and WorkerEngine (the extension host; a worker_threads proxy).

/** What a prompt is made of. The engine renders it with the model's own template and fits it to
 *  the context window at token level (keeps the end of the prefix and the start of the suffix). */
export type PromptParts =
  | { kind: 'fim'; prefix: string; suffix: string }
  | { kind: 'text'; text: string }
  /** An instruction for a chat model: rendered with the checkpoint's chat template (ModelInfo.chat);
   *  for a model without one, as plain text (system, a blank line, user). */
  | { kind: 'chat'; system: string; user: string };

export interface GenerateRequest {
  prompt: PromptParts;
  /** Upper bound on generated tokens. */
  maxNewTokens: number;
  /** 0 = greedy (argmax). */
  temperature: number;
  /** Nucleus sampling mass, (0, 1]; ignored when temperature is 0. */
  topP: number;
  /** Seed for the sampler's PRNG; the same seed and prompt give the same tokens. */
  seed: number;
  /** Wall-clock budget for the whole call (prefill + decode); decoding stops when it is spent. */
  timeBudgetMs: number;
  /** Extra stop strings on top of the model's stop tokens; the stop string is not returned. */
  stopStrings?: string[];
}

/** 'bad-text': the model produced bytes that are not UTF-8, or a control character other than
 *  newline and tab; the text ends before them. */
export type StopReason = 'stop-token' | 'stop-string' | 'bad-text' | 'max-tokens' | 'time-budget' | 'context-full' | 'aborted';

export interface GenerateResult {
  text: string;
  tokenIds: number[];
  promptTokens: number;
  generatedTokens: number;
  /** Time from the call to the first streamed text (ms); equals totalMs when nothing streamed. */
  ttfsMs: number;
  totalMs: number;
  stopReason: StopReason;
  /** Prompt tokens whose keys and values came from the previous generation's KV cache (the longest
   *  common token prefix, at most promptTokens - 1). */
  reusedPromptTokens: number;
  /** Prompt tokens run through the model for this call: promptTokens - reusedPromptTokens (≥ 1). */
  prefilledPromptTokens: number;
  /** Set on the one generation during which WebGPU failed: it finished on WebAssembly, which runs
   *  from then on; says why. */
  backendFault?: string;
}

export interface GenerateCallbacks {
  signal?: AbortSignal;
  /** Called with each new piece of decoded text, in order. */
  onText?: (delta: string) => void;
}

/** What the rest of the product needs to know about the loaded model. */
export interface ModelInfo {
  id: string;
  displayName: string;
  contextTokens: number;
  vocabSize: number;
  layers: number;
  /** Bytes of weights (graphs + ffn.bin). */
  weightBytes: number;
  /** How the FFN runs: 'sparse' (predictors + neuron cache, flashcode.engine.sparseFfn) or 'dense';
   *  `notice` says why sparse was asked for and is not running. */
  ffn: { mode: 'dense' | 'sparse'; notice?: string; fullyResident?: boolean; residentNeurons?: number; neurons?: number };
  /** Format-v2 models under flashcode.engine.memoryBudgetMB: what stays in memory and what is read
   *  from disk as it is used, for the log. */
  memory?: string;
  /** What computes the model, for people: version-1 models run their dense FFN calls on ONNX Runtime
   *  Web, everything else (and everything of version 2) runs in the WebAssembly SIMD kernels. */
  backend: string;
  /** Threads it computes on: a version-2 model's prompt is split across `EngineOptions.threads`;
   *  version-1 models run ONNX Runtime on one (V1_ORT_THREADS). */
  threads: number;
  /** Why that backend (flashcode.engine.backend, the adapter found, the calibration at load). */
  backendReason?: string;
  /** Set when WebGPU was asked for (flashcode.engine.backend "webgpu") and is not what runs. */
  backendWarning?: string;
  /** Whether the model has fill-in-the-middle tokens; without them it completes from the prefix alone. */
  fim: boolean;
  /** The chat template Explain and Refactor use ('chatml'), absent when the model has none. */
  chat?: ChatFormat;
}

/** Chat templates the engine renders (models/FORMAT.md §M `chat.format`). */
export type ChatFormat = 'chatml';

export interface Engine {
  readonly info: ModelInfo;
  /** One generation at a time; a call made while another runs waits for it (single flight). */
  generate(request: GenerateRequest, callbacks?: GenerateCallbacks): Promise<GenerateResult>;
  /** Tokens `text` takes in this model's tokenizer (no special tokens added). */
  countTokens(text: string): Promise<number>;
  /** Frees sessions and buffers; later calls reject with EngineDisposedError. */
  dispose(): Promise<void>;
}

export interface EngineOptions {
  /** Directory holding manifest.json and the files it lists. */
  modelDir: string;
  /** Threads a format-v2 model splits each prompt chunk's kernel calls (by tokens) and each decoded
   *  token's (by rows) across.
   *  Format-v1 models ignore it: ONNX Runtime runs on V1_ORT_THREADS. */
  threads?: number;
  /** Directory holding ort-wasm-simd-threaded.{mjs,wasm} when running from a bundle. */
  ortWasmDir?: string;
  /** Most bytes of keys and values kept between generations for KV-prefix reuse; a generation that
   *  ends with a larger cache drops it. Default: no limit beyond the context window, i.e. at most
   *  contextTokens × layers × 2 × kvHeads × headDim × 4 bytes (the fixture model: 2048 tokens ×
   *  512 B = 1 MiB). 0 keeps nothing: every generation prefills its whole prompt. */
  maxCachedKvBytes?: number;
  /** The flash FFN path and its memory budget (engine/ffn/loadFlash.ts). Default: dense. */
  flash?: FlashOptions;
  /** What computes a format-v2 model (flashcode.engine.backend; gpu/selectBackend.ts). Default: 'auto'. */
  backend?: BackendSetting;
}
