// The Hugging Face hub (or a mirror at flashcode.models.hubUrl) as Flashcode uses it: a repo's file
// listing from `/api/models/<repo>/tree/<revision>`, whose LFS entries carry each file's sha256 and
// size, and file URLs `<hub>/<repo>/resolve/<revision>/<path>`.
import { HubListingError } from './errors';
import { getJson, getJsonPage, type GetOptions } from './http';

export interface HubFile {
  path: string;
  bytes: number;
  /** From the LFS pointer; absent for a small file kept in git. */
  sha256?: string;
  /** git's blob id, which every file has (the digest of a file kept in git). */
  gitOid: string;
}

/** A file with what downloadFile needs to fetch and verify it. */
export interface ResolvedFile {
  path: string;
  url: string;
  bytes: number;
  sha256?: string;
  gitBlobSha1?: string;
}

/** The hub pages a listing by 1,000 entries or so; a model repo has far fewer files. */
const MAX_LISTING_PAGES = 50;

const REPO_ID = /^[A-Za-z0-9][\w.-]{0,95}\/[A-Za-z0-9][\w.-]{0,95}$/;

/** `owner/name`, trimmed; also accepts a pasted https://huggingface.co/owner/name URL. */
export function parseRepoId(input: string): string | undefined {
  let text = input.trim().replace(/\/+$/, '');
  const url = /^https?:\/\/[^/]+\/([^/]+\/[^/]+)(\/.*)?$/.exec(text);
  if (url) text = url[1];
  return REPO_ID.test(text) && !text.includes('..') ? text : undefined;
}

export function fileUrl(hubUrl: string, repo: string, revision: string, file: string): string {
  return `${trimHub(hubUrl)}/${repo}/resolve/${encodeURIComponent(revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
}

export async function listRepoFiles(hubUrl: string, repo: string, revision: string, options: GetOptions = {}): Promise<HubFile[]> {
  const first = `${trimHub(hubUrl)}/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true`;
  const entries: unknown[] = [];
  for (let url: string | undefined = first, pages = 0; url !== undefined; pages++) {
    if (pages >= MAX_LISTING_PAGES) throw new HubListingError(repo, `the file listing goes on for more than ${MAX_LISTING_PAGES} pages`);
    const page: { body: unknown; next: string | undefined } = await getJsonPage(url, options);
    if (!Array.isArray(page.body)) throw new HubListingError(repo, `the hub's file listing (${url}) is not a list`);
    entries.push(...(page.body as unknown[]));
    url = page.next;
  }
  const files: HubFile[] = [];
  for (const e of entries) {
    if (typeof e !== 'object' || e === null) continue;
    const entry = e as { type?: unknown; path?: unknown; size?: unknown; oid?: unknown; lfs?: { oid?: unknown; size?: unknown } };
    if (entry.type !== 'file' || typeof entry.path !== 'string' || typeof entry.oid !== 'string') continue;
    // A path is joined to the download folder: nothing that could name a file outside it.
    if (!isPlainRelativePath(entry.path)) throw new HubListingError(repo, `the listing names a file ${JSON.stringify(entry.path.slice(0, 80))}, which is not a plain relative path`);
    const lfsSha = typeof entry.lfs?.oid === 'string' && /^[0-9a-f]{64}$/i.test(entry.lfs.oid) ? entry.lfs.oid.toLowerCase() : undefined;
    const bytes = typeof entry.lfs?.size === 'number' ? entry.lfs.size : entry.size;
    if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) continue;
    files.push({ path: entry.path, bytes, sha256: lfsSha, gitOid: entry.oid.toLowerCase() });
  }
  return files;
}

/** The licence a repo declares (its model card's `license`), or undefined when it declares none. */
export async function repoLicence(hubUrl: string, repo: string, options: GetOptions = {}): Promise<string | undefined> {
  const info = await getJson(`${trimHub(hubUrl)}/api/models/${repo}`, options) as { cardData?: { license?: unknown }; tags?: unknown };
  if (typeof info?.cardData?.license === 'string') return info.cardData.license;
  const tag = Array.isArray(info?.tags) ? info.tags.find((t): t is string => typeof t === 'string' && t.startsWith('license:')) : undefined;
  return tag?.slice('license:'.length);
}

/** `wanted` files of `repo`, with the hub's sizes and digests filling in what the caller lacks;
 *  a digest the caller has must agree with the hub's (a catalog entry pinned to other bytes). */
export function resolveFromListing(repo: string, listing: HubFile[], wanted: { path: string; bytes?: number; sha256?: string }[], url: (path: string) => string): ResolvedFile[] {
  return wanted.map((w) => {
    const found = listing.find((f) => f.path === w.path);
    if (!found) throw new HubListingError(repo, `the hub lists no file ${w.path}`);
    if (w.sha256 !== undefined && found.sha256 !== undefined && w.sha256.toLowerCase() !== found.sha256) {
      throw new HubListingError(repo, `${w.path} on the hub has sha256 ${found.sha256}, not the ${w.sha256} Flashcode expects (the file was replaced)`);
    }
    const sha256 = w.sha256?.toLowerCase() ?? found.sha256;
    if (sha256 === undefined && !/^[0-9a-f]{40}$/.test(found.gitOid)) throw new HubListingError(repo, `the hub gives no digest for ${w.path}, so it cannot be verified`);
    return { path: w.path, url: url(w.path), bytes: w.bytes ?? found.bytes, sha256, gitBlobSha1: sha256 === undefined ? found.gitOid : undefined };
  });
}

/** What a repo offers Flashcode's importer: each GGUF file, and the safetensors checkpoint when the
 *  repo has one (config.json, tokenizer.json and its *.safetensors at the top level). */
export interface RepoCheckpoint {
  kind: 'gguf' | 'safetensors';
  label: string;
  files: HubFile[];
  bytes: number;
}

export function checkpointsOf(files: HubFile[]): RepoCheckpoint[] {
  const out: RepoCheckpoint[] = files.filter((f) => f.path.toLowerCase().endsWith('.gguf'))
    .map((f) => ({ kind: 'gguf' as const, label: f.path, files: [f], bytes: f.bytes }));
  const top = files.filter((f) => !f.path.includes('/'));
  const weights = top.filter((f) => f.path.endsWith('.safetensors'));
  const needed = ['config.json', 'tokenizer.json'];
  if (weights.length > 0 && needed.every((n) => top.some((f) => f.path === n))) {
    const extra = top.filter((f) => ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'model.safetensors.index.json'].includes(f.path));
    const set = [...extra, ...weights];
    out.push({ kind: 'safetensors', label: `safetensors (${weights.length} weight file${weights.length > 1 ? 's' : ''})`, files: set, bytes: set.reduce((s, f) => s + f.bytes, 0) });
  }
  return out;
}

export function isPlainRelativePath(p: string): boolean {
  return p !== '' && !p.startsWith('/') && !p.includes('\\') && !p.includes('\0') && p.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

function trimHub(hubUrl: string): string {
  return hubUrl.trim().replace(/\/+$/, '');
}
