// A loopback fake of the Hugging Face hub's two endpoints Flashcode uses, in the hub's JSON shape:
// GET /api/models/<repo>/tree/<revision>?recursive=true (LFS entries carry the sha256) and
// GET /<repo>/resolve/<revision>/<path>, which redirects to the file (as the hub does, to its CDN).
import crypto from 'node:crypto';
import type { FileServer } from './fileServer';

export interface HubFileSpec {
  path: string;
  body: Buffer;
  /** Large files are in LFS (sha256 listed); small ones in git (only the blob id). */
  lfs?: boolean;
  /** Report this sha256 instead of the real one (a lying or stale listing). */
  listedSha256?: string;
}

export function publishRepo(server: FileServer, repo: string, files: HubFileSpec[], revision = 'main'): void {
  const listing = files.map((f) => {
    const served = server.serve(`${repo.replace('/', '__')}__${f.path.replace(/\//g, '__')}`, f.body);
    server.routes.set(`/${repo}/resolve/${revision}/${f.path}`, (_req, res) => res.writeHead(302, { location: new URL(served.url).pathname }).end());
    const gitOid = crypto.createHash('sha1').update(`blob ${f.body.length}\0`).update(f.body).digest('hex');
    const lfs = f.lfs ?? true;
    return {
      type: 'file', path: f.path, size: lfs ? 135 : f.body.length, oid: gitOid,
      ...(lfs ? { lfs: { oid: f.listedSha256 ?? served.sha256, size: f.body.length, pointerSize: 135 } } : {}),
    };
  });
  server.routes.set(`/api/models/${repo}/tree/${revision}`, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify([{ type: 'directory', oid: 'x', size: 0, path: 'sub' }, ...listing]));
  });
}
