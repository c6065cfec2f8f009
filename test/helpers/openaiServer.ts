// A real OpenAI-compatible endpoint on loopback for tests (mocha and e2e): POST /v1/chat/completions
// with `stream: true` answers in server-sent events. Each request takes the next scripted reply
// (then `defaultReply`) and is recorded, headers and JSON body, so a test can check what was sent.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Reply =
  /** `chunks` are the content deltas, sent `delayMs` apart; with `stallAfterChunks` the stream
   *  then goes silent with the connection open. */
  | { kind: 'stream'; chunks: string[]; delayMs?: number; stallAfterChunks?: number; model?: string }
  /** An error status with OpenAI's error body; `headers` e.g. { 'retry-after-ms': '10' }. */
  | { kind: 'status'; status: number; message?: string; headers?: Record<string, string> }
  /** 200 and an event stream whose event is not JSON. */
  | { kind: 'malformed' }
  /** Anything else, verbatim (a captive portal's HTML page, say). */
  | { kind: 'raw'; status: number; headers: Record<string, string>; body: string }
  /** Reads the request and never answers. */
  | { kind: 'hang' }
  /** `chunk` every `delayMs`, never ending (until the client hangs up or the server closes). */
  | { kind: 'forever'; chunk: string; delayMs: number }
  /** `totalBytes` of content as fast as the socket takes it, in deltas of `chunkBytes`. */
  | { kind: 'flood'; totalBytes: number; chunkBytes: number }
  /** An HTTP redirect (e.g. 307) to `location`, which may be another origin. */
  | { kind: 'redirect'; status: number; location: string }
  /** `chunks`, then the socket is destroyed mid-stream (a TCP reset as the client sees it). */
  | { kind: 'reset'; chunks: string[] };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (undefined if it was not JSON). */
  body: ChatBody | undefined;
  /** How the exchange ended: the server sent everything, or the client hung up first. */
  ended: Promise<'finished' | 'client-closed'>;
}

export interface ChatBody {
  model: string;
  messages: { role: string; content: string }[];
  stream?: boolean;
  max_tokens?: number;
  max_completion_tokens?: number;
  [key: string]: unknown;
}

/** `text` in `n` pieces of about equal length (the last may be shorter). */
export function answer(text: string, n = 3, delayMs = 0): Reply {
  const size = Math.max(1, Math.ceil(text.length / n));
  const chunks = Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));
  return { kind: 'stream', chunks, delayMs };
}

export function status(code: number, headers: Record<string, string> = {}, message = `scripted ${code}`): Reply {
  return { kind: 'status', status: code, headers, message };
}

export class OpenAiTestServer {
  readonly requests: RecordedRequest[] = [];
  /** Answers a request when the script is used up. */
  defaultReply: Reply = answer('Hello from the loopback cloud.');
  private queue: Reply[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private port = 0;

  private constructor(private readonly server: http.Server) {}

  /** Listens on 127.0.0.1, on `port` or a free one. */
  static async start(port = 0): Promise<OpenAiTestServer> {
    const server = http.createServer();
    const self = new OpenAiTestServer(server);
    server.on('request', (req, res) => self.handle(req, res));
    server.on('connection', (socket) => {
      self.sockets.add(socket);
      socket.on('close', () => self.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    self.port = (server.address() as AddressInfo).port;
    return self;
  }

  /** The value for flashcode.cloud.baseUrl (the OpenAI client appends /chat/completions); kept
   *  after close(), for tests of an endpoint that went away. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** Replies for the next requests, in order; replaces what was left of an earlier script. */
  script(...replies: Reply[]): void {
    this.queue = [...replies];
  }

  /** Stops listening and destroys open connections (a stalled stream included). */
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let raw = '';
    for await (const part of req) raw += part;
    const ended = new Promise<'finished' | 'client-closed'>((resolve) => {
      res.on('close', () => resolve(res.writableFinished ? 'finished' : 'client-closed'));
    });
    this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: parseJson(raw), ended });
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      return sendError(res, 404, `no route ${req.method} ${req.url}`);
    }
    const reply = this.queue.shift() ?? this.defaultReply;
    switch (reply.kind) {
      case 'status': return sendError(res, reply.status, reply.message ?? `scripted ${reply.status}`, reply.headers);
      case 'hang': return;
      case 'raw':
        res.writeHead(reply.status, reply.headers);
        res.end(reply.body);
        return;
      case 'malformed':
        res.writeHead(200, SSE_HEADERS);
        res.end('data: {"id": "chatcmpl-1", "choices": [ this is not JSON\n\n');
        return;
      case 'stream': return this.stream(res, reply, parseJson(raw)?.model ?? 'unknown');
      case 'redirect':
        res.writeHead(reply.status, { location: reply.location });
        res.end();
        return;
      case 'forever': return this.forever(res, reply);
      case 'flood': return this.flood(res, reply);
      case 'reset':
        res.writeHead(200, SSE_HEADERS);
        for (const content of reply.chunks) res.write(event({ content }));
        await this.sleep(20);
        res.socket?.resetAndDestroy();
        return;
    }
  }

  /** Bytes of content sent by `flood` replies so far (what a client that stops reading saves). */
  floodedBytes = 0;

  private async forever(res: http.ServerResponse, reply: Extract<Reply, { kind: 'forever' }>): Promise<void> {
    res.writeHead(200, SSE_HEADERS);
    while (!res.destroyed && this.server.listening) {
      res.write(event({ content: reply.chunk }));
      await this.sleep(reply.delayMs);
    }
  }

  private async flood(res: http.ServerResponse, reply: Extract<Reply, { kind: 'flood' }>): Promise<void> {
    res.writeHead(200, SSE_HEADERS);
    const data = event({ content: 'x'.repeat(reply.chunkBytes) });
    for (let sent = 0; sent < reply.totalBytes && !res.destroyed; sent += reply.chunkBytes) {
      this.floodedBytes += reply.chunkBytes;
      if (!res.write(data)) await drainedOrClosed(res);
    }
    if (!res.destroyed) res.end('data: [DONE]\n\n');
  }

  private async stream(res: http.ServerResponse, reply: Extract<Reply, { kind: 'stream' }>, requestedModel: string): Promise<void> {
    const model = reply.model ?? requestedModel;
    res.writeHead(200, SSE_HEADERS);
    res.write(event({ role: 'assistant', content: '' }, null, model));
    for (const [i, content] of reply.chunks.entries()) {
      if (i > 0 && reply.delayMs) await this.sleep(reply.delayMs);
      if (res.destroyed) return;
      res.write(event({ content }, null, model));
      if (reply.stallAfterChunks !== undefined && i + 1 >= reply.stallAfterChunks) return;
    }
    res.write(event({}, 'stop', model));
    res.end('data: [DONE]\n\n');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.timers.delete(t); resolve(); }, ms);
      this.timers.add(t);
    });
  }
}

function drainedOrClosed(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
    res.on('drain', done);
    res.on('close', done);
  });
}

function event(delta: Record<string, string>, finish: string | null = null, model = 'test-model'): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
}

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

function sendError(res: http.ServerResponse, code: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error: { message, type: 'test_error', code: null } }));
}

function parseJson(raw: string): ChatBody | undefined {
  try {
    return JSON.parse(raw) as ChatBody;
  } catch {
    return undefined;
  }
}
