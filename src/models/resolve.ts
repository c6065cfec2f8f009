// A catalog entry or a hub checkpoint → the files to download, each with its URL on the configured
// hub (flashcode.models.hubUrl) and the size and digest it must have. A verified entry needs no
// network call for this; an unverified one asks the hub's listing, and nothing downloads without
// a digest from one of the two.
import type { CatalogEntry } from './catalog';
import type { GetOptions } from './http';
import { fileUrl, listRepoFiles, resolveFromListing, type ResolvedFile } from './hub';

export async function resolveCatalogEntry(entry: CatalogEntry, hubUrl: string, options: GetOptions = {}): Promise<ResolvedFile[]> {
  const url = (p: string) => fileUrl(hubUrl, entry.repo, entry.revision, p);
  if (entry.files.every((f) => f.sha256 !== undefined && f.bytes !== undefined)) {
    return entry.files.map((f) => ({ path: f.path, url: url(f.path), bytes: f.bytes!, sha256: f.sha256 }));
  }
  const listing = await listRepoFiles(hubUrl, entry.repo, entry.revision, options);
  return resolveFromListing(entry.repo, listing, entry.files, url);
}
