// The whole install against a loopback fake of the hub: listing → download (through the hub's
// redirect) → verify → import → models/<id>; and what must leave nothing visible: a wrong checksum,
// too little disk, cancel during the import. Concurrent requests: one download, in one process or
// across two windows (a lock file held by another live process).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { importCheckpoint } from '../../src/engine/import/importModel';
import { openModelDir } from '../../src/engine/modelDir';
import type { CatalogEntry } from '../../src/models/catalog';
import { ModelInstaller, type Importer, type InstallProgress } from '../../src/models/install';
import { checkpointsOf, fileUrl, listRepoFiles, resolveFromListing } from '../../src/models/hub';
import { resolveCatalogEntry } from '../../src/models/resolve';
import { ModelStore } from '../../src/models/store';
import { FileServer } from '../helpers/fileServer';
import { publishRepo } from '../helpers/fakeHub';
import { tinyModel, writeGguf } from '../helpers/ggufWriter';
import { tempDir } from '../helpers/importFixtures';

const inProcess: Importer = (input, outDir, signal, onProgress) => importCheckpoint({ input, outDir, signal, onProgress });

const entry = (over: Partial<CatalogEntry> = {}): CatalogEntry => ({
  id: 'tiny-llama', displayName: 'Tiny', repo: 'test/tiny-GGUF', revision: 'main', files: [{ path: 'tiny-q8_0.gguf' }],
  licence: { name: 'MIT', url: 'https://example.invalid' }, parameters: '20K', fim: false, recommendedMemoryMB: 64, verified: false, notes: 'test', ...over,
});

describe('model install (loopback hub)', () => {
  let server: FileServer;
  let store: ModelStore;
  let gguf: Buffer;
  const logs: string[] = [];

  beforeEach(async () => {
    server = await FileServer.start();
    store = new ModelStore(tempDir());
    const m = tinyModel('llama');
    gguf = writeGguf(m.meta, m.tensors);
    publishRepo(server, 'test/tiny-GGUF', [{ path: 'tiny-q8_0.gguf', body: gguf }]);
    logs.length = 0;
  });
  afterEach(() => server.close());

  const installer = (importer = inProcess, over: Partial<ConstructorParameters<typeof ModelInstaller>[0]> = {}) =>
    new ModelInstaller({ store, importer, log: (m) => logs.push(m), lockPollMs: 50, ...over });
  const visible = () => fs.existsSync(store.modelsDir) ? fs.readdirSync(store.modelsDir) : [];

  it('lists, downloads through the redirect, verifies, imports, and the result loads; the checkpoint is then deleted', async () => {
    const files = await resolveCatalogEntry(entry(), server.origin, { log: (m) => logs.push(m) });
    assert.equal(files[0].bytes, gguf.length);
    const stages = new Set<string>();
    const model = await installer().install({ id: 'tiny-llama', files, onProgress: (p) => stages.add(p.stage) });
    assert.deepEqual([...stages].sort(), ['download', 'import']);
    assert.equal(model.dir, store.modelDir('tiny-llama'));
    assert.equal(model.fim, false);
    assert.match(model.quantization, /^q8_32 \(from /);
    await openModelDir(model.dir); // sizes and sha256s of the imported files hold
    assert.deepEqual(visible(), ['tiny-llama']);
    assert.deepEqual(fs.readdirSync(store.downloadsDir), []);
    assert.ok(logs.some((l) => l.includes('/api/models/test/tiny-GGUF/tree/main')), 'the listing fetch is logged');
    assert.ok(logs.some((l) => l.startsWith('redirected:') && l.includes('/resolve/main/tiny-q8_0.gguf')), logs.join('\n'));
    assert.deepEqual((await store.list()).models.map((m) => m.id), [model.id]);
    // Installed: asking again fetches nothing.
    const before = server.requests.length;
    await installer().install({ id: 'tiny-llama', files });
    assert.equal(server.requests.length, before);
  });

  it('a listing whose sha256 does not match the bytes: checksum error, nothing installed, nothing kept', async () => {
    publishRepo(server, 'test/lying-GGUF', [{ path: 'tiny-q8_0.gguf', body: gguf, listedSha256: 'e'.repeat(64) }]);
    const files = await resolveCatalogEntry(entry({ repo: 'test/lying-GGUF' }), server.origin);
    await assert.rejects(installer().install({ id: 'tiny-llama', files }), (e: Error) => e.name === 'DownloadChecksumError');
    assert.deepEqual(visible(), []);
    assert.deepEqual(fs.readdirSync(path.join(store.downloadsDir, 'tiny-llama')), []);
  });

  it('too little disk for download + import: refused before the file is requested', async () => {
    const files = await resolveCatalogEntry(entry(), server.origin);
    const requests = server.requests.length;
    await assert.rejects(installer(inProcess, { freeBytes: async () => gguf.length }).install({ id: 'tiny-llama', files }),
      (e: Error) => e.name === 'InsufficientDiskSpaceError' && /the download and the imported model/.test(e.message));
    assert.equal(server.requests.length, requests);
  });

  it('cancel during the import: an AbortError and no model directory, not even a temporary one; a retry does not download again', async () => {
    const files = await resolveCatalogEntry(entry(), server.origin);
    const abort = new AbortController();
    const cancelling: Importer = (input, outDir, signal, onProgress) => inProcess(input, outDir, signal, (p) => { onProgress(p); abort.abort(); });
    await assert.rejects(installer(cancelling).install({ id: 'tiny-llama', files, signal: abort.signal }), (e: Error) => e.name === 'AbortError');
    assert.deepEqual(visible(), []);
    const fileRequests = () => server.requests.filter((r) => r.path.startsWith('/files/')).length;
    const fetched = fileRequests();
    await installer().install({ id: 'tiny-llama', files });
    assert.equal(fileRequests(), fetched, 'the verified checkpoint was kept for the retry');
    assert.deepEqual(visible(), ['tiny-llama']);
  });

  it('two requests for one model in one window: one download, both get the model', async () => {
    const files = await resolveCatalogEntry(entry(), server.origin);
    const one = installer();
    const [a, b] = await Promise.all([one.install({ id: 'tiny-llama', files }), one.install({ id: 'tiny-llama', files })]);
    assert.equal(a.dir, b.dir);
    assert.equal(server.requests.filter((r) => r.path.startsWith('/files/')).length, 1);
  });

  it('another window (a live process holding the lock) is waited for and its model used; a dead one\'s lock is taken over', async () => {
    const files = await resolveCatalogEntry(entry(), server.origin);
    fs.mkdirSync(store.downloadsDir, { recursive: true });
    const lock = path.join(store.downloadsDir, 'tiny-llama.lock');
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const fileRequests = () => server.requests.filter((r) => r.path.startsWith('/files/')).length;
    try {
      fs.writeFileSync(lock, JSON.stringify({ pid: other.pid }));
      const seen: InstallProgress[] = [];
      const done = installer().install({ id: 'tiny-llama', files, onProgress: (p) => seen.push(p) });
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(seen.map((p) => p.stage), ['waiting']);
      assert.ok(logs.some((l) => l.includes(`process ${other.pid}`) && /waiting/.test(l)), logs.join('\n'));
      // The other window finishes: its model appears, then its lock goes.
      const source = path.join(tempDir(), 'tiny.gguf');
      fs.writeFileSync(source, gguf);
      await importCheckpoint({ input: source, outDir: store.modelDir('tiny-llama') });
      fs.rmSync(lock);
      const model = await done;
      assert.equal(model.dir, store.modelDir('tiny-llama'));
      assert.equal(fileRequests(), 0, 'this window downloaded nothing');
    } finally {
      other.kill();
    }
    await new Promise((r) => other.once('exit', r));
    // A lock left by a process that is gone (a closed or crashed window) is taken over at once.
    await store.remove(store.modelDir('tiny-llama'));
    fs.writeFileSync(lock, JSON.stringify({ pid: other.pid }));
    const seen: InstallProgress[] = [];
    const model = await installer().install({ id: 'tiny-llama', files, onProgress: (p) => seen.push(p) });
    assert.equal(model.dir, store.modelDir('tiny-llama'));
    assert.ok(!seen.some((p) => p.stage === 'waiting'));
    assert.equal(fs.existsSync(lock), false);
    assert.equal(fileRequests(), 1);
  });

  it('a repo id: its GGUF files and safetensors checkpoint listed; the small git files verified by their blob id', async () => {
    const config = Buffer.from('{"model_type":"llama"}\n');
    const tokenizer = Buffer.from('{"model":{"type":"BPE"}}\n');
    const weights = Buffer.alloc(4096, 7);
    publishRepo(server, 'someone/model', [
      { path: 'README.md', body: Buffer.from('# model\n'), lfs: false },
      { path: 'config.json', body: config, lfs: false },
      { path: 'tokenizer.json', body: tokenizer, lfs: false },
      { path: 'model.safetensors', body: weights },
      { path: 'gguf/model-q8_0.gguf', body: gguf },
    ]);
    const listing = await listRepoFiles(server.origin, 'someone/model', 'main');
    const offers = checkpointsOf(listing);
    assert.deepEqual(offers.map((o) => [o.kind, o.label, o.bytes]), [
      ['gguf', 'gguf/model-q8_0.gguf', gguf.length],
      ['safetensors', 'safetensors (1 weight file)', config.length + tokenizer.length + weights.length],
    ]);
    const files = resolveFromListing('someone/model', listing, offers[1].files.map((f) => ({ path: f.path })), (p) => fileUrl(server.origin, 'someone/model', 'main', p));
    assert.deepEqual(files.map((f) => [f.path, f.sha256 === undefined, f.gitBlobSha1 === undefined]), [['config.json', true, false], ['tokenizer.json', true, false], ['model.safetensors', false, true]]);
    let inputDir = '';
    const checking: Importer = async (input, outDir) => {
      inputDir = input;
      assert.deepEqual(fs.readdirSync(input).sort(), ['config.json', 'model.safetensors', 'tokenizer.json']);
      assert.deepEqual(fs.readFileSync(path.join(input, 'config.json')), config);
      const source = path.join(tempDir(), 'tiny.gguf');
      fs.writeFileSync(source, gguf);
      return importCheckpoint({ input: source, outDir });
    };
    await installer(checking).install({ id: 'someone--model', files });
    assert.equal(inputDir, path.join(store.downloadsDir, 'someone--model'));
  });

  it('a listing the hub pages (Link: rel="next") is read to its end', async () => {
    const entry = (p: string) => ({ type: 'file', path: p, size: 135, oid: '0'.repeat(40), lfs: { oid: 'a'.repeat(64), size: 10 } });
    server.routes.set('/api/models/paged/repo/tree/main', (req, res) => {
      const cursor = new URL(req.url!, server.origin).searchParams.get('cursor');
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (cursor === null) headers.link = '</api/models/paged/repo/tree/main?recursive=true&cursor=p2>; rel="next"';
      res.writeHead(200, headers).end(JSON.stringify(cursor === null ? [entry('a.gguf')] : [entry('b.gguf')]));
    });
    assert.deepEqual((await listRepoFiles(server.origin, 'paged/repo', 'main')).map((f) => f.path), ['a.gguf', 'b.gguf']);
  });

  it('a listing naming a file outside the download folder, or a repo the hub does not have: named errors', async () => {
    server.routes.set('/api/models/evil/repo/tree/main', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify([{ type: 'file', path: '../../escape.gguf', size: 3, oid: 'a'.repeat(40), lfs: { oid: 'b'.repeat(64), size: 3 } }])));
    await assert.rejects(listRepoFiles(server.origin, 'evil/repo', 'main'), (e: Error) => e.name === 'HubListingError' && /not a plain relative path/.test(e.message));
    await assert.rejects(listRepoFiles(server.origin, 'nobody/nothing', 'main'), (e: Error) => e.name === 'DownloadHttpError' && /HTTP 404/.test(e.message));
    await assert.rejects(installer().install({ id: 'evil', files: [{ path: '../x.gguf', url: `${server.origin}/x`, bytes: 1, sha256: 'a'.repeat(64) }] }), /not a plain relative file path/);
  });

  it('leftovers of an interrupted import or removal (a process that is gone) are cleaned; a live one\'s are not', async () => {
    fs.mkdirSync(path.join(store.modelsDir, '.tiny.importing-999999-abcd'), { recursive: true });
    fs.mkdirSync(path.join(store.modelsDir, `.tiny.importing-${process.pid}-abcd`), { recursive: true });
    fs.mkdirSync(path.join(store.modelsDir, '.removing-old-999999-1700000000000'), { recursive: true });
    const removed = await store.removeLeftovers((pid) => pid === process.pid);
    assert.deepEqual(removed.sort(), ['.removing-old-999999-1700000000000', '.tiny.importing-999999-abcd']);
    assert.deepEqual(visible(), [`.tiny.importing-${process.pid}-abcd`]);
    assert.deepEqual((await store.list()).models, []);
  });

  it('a cancelled download is listed as partial with its size, and removed unless another window is downloading it', async () => {
    const files = await resolveCatalogEntry(entry(), server.origin);
    server.behaviour = { stallAfterBytes: 1000, chunkBytes: 500 };
    const abort = new AbortController();
    const done = installer().install({ id: 'tiny-llama', files, signal: abort.signal, onProgress: (p) => { if (p.stage === 'download' && p.progress.receivedBytes >= 1000) abort.abort(); } });
    const part = path.join(store.downloadsDir, 'tiny-llama', 'tiny-q8_0.gguf.part');
    while ((fs.statSync(part, { throwIfNoEntry: false })?.size ?? 0) < 1000) await new Promise((r) => setTimeout(r, 20));
    abort.abort();
    await assert.rejects(done, (e: Error) => e.name === 'AbortError');
    const partial = await store.listPartial();
    assert.deepEqual(partial.map((p) => p.id), ['tiny-llama']);
    assert.ok(partial[0].bytes >= 1000);
    fs.writeFileSync(path.join(store.downloadsDir, 'tiny-llama.lock'), JSON.stringify({ pid: 4242 }));
    await assert.rejects(store.removePartial('tiny-llama', (pid) => pid === 4242), /another VS Code window \(process 4242\)/);
    fs.rmSync(path.join(store.downloadsDir, 'tiny-llama.lock'));
    await store.removePartial('tiny-llama');
    assert.deepEqual(await store.listPartial(), []);
  });

  it('remove refuses a directory outside the store (a model path set by hand)', async () => {
    await assert.rejects(store.remove(tempDir()), /not a model Flashcode installed/);
    await assert.rejects(store.remove(store.modelsDir), /not a model Flashcode installed/);
  });
});
