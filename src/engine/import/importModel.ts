// Checkpoint (GGUF file or Hugging Face directory) → Flashcode model directory, format v2. Reads the
// source once, a layer at a time; writes into a temporary directory beside --out and renames it at
// the end, so a half-written model is never visible and an error or abort leaves nothing behind.
import { calibrateModelDir } from '../v2/calibrate';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { layerTensorNames, type Checkpoint, type TensorSource } from './checkpoint';
import { CheckpointError, CheckpointIncompleteError, ImportAbortedError, ImportBitsUnsupportedError } from './errors';
import { openGgufCheckpoint } from './gguf/checkpoint';
import { openSafetensorsCheckpoint } from './safetensors/checkpoint';
import { planFfn, writeFfnLayer } from './writer/ffnFile';
import { buildManifest, discoverFim, discoverStopTokens, markSpecial } from './writer/manifest';
import { planWeights, writeF32Tensor, writeQ4Tensor, writeQ8Tensor, type Q4RowReader, type RowReader, type WeightsDtype, type WeightsEntry } from './writer/weightsFile';

export interface ImportProgress {
  /** Output bytes written so far, of `totalBytes`. */
  doneBytes: number;
  totalBytes: number;
}

export interface ImportOptions {
  input: string;
  outDir: string;
  /** weights.bin's matrices: 8 all q8_32; 4 all q4_32 (models/FORMAT.md §Q4); absent: q4_32 where
   *  the source's blocks are q4_32 exactly (GGUF Q4_0, Q4_1, Q4_K: lossless), q8_32 elsewhere.
   *  ffn.bin's up and down are q8_32 either way. */
  bits?: number;
  /** Share of FFN neurons the gate skips at decode (0, the default: none — bench:gate-sparsity
   *  measures what skipping costs); above 0, thresholds are calibrated into the manifest. */
  gateSkip?: number;
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportSummary {
  outDir: string;
  id: string;
  displayName: string;
  source: { kind: 'gguf' | 'safetensors'; files: { name: string; bytes: number; sha256: string }[]; quantization: string };
  architecture: Checkpoint['architecture'];
  contextTokens: number;
  fim: boolean;
  stopTokens: string[];
  chatFormat?: string;
  /** What weights.bin's matrices became (models/FORMAT.md §M `quantization`). */
  quantization: 'q8_32' | 'q4_32';
  outputBytes: number;
  seconds: number;
}

/** --out already holds something: the importer never overwrites. */
export class ImportOutputExistsError extends CheckpointError {
  constructor(outDir: string) {
    super('ImportOutputExists', `${outDir} already exists — choose a new --out directory or remove the old one.`);
  }
}

export function openCheckpoint(input: string): Checkpoint {
  if (!fs.existsSync(input)) throw new CheckpointIncompleteError(input, 'no such file or directory');
  return fs.statSync(input).isDirectory() ? openSafetensorsCheckpoint(input) : openGgufCheckpoint(input);
}

export async function importCheckpoint(options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  if (options.bits !== undefined && options.bits !== 8 && options.bits !== 4) {
    throw new ImportBitsUnsupportedError(options.bits);
  }
  const outDir = path.resolve(options.outDir);
  if (fs.existsSync(outDir)) throw new ImportOutputExistsError(outDir);
  const checkpoint = openCheckpoint(options.input); // refuses what it cannot convert, before any work
  const tmp = path.join(path.dirname(outDir), `.${path.basename(outDir)}.importing-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  try {
    fs.mkdirSync(path.dirname(outDir), { recursive: true });
    fs.mkdirSync(tmp);
    const summary = await writeModel(checkpoint, tmp, options);
    if (options.gateSkip) await calibrateModelDir(tmp, options.gateSkip);
    fs.renameSync(tmp, outDir);
    return { ...summary, outDir, seconds: (performance.now() - started) / 1000 };
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    checkpoint.close();
  }
}

type Omitted = 'outDir' | 'seconds';

async function writeModel(c: Checkpoint, dir: string, options: ImportOptions): Promise<Omit<ImportSummary, Omitted>> {
  const a = c.architecture;
  const specs: { name: string; dtype: WeightsDtype; shape: [number] | [number, number]; read: TensorSource[] }[] = [];
  const matrixDtype = (parts: TensorSource[]): WeightsDtype => {
    if (options.bits === 8) return 'q8_32';
    if (options.bits === 4) return 'q4_32';
    return parts.every((p) => p.readQ4Rows) ? 'q4_32' : 'q8_32';
  };
  const q8 = (name: string, read: string[], rows: number, cols: number) => {
    const parts = read.map((r) => c.tensor(r));
    specs.push({ name, dtype: matrixDtype(parts), shape: [rows, cols], read: parts });
  };
  const f32 = (name: string, read: string[], n: number) => specs.push({ name, dtype: 'f32', shape: [n], read: read.map((r) => c.tensor(r)) });
  const qkvRows = (a.heads + 2 * a.kvHeads) * a.headDim;
  q8('embed', ['embed'], a.vocabSize, a.dModel);
  if (!a.tiedEmbeddings) q8('head', ['head'], a.vocabSize, a.dModel);
  f32('final_norm', ['final_norm'], a.dModel);
  for (let l = 0; l < a.layers; l++) {
    const [attnNorm, q, k, v, ...rest] = layerTensorNames(l, a.attentionBias);
    const p = `layers.${l}.`;
    f32(`${p}attn_norm`, [attnNorm], a.dModel);
    q8(`${p}qkv`, [q, k, v], qkvRows, a.dModel);
    if (a.attentionBias) f32(`${p}qkv_bias`, rest.slice(0, 3), qkvRows);
    q8(`${p}out`, [`${p}out`], a.dModel, a.heads * a.headDim);
    f32(`${p}ffn_norm`, [`${p}ffn_norm`], a.dModel);
    q8(`${p}ffn_gate`, [`${p}gate`], a.ffnSize, a.dModel);
  }
  const weights = planWeights(specs.map(({ name, dtype, shape }) => ({ name, dtype, shape })));
  const ffn = planFfn(a.layers, a.dModel, a.ffnSize);
  const totalBytes = weights.fileBytes + ffn.fileBytes;
  let doneBytes = 0;
  const progress = (n: number) => {
    doneBytes += n;
    options.onProgress?.({ doneBytes, totalBytes });
  };
  const checkpointAbort = async () => {
    if (options.signal?.aborted) throw new ImportAbortedError();
    await new Promise((resolve) => setImmediate(resolve)); // lets an abort and progress through
  };

  const fim = discoverFim(c);
  const stopTokens = discoverStopTokens(c);
  markSpecial(c, [...stopTokens, ...Object.entries(fim ?? {}).filter(([k]) => k.endsWith('Token')).map(([, v]) => v)]);
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(c.tokenizerJson));
  const outputs = ['tokenizer.json', 'weights.bin', 'ffn.bin'];
  if (c.tokenizerConfig !== undefined) {
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), `${JSON.stringify(c.tokenizerConfig, null, 2)}\n`);
    outputs.push('tokenizer_config.json');
  }
  const wfd = fs.openSync(path.join(dir, 'weights.bin'), 'w');
  try {
    fs.writeSync(wfd, weights.header, 0, weights.header.length, 0);
    for (const [i, entry] of weights.tensors.entries()) {
      await checkpointAbort();
      writeTensor(wfd, entry, specs[i].read, progress);
    }
    fs.ftruncateSync(wfd, weights.fileBytes);
  } finally {
    fs.closeSync(wfd);
  }
  const ffd = fs.openSync(path.join(dir, 'ffn.bin'), 'w');
  try {
    fs.writeSync(ffd, ffn.header, 0, ffn.header.length, 0);
    const up = new Float32Array(a.ffnSize * a.dModel); // [ffnSize][d]
    const down = new Float32Array(a.dModel * a.ffnSize); // [d][ffnSize]
    for (let l = 0; l < a.layers; l++) {
      await checkpointAbort();
      c.tensor(`layers.${l}.up`).readRows(0, a.ffnSize, up);
      c.tensor(`layers.${l}.down`).readRows(0, a.dModel, down);
      writeFfnLayer(ffd, ffn, l, up, down, a.dModel, a.ffnSize);
      progress(a.ffnSize * ffn.recordBytes);
    }
    fs.ftruncateSync(ffd, ffn.fileBytes);
  } finally {
    fs.closeSync(ffd);
  }
  await checkpointAbort();
  options.onProgress?.({ doneBytes: totalBytes, totalBytes });

  const sourceFiles = await Promise.all(c.files.map(async (f) => ({ name: f.name, bytes: f.bytes, sha256: await sha256(f.path) })));
  const files: Record<string, { bytes: number; sha256: string }> = {};
  for (const name of outputs) {
    files[name] = { bytes: fs.statSync(path.join(dir, name)).size, sha256: await sha256(path.join(dir, name)) };
  }
  const q4 = specs.filter((t) => t.dtype === 'q4_32').length;
  const manifest = buildManifest(c, { fim, stopTokens, sourceFiles, files, matrices: { q4, q8: specs.filter((t) => t.dtype === 'q8_32').length } });
  fs.writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return {
    id: manifest.id, displayName: c.displayName, source: manifest.source, architecture: a, contextTokens: manifest.contextTokens,
    fim: fim !== undefined, stopTokens, chatFormat: manifest.chat?.format, quantization: manifest.quantization, outputBytes: Object.values(files).reduce((s, f) => s + f.bytes, 0) + fs.statSync(path.join(dir, 'manifest.json')).size,
  };
}

function writeTensor(fd: number, entry: WeightsEntry, parts: TensorSource[], progress: (n: number) => void): void {
  if (entry.dtype === 'f32') {
    const out = new Float32Array(entry.shape.reduce((x, y) => x * y, 1));
    let at = 0;
    for (const p of parts) {
      p.readRows(0, p.rows, out.subarray(at, at + p.rows * p.cols));
      at += p.rows * p.cols;
    }
    writeF32Tensor(fd, entry, out);
    progress(entry.bytes);
    return;
  }
  // Rows of the parts one after the other (W_q, then W_k, then W_v for qkv).
  const rows = (n0: number, n: number, each: (p: TensorSource, lo: number, count: number, done: number) => void) => {
    let done = 0;
    let base = 0;
    for (const p of parts) {
      const lo = Math.max(n0 + done, base), hi = Math.min(n0 + n, base + p.rows);
      if (lo < hi) {
        each(p, lo - base, hi - lo, done);
        done += hi - lo;
      }
      base += p.rows;
    }
  };
  const cols = entry.shape[1]!;
  const read: RowReader = (r0, n, out) => rows(r0, n, (p, lo, count, done) => p.readRows(lo, count, out.subarray(done * cols, (done + count) * cols)));
  if (entry.dtype === 'q8_32') {
    writeQ8Tensor(fd, entry, read, progress);
    return;
  }
  const exact: Q4RowReader | undefined = parts.every((p) => p.readQ4Rows) ? (r0, n, nibbles, scales, mins) => rows(r0, n, (p, lo, count, done) => {
    p.readQ4Rows!(lo, count, nibbles.subarray(done * cols / 2, (done + count) * cols / 2), scales.subarray(done * cols / 32, (done + count) * cols / 32), mins.subarray(done * cols / 32, (done + count) * cols / 32));
  }) : undefined;
  writeQ4Tensor(fd, entry, read, exact, progress);
}

async function sha256(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
