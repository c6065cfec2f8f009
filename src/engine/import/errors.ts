// Named errors of the importer. Each says which input is wrong and what to do; the importer throws
// them before it writes anything it would have to undo (the output goes to a temporary directory).

export type CheckpointErrorCode = 'CheckpointUnsupported' | 'CheckpointCorrupt' | 'CheckpointIncomplete' | 'ImportOutputExists' | 'ImportAborted';

export class CheckpointError extends Error {
  constructor(readonly code: CheckpointErrorCode, message: string) {
    super(message);
    this.name = `${code}Error`;
  }
}

/** The checkpoint is valid but uses something this importer cannot convert (architecture, RoPE
 *  scaling, sliding-window attention, a quant type, mixture of experts, 4-bit output). */
export class CheckpointUnsupportedError extends CheckpointError {
  constructor(file: string, what: string) {
    super('CheckpointUnsupported', `${file}: ${what} is not supported by Flashcode's importer — use a Llama, Mistral or Qwen2 checkpoint without it.`);
  }
}

/** The file contradicts itself or is cut short: truncated, offsets past the end, duplicate names,
 *  shapes that contradict the configuration, non-finite weights. */
export class CheckpointCorruptError extends CheckpointError {
  constructor(file: string, what: string) {
    super('CheckpointCorrupt', `${file} is corrupt (${what}) — download the checkpoint again.`);
  }
}

/** Something the model needs is absent: a tokenizer, a config field, a tensor. */
export class CheckpointIncompleteError extends CheckpointError {
  constructor(where: string, what: string) {
    super('CheckpointIncomplete', `${where}: ${what} — the checkpoint is incomplete; download all of its files.`);
  }
}

/** --bits other than 8: format v2 stores q8_32 only. */
export class ImportBitsUnsupportedError extends CheckpointError {
  constructor(bits: number) {
    super('CheckpointUnsupported', `--bits ${bits} is not supported: model format v2 stores 8-bit (q8_32) or 4-bit (q4_32) weights — import with --bits 8 or --bits 4.`);
    this.name = 'ImportBitsUnsupportedError';
  }
}

export class ImportAbortedError extends CheckpointError {
  constructor() {
    super('ImportAborted', 'the import was cancelled; nothing was written.');
    this.name = 'AbortError';
  }
}
