// Named errors that say what went wrong and what to do. Library code throws them; the host shows
// them once. Each has a stable `code` so they survive the worker boundary (structured clone drops
// the prototype).

export type EngineErrorCode =
  | 'ModelFileMissing'
  | 'ModelFileUnreadable'
  | 'ModelFileCorrupt'
  | 'ModelFormatUnsupported'
  | 'ModelManifestInvalid'
  | 'EngineDisposed'
  | 'EngineCrashed'
  | 'FlashBudgetTooSmall'
  | 'ContextOverflow'
  | 'ModelTooLarge'
  | 'KernelsUnsupported'
  | 'PrefillThread';

export class EngineError extends Error {
  constructor(readonly code: EngineErrorCode, message: string) {
    super(message);
    this.name = `${code}Error`;
  }
}

export class ModelFileMissingError extends EngineError {
  constructor(file: string, modelDir: string) {
    super('ModelFileMissing', `${file} is missing from the model directory ${modelDir} — reinstall Flashcode or point flashcode.engine.modelPath at a complete model directory.`);
  }
}

/** A model file that exists but cannot be read as one: no permission, a directory, a name that
 *  leaves the model directory. */
export class ModelFileUnreadableError extends EngineError {
  constructor(file: string, modelDir: string, what: string, todo: string) {
    super('ModelFileUnreadable', `${file} in the model directory ${modelDir} ${what} — ${todo}.`);
  }
}

export class ModelFileCorruptError extends EngineError {
  constructor(file: string, what: string) {
    super('ModelFileCorrupt', `${file} is corrupt (${what}) — reinstall Flashcode or re-export the model.`);
  }
}

export class ModelFormatUnsupportedError extends EngineError {
  constructor(file: string, found: number | string, supported: number | string) {
    super('ModelFormatUnsupported', `${file} has format version ${found}; this Flashcode reads version ${supported} — update Flashcode or re-export the model.`);
  }
}

/** A q8_32 scale that is finite but not an f16 value: a file written before FORMAT.md §Q said so. */
export class ModelScalesNotF16Error extends EngineError {
  constructor(file: string, where: string, value: number) {
    super('ModelFormatUnsupported', `${file}: ${where} is ${value}, not a 16-bit float: the model was written before Flashcode's 8-bit scales had to be (models/FORMAT.md §Q) — import it again.`);
  }
}

export class ModelManifestInvalidError extends EngineError {
  constructor(field: string, what: string) {
    super('ModelManifestInvalid', `manifest.json: ${field} ${what} — re-export the model with models/pipeline.`);
  }
}

export class EngineDisposedError extends EngineError {
  constructor() {
    super('EngineDisposed', 'the engine was disposed — load the model again.');
  }
}

export class EngineCrashedError extends EngineError {
  constructor(detail: string) {
    super('EngineCrashed', `the inference worker stopped unexpectedly (${detail}) — completions restart with the next request.`);
  }
}

/** A worker thread of the threaded prefill threw, exited or stopped answering mid-request. */
export class PrefillThreadError extends EngineError {
  constructor(thread: number, what: string) {
    super('PrefillThread', `inference thread ${thread} ${what} — this request failed and its cached prompt was dropped; the next request starts fresh threads (if this keeps happening, set flashcode.engine.threads to 1).`);
  }
}

// Aborts are not engine errors: the cloud client and the tasks throw the same one (common/abortable.ts).
export { AbortedError, isAbort } from '../common/abortable';

export class FlashBudgetTooSmallError extends EngineError {
  /** needs: what the minimum holds; wholeMB: what keeps the whole model in memory; minimumBytes:
   *  the minimum before rounding up to whole MB (the setting is an integer). */
  constructor(budgetMB: number, readonly minimumMB: number, needs = 'its graphs, layer kernels, predictors, KV cache and the fewest neurons a token needs', readonly wholeMB?: number, readonly minimumBytes = minimumMB * 2 ** 20) {
    const whole = wholeMB === undefined ? '' : ` (${wholeMB} MB keeps all of it in memory, the fastest)`;
    super('FlashBudgetTooSmall', `flashcode.engine.memoryBudgetMB is ${+budgetMB.toFixed(1)} MB, too small for this model: it needs at least ${minimumMB} MB (${needs}) — raise the setting to ${minimumMB} or more${whole}.`);
  }
}

/** A forward pass would hold more tokens than the model's context (the KV cache's capacity). */
export class ContextOverflowError extends EngineError {
  constructor(tokens: number, contextTokens: number) {
    super('ContextOverflow', `${tokens} tokens do not fit the model's context of ${contextTokens} — shorten the prompt (the engine's prompt budget keeps completions within it).`);
  }
}

/** A model whose weights, KV cache and scratch rows exceed what WebAssembly memory can hold. */
export class ModelTooLargeError extends EngineError {
  constructor(neededBytes: number, limitBytes: number) {
    super('ModelTooLarge', `the model needs ${Math.ceil(neededBytes / 2 ** 20)} MiB of WebAssembly memory, above its limit of ${limitBytes / 2 ** 20} MiB — choose a smaller model (or a smaller quantization of it).`);
  }
}

/** The WebAssembly kernels cannot run a model here: no WebAssembly SIMD in this runtime, or sizes
 *  they do not handle. */
export class KernelsUnsupportedError extends EngineError {
  constructor(what: string) {
    super('KernelsUnsupported', `this model cannot run here: ${what} — Flashcode needs WebAssembly SIMD (Node 16.4 or later, VS Code 1.60 or later) and model sizes that are multiples of 4.`);
  }
}
