// Format-v2 test helpers: the golden weights.bin's manifest, and corrupt copies of a weights.bin
// made by editing its JSON table in place (the data stays where it is).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Architecture } from '../../src/engine/manifest';
import type { ManifestV2 } from '../../src/engine/manifestV2';

export const goldenDir = path.join(__dirname, '../golden');

export interface TableEntry { name: string; dtype: string; shape: number[]; offset: number; bytes: number }
export interface Table { fileBytes: number; tensors: TableEntry[] }

/** A v2 manifest around `architecture` (files unchecked by the weights reader). */
export function manifestFor(architecture: Architecture): ManifestV2 {
  const sha256 = '0'.repeat(64);
  return {
    format: 'flashcode-model', formatVersion: 2, id: 'golden', displayName: 'golden', architecture, contextTokens: 64,
    stopTokens: [], weights: { file: 'weights.bin' }, ffn: { file: 'ffn.bin' }, quantization: 'q8_32',
    files: { 'weights.bin': { bytes: 1, sha256 }, 'ffn.bin': { bytes: 1, sha256 }, 'tokenizer.json': { bytes: 1, sha256 } },
  };
}

export function readTable(bytes: Uint8Array): Table {
  const jsonBytes = Buffer.from(bytes).readUInt32LE(8);
  return JSON.parse(Buffer.from(bytes.subarray(12, 12 + jsonBytes)).toString('utf8')) as Table;
}

/** `bytes` with its JSON table replaced by `text`, which must fit before the data (dataStart unchanged). */
export function withTableText(bytes: Uint8Array, text: string): Buffer {
  const out = Buffer.from(bytes);
  const oldBytes = out.readUInt32LE(8);
  const dataStart = Math.ceil((12 + oldBytes) / 64) * 64;
  // A shorter table keeps its length with trailing spaces (still JSON), so dataStart stays put.
  const encoded = Buffer.from(text.padEnd(oldBytes - Buffer.byteLength(text) + text.length, ' '), 'utf8');
  if (Math.ceil((12 + encoded.length) / 64) * 64 !== dataStart) throw new Error(`test table of ${encoded.length} bytes moves dataStart`);
  out.fill(0, 12, dataStart);
  encoded.copy(out, 12);
  out.writeUInt32LE(encoded.length, 8);
  return out;
}

export function withTable(bytes: Uint8Array, edit: (t: Table) => void): Buffer {
  const table = readTable(bytes);
  edit(table);
  return withTableText(bytes, JSON.stringify(table));
}

export async function tempFile(bytes: Uint8Array, name = 'weights.bin'): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'flashcode-v2-'));
  const file = path.join(dir, name);
  await fsp.writeFile(file, bytes);
  return file;
}

export async function withFile<T>(file: string, fn: (h: fsp.FileHandle) => Promise<T>): Promise<T> {
  const h = await fsp.open(file, 'r');
  try { return await fn(h); } finally { await h.close(); }
}

export const readGoldenBytes = (name: string): Buffer => fs.readFileSync(path.join(goldenDir, name));
