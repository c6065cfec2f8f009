// A real HTTP server on loopback serving files from memory, with the misbehaviours a model download
// meets: HTTP errors, redirects, a connection cut midway, no Range support, a file that changes.
// It records every request so tests can say which bytes were sent twice.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedFile {
  body: Buffer;
  etag: string;
}

export interface Behaviour {
  /** Answer 200 with the whole file even when a Range is asked. */
  ignoreRange?: boolean;
  /** Cut the connection after this many body bytes, on the next response only. */
  cutOnceAfterBytes?: number;
  /** Stall after this many body bytes until the request is aborted. */
  stallAfterBytes?: number;
  /** Each body write, in bytes (small ones make progress visible). */
  chunkBytes?: number;
}

export interface RequestRecord {
  path: string;
  range?: string;
  ifRange?: string;
  status: number;
  sentBytes: number;
}

export class FileServer {
  readonly files = new Map<string, ServedFile>();
  readonly requests: RequestRecord[] = [];
  /** Extra routes: path → handler (the fake hub API, redirects). */
  readonly routes = new Map<string, (req: http.IncomingMessage, res: http.ServerResponse) => void>();
  behaviour: Behaviour = {};
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private readonly sockets = new Set<import('node:net').Socket>();

  static async start(): Promise<FileServer> {
    const s = new FileServer();
    s.server.on('connection', (socket) => {
      s.sockets.add(socket);
      socket.on('close', () => s.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    return s;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Serves `body` at /files/<name>; returns its URL and sha256. */
  serve(name: string, body: Buffer): { url: string; sha256: string; bytes: number } {
    const sha256 = crypto.createHash('sha256').update(body).digest('hex');
    this.files.set(name, { body, etag: `"${sha256.slice(0, 16)}"` });
    return { url: `${this.origin}/files/${name}`, sha256, bytes: body.length };
  }

  sentBytes(): number {
    return this.requests.reduce((s, r) => s + r.sentBytes, 0);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.origin);
    const record: RequestRecord = { path: url.pathname + url.search, range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined, status: 0, sentBytes: 0 };
    this.requests.push(record);
    const route = this.routes.get(url.pathname);
    if (route) {
      route(req, res);
      record.status = res.statusCode;
      return;
    }
    const status = /^\/status\/(\d+)$/.exec(url.pathname);
    if (status) return this.end(res, record, Number(status[1]));
    const file = url.pathname.startsWith('/files/') ? this.files.get(decodeURIComponent(url.pathname.slice('/files/'.length))) : undefined;
    if (!file) return this.end(res, record, 404);
    const behaviour = this.behaviour;
    let start = 0;
    let statusCode = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    if (range && !behaviour.ignoreRange && (ifRange === undefined || ifRange === file.etag)) {
      start = Number(range[1]);
      if (start >= file.body.length) return this.end(res, record, 416);
      statusCode = 206;
    }
    const headers: http.OutgoingHttpHeaders = { 'content-length': file.body.length - start, etag: file.etag };
    if (!behaviour.ignoreRange) headers['accept-ranges'] = 'bytes';
    if (statusCode === 206) headers['content-range'] = `bytes ${start}-${file.body.length - 1}/${file.body.length}`;
    res.writeHead(statusCode, headers);
    record.status = statusCode;
    const cutAfter = behaviour.cutOnceAfterBytes;
    if (cutAfter !== undefined) this.behaviour = { ...behaviour, cutOnceAfterBytes: undefined };
    const chunk = behaviour.chunkBytes ?? 64 * 1024;
    let at = start;
    const pump = () => {
      while (at < file.body.length) {
        const limit = cutAfter !== undefined ? start + cutAfter : behaviour.stallAfterBytes !== undefined ? start + behaviour.stallAfterBytes : Infinity;
        if (at >= limit) {
          // Written bytes reach the client first, then the connection drops without an end.
          if (cutAfter !== undefined) setTimeout(() => req.socket.destroy(), 50);
          return; // a stall: the client aborts
        }
        const end = Math.min(file.body.length, at + chunk, limit);
        const piece = file.body.subarray(at, end);
        record.sentBytes += piece.length;
        at = end;
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  }

  private end(res: http.ServerResponse, record: RequestRecord, status: number): void {
    record.status = status;
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(`HTTP ${status}`);
  }
}

/** `bytes` of deterministic pseudo-random data (not compressible, so no transport shortcut hides a bug). */
export function randomBody(bytes: number, seed = 1): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
