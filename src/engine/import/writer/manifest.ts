// manifest.json v2 (models/FORMAT.md v2 §M) from what the checkpoint says about itself: FIM and
// stop tokens found in its vocabulary, its chat template, its context length (capped).
import type { Checkpoint } from '../checkpoint';

export const CONTEXT_CAP_TOKENS = 8192;

const FIM_STYLES = [
  { prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>' }, // Qwen2.5-Coder
  { prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>' }, // StarCoder, SmolLM
];
const END_OF_TEXT = ['<|endoftext|>'];
const FILE_SEPARATORS = ['<|file_sep|>', '<file_sep>'];
const EXTRA_STOPS = ['<|im_end|>', '<|endoftext|>', ...FILE_SEPARATORS];

export interface ManifestFim {
  order: 'psm';
  prefixToken: string;
  suffixToken: string;
  middleToken: string;
  endOfTextToken?: string;
  fileSeparatorToken?: string;
}

/** The added tokens of the checkpoint's tokenizer, by text. Special or not: Qwen2.5-Coder marks its
 *  FIM tokens `special: false` (llama.cpp: user-defined), yet they are its FIM tokens. */
function specialTokens(c: Checkpoint): Set<string> {
  return new Set(c.tokenizerJson.added_tokens.map((t) => t.content));
}

/** Marks `tokens` special in the tokenizer (the manifest's FIM and stop tokens must be, and special
 *  tokens are left out of decoded text). Their ids do not change: added tokens match whole either way. */
export function markSpecial(c: Checkpoint, tokens: Iterable<string>): void {
  const wanted = new Set(tokens);
  for (const t of c.tokenizerJson.added_tokens) if (wanted.has(t.content)) t.special = true;
}

export function discoverFim(c: Checkpoint): ManifestFim | undefined {
  const special = specialTokens(c);
  const style = FIM_STYLES.find((s) => special.has(s.prefix) && special.has(s.suffix) && special.has(s.middle));
  if (!style) return undefined;
  const fim: ManifestFim = { order: 'psm', prefixToken: style.prefix, suffixToken: style.suffix, middleToken: style.middle };
  const eot = END_OF_TEXT.find((t) => special.has(t));
  const sep = FILE_SEPARATORS.find((t) => special.has(t));
  if (eot) fim.endOfTextToken = eot;
  if (sep) fim.fileSeparatorToken = sep;
  return fim;
}

export function discoverStopTokens(c: Checkpoint): string[] {
  const special = specialTokens(c);
  const stops = [c.eosToken, ...EXTRA_STOPS].filter((t): t is string => t !== undefined && special.has(t));
  return [...new Set(stops)];
}

export function chatOf(c: Checkpoint): { template: string; format?: 'chatml' } | undefined {
  if (!c.chatTemplate) return undefined;
  return c.chatTemplate.includes('<|im_start|>') ? { template: c.chatTemplate, format: 'chatml' } : { template: c.chatTemplate };
}

export function modelId(displayName: string): string {
  const id = displayName.toLowerCase().replace(/[^a-z0-9.]+/g, '-').replace(/^-+|-+$/g, '');
  return id || 'imported-model';
}

export interface FileEntry {
  bytes: number;
  sha256: string;
}

function matricesNote({ q4, q8 }: { q4: number; q8: number }): string {
  if (q4 === 0) return 'every matrix re-quantized to q8_32.';
  return `${q4} of weights.bin's ${q4 + q8} matrices in q4_32, the rest and ffn.bin's up and down in q8_32.`;
}

/** manifest.json's object: the v1 fields, plus weights, source, quantization, chat and the dense
 *  (uncalibrated) gate sparsity of a silu model. */
export function buildManifest(c: Checkpoint, found: {
  fim?: ManifestFim; stopTokens: string[]; sourceFiles: ({ name: string } & FileEntry)[]; files: Record<string, FileEntry>;
  /** What weights.bin's matrices became: how many of them are q4_32 and q8_32. */
  matrices: { q4: number; q8: number };
}) {
  const a = c.architecture;
  const chat = chatOf(c);
  const contextTokens = Math.min(c.contextTokens, CONTEXT_CAP_TOKENS);
  const notes = [
    `Imported by Flashcode from ${c.files.map((f) => f.name).join(', ')} (${c.kind}, ${c.quantization}); ${matricesNote(found.matrices)}`,
    c.contextTokens > contextTokens ? `Context capped at ${contextTokens} tokens (the checkpoint allows ${c.contextTokens}).` : '',
    found.fim ? '' : 'No FIM tokens in the vocabulary: completions use the prefix alone.',
    'Sparsity not calibrated: gate thresholds 0 (dense).',
  ].filter(Boolean).join(' ');
  return {
    format: 'flashcode-model',
    formatVersion: 2,
    id: modelId(c.displayName),
    displayName: c.displayName,
    notes,
    architecture: a,
    contextTokens,
    ...(found.fim ? { fim: found.fim } : {}),
    stopTokens: found.stopTokens,
    ...(chat ? { chat } : {}),
    weights: { file: 'weights.bin' },
    ffn: { file: 'ffn.bin' },
    source: { kind: c.kind, files: found.sourceFiles, quantization: c.quantization },
    quantization: (found.matrices.q4 > 0 ? 'q4_32' : 'q8_32') as 'q4_32' | 'q8_32',
    sparsity: {
      gateThresholds: new Array<number>(a.layers).fill(0),
      targetSkip: 0,
      measuredSkip: new Array<number>(a.layers).fill(0),
      measuredOn: 'not calibrated: dense (thresholds 0 skip no neuron)',
    },
    files: found.files,
  };
}
