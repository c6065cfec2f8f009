// `node dist/cli.js import <checkpoint dir | file.gguf> --out DIR [--bits 8|4] [--json]`: the
// importer (src/engine/import/) with a progress bar on stderr and a summary on stdout.
import { parseArgs } from 'node:util';
import { importCheckpoint, type ImportProgress, type ImportSummary } from './engine/import/importModel';

export const IMPORT_USAGE = `Usage: node dist/cli.js import <checkpoint dir | file.gguf> --out DIR [options]

Converts a public checkpoint into a Flashcode model directory (format v2, 8-bit q8_32 or 4-bit q4_32 weights) that
flashcode.engine.modelPath can point at. Reads GGUF files (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K,
Q5_K, Q6_K) and Hugging Face directories (config.json, *.safetensors, tokenizer.json) of Llama,
Mistral and Qwen2 models. DIR must not exist; it appears only once the import is complete.

Options:
  --out DIR             the model directory to create
  --bits 8|4            weight bits of the attention, gate and embedding matrices (the FFN's up and
                        down stay 8-bit). Default: 4-bit where the GGUF's blocks are Q4_0, Q4_1 or
                        Q4_K (kept exactly, no loss), 8-bit for everything else
  --gate-skip S         share of feed-forward neurons to skip at decode, 0 to 0.9 (default 0: none);
                        thresholds calibrated on a code sample. Skipping costs accuracy: see
                        npm run bench:gate-sparsity
  --json                print a JSON summary (id, architecture, source, quantization, contextTokens, fim, outputBytes, seconds)
  -h, --help            show this help

Progress goes to stderr. Exit codes: 0 success, 1 the checkpoint could not be imported, 2 bad arguments.`;

export interface ImportArgs {
  input: string;
  outDir: string;
  /** undefined: per tensor, as the source allows (see IMPORT_USAGE). */
  bits: number | undefined;
  gateSkip: number;
  json: boolean;
}

export function parseImportArgs(argv: string[]): ImportArgs | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { out: { type: 'string' }, bits: { type: 'string' }, 'gate-skip': { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new Error('import takes exactly one checkpoint (a directory or a .gguf file)');
  if (values.out === undefined) throw new Error('--out is required');
  if (values.bits !== undefined && values.bits !== '8' && values.bits !== '4') throw new Error(`--bits must be 8 or 4, got ${JSON.stringify(values.bits)}`);
  const gateSkip = Number(values['gate-skip'] ?? 0);
  if (!(gateSkip >= 0 && gateSkip <= 0.9)) throw new Error(`--gate-skip must be a number from 0 to 0.9, got ${JSON.stringify(values['gate-skip'])}`);
  return { input: positionals[0], outDir: values.out, bits: values.bits === undefined ? undefined : Number(values.bits), gateSkip, json: values.json };
}

const MB = 1024 * 1024;

/** A bar redrawn in place on a terminal; one line per 10 % elsewhere (logs, CI). */
function progressBar(stream: NodeJS.WriteStream): { update: (p: ImportProgress) => void; done: () => void } {
  let lastDraw = 0;
  let lastDecile = -1;
  return {
    update({ doneBytes, totalBytes }) {
      const share = totalBytes === 0 ? 1 : doneBytes / totalBytes;
      const text = `${(share * 100).toFixed(0).padStart(3)}%  ${(doneBytes / MB).toFixed(1)} / ${(totalBytes / MB).toFixed(1)} MB`;
      if (stream.isTTY) {
        const now = performance.now();
        if (now - lastDraw < 100 && share < 1) return;
        lastDraw = now;
        const width = 30, filled = Math.round(share * width);
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
      } else if (Math.floor(share * 10) > lastDecile) {
        lastDecile = Math.floor(share * 10);
        stream.write(`import: ${text}\n`);
      }
    },
    done() {
      if (stream.isTTY) stream.write('\n');
    },
  };
}

export async function runImport(args: ImportArgs): Promise<ImportSummary> {
  const bar = progressBar(process.stderr);
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    const summary = await importCheckpoint({ input: args.input, outDir: args.outDir, bits: args.bits, gateSkip: args.gateSkip, signal: abort.signal, onProgress: bar.update });
    bar.done();
    if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else process.stdout.write(`Imported ${summary.displayName} into ${summary.outDir} (${summary.quantization}): ${(summary.outputBytes / MB).toFixed(1)} MB in ${summary.seconds.toFixed(1)} s.\n`);
    return summary;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
