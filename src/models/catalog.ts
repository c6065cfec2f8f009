// The curated list of downloadable models shipped with the extension (catalog.json). An entry names
// a hub repo, a revision and the checkpoint's files. A `verified` entry pins every file's size and
// sha256 (checked here, against a file we had); an unverified one may leave them out, and then the
// hub's listing must supply the sha256 before anything downloads (hub.ts resolveFromListing).
import shipped from './catalog.json';

export interface CatalogFile {
  path: string;
  bytes?: number;
  sha256?: string;
}

export interface CatalogEntry {
  id: string;
  displayName: string;
  repo: string;
  /** A commit (verified entries) or a branch. */
  revision: string;
  files: CatalogFile[];
  licence: { name: string; url: string };
  parameters: string;
  /** Has fill-in-the-middle tokens (code before and after the cursor). */
  fim: boolean;
  recommendedMemoryMB: number;
  /** Size of the imported model when known (measured); otherwise estimated from the source. */
  importedBytes?: number;
  verified: boolean;
  notes: string;
}

/** The catalog contradicts its own schema: a build-time mistake, held by a unit test. */
export class CatalogInvalidError extends Error {
  constructor(what: string) {
    super(`models/catalog.json: ${what} — fix the catalog entry.`);
    this.name = 'CatalogInvalidError';
  }
}

const ID = /^[a-z0-9][a-z0-9._-]*$/;
const SHA256 = /^[0-9a-f]{64}$/;

export function parseCatalog(value: unknown): CatalogEntry[] {
  const root = value as { version?: unknown; models?: unknown };
  if (root?.version !== 1 || !Array.isArray(root.models)) throw new CatalogInvalidError('expected { "version": 1, "models": [...] }');
  const seen = new Set<string>();
  return root.models.map((m: Partial<CatalogEntry>, i: number) => {
    const where = `models[${i}]${typeof m?.id === 'string' ? ` (${m.id})` : ''}`;
    const need = (ok: boolean, what: string) => { if (!ok) throw new CatalogInvalidError(`${where}: ${what}`); };
    need(typeof m?.id === 'string' && ID.test(m.id), 'id must be lowercase letters, digits, ".", "_" or "-"');
    need(!seen.has(m.id!), 'id is used twice');
    seen.add(m.id!);
    for (const key of ['displayName', 'repo', 'revision', 'parameters', 'notes'] as const) need(typeof m[key] === 'string' && m[key] !== '', `${key} is required`);
    need(typeof m.licence?.name === 'string' && typeof m.licence.url === 'string' && m.licence.url.startsWith('https://'), 'licence needs a name and an https url');
    need(typeof m.fim === 'boolean' && typeof m.verified === 'boolean', 'fim and verified are booleans');
    need(Number.isInteger(m.recommendedMemoryMB) && m.recommendedMemoryMB! > 0, 'recommendedMemoryMB is a positive integer');
    need(Array.isArray(m.files) && m.files.length > 0, 'files lists the checkpoint');
    for (const f of m.files!) {
      need(typeof f.path === 'string' && f.path !== '' && !f.path.split('/').includes('..'), 'each file needs a relative path');
      need(f.sha256 === undefined || SHA256.test(f.sha256), `${f.path}: sha256 is 64 lowercase hex digits`);
      need(f.bytes === undefined || (Number.isSafeInteger(f.bytes) && f.bytes > 0), `${f.path}: bytes is a positive integer`);
      // Verified means pinned: the hub cannot change what gets installed.
      if (m.verified) need(f.sha256 !== undefined && f.bytes !== undefined, `${f.path}: a verified entry pins bytes and sha256`);
    }
    if (m.verified) need(/^[0-9a-f]{40}$/.test(m.revision!), 'a verified entry pins a commit as its revision');
    return m as CatalogEntry;
  });
}

export function shippedCatalog(): CatalogEntry[] {
  return parseCatalog(shipped);
}

/** Bytes of the imported model (q8_32, about 9 bits a weight, plus f32 norms), from the source's
 *  size and the bits a weight its name suggests; when unknown, as if 4-bit (the largest ratio). */
export function estimateImportedBytes(files: { path: string; bytes: number }[]): number {
  return Math.ceil(files.reduce((sum, f) => sum + f.bytes * importRatio(f.path), 0));
}

function importRatio(file: string): number {
  const name = file.toLowerCase();
  if (!name.endsWith('.gguf') && !name.endsWith('.safetensors')) return 1; // tokenizer, config: copied or dropped
  if (/(^|[^a-z0-9])(q8_0|q8)([^a-z0-9]|$)/.test(name)) return 1.15;
  if (/(^|[^a-z0-9])(f16|bf16|fp16)([^a-z0-9]|$)/.test(name) || name.endsWith('.safetensors')) return 0.6; // safetensors: mostly bf16/f16
  if (/(^|[^a-z0-9])f32([^a-z0-9]|$)/.test(name)) return 0.3;
  return 1.7; // 4–6-bit: SmolLM2 Q4_1, 98 MB, imports to 133 MB (1.35×; 153 MB, 1.55×, with --bits 8)
}
