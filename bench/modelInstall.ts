// The model manager's install of the catalog's SmolLM2-135M Q4_1 from a loopback fake hub, as the
// extension runs it (the importer in dist/importWorker.js's thread): the connection is cut once at
// half the file, the install is started again and resumes. Measures the bytes fetched twice (issue
// 16 target: ≤ 1 MiB), the installing process's peak memory against the imported model's size
// (target: ≤ 2×), and the download and import times. The installer runs in a child process, so the
// server's copy of the file is not counted.
// `npm run -s bench:model-install -- [--json]`
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { shippedCatalog } from '../src/models/catalog';
import { workerImporter } from '../src/models/importWorker';
import { ModelInstaller } from '../src/models/install';
import { resolveCatalogEntry } from '../src/models/resolve';
import { ModelStore } from '../src/models/store';
import { FileServer } from '../test/helpers/fileServer';
import { publishRepo } from '../test/helpers/fakeHub';
import { SMOLLM2_GGUF } from '../test/helpers/smollm2';

const root = path.resolve(__dirname, '..');
const entry = shippedCatalog().find((e) => e.id === 'smollm2-135m-instruct-q4_1')!;
const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, child: { type: 'string' }, storage: { type: 'string' } } });

/** Peak resident memory of this process so far (Linux VmHWM), in bytes. */
function peakRssBytes(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
}

async function child(hubUrl: string, storage: string): Promise<void> {
  const files = await resolveCatalogEntry(entry, hubUrl);
  const installer = new ModelInstaller({ store: new ModelStore(storage), importer: workerImporter(path.join(root, 'dist/importWorker.js')) });
  const times: Record<string, number> = {};
  let stage = '';
  let since = performance.now();
  const t0 = performance.now();
  try {
    const model = await installer.install({
      id: entry.id, files, importedBytes: entry.importedBytes,
      onProgress: (p) => {
        if (p.stage === stage) return;
        if (stage) times[`${stage}S`] = (performance.now() - since) / 1000;
        stage = p.stage;
        since = performance.now();
      },
    });
    times[`${stage}S`] = (performance.now() - since) / 1000;
    process.stdout.write(JSON.stringify({ ok: true, bytesOnDisk: model.bytesOnDisk, totalS: (performance.now() - t0) / 1000, ...times, peakRssBytes: peakRssBytes() }));
  } catch (e) {
    process.stdout.write(JSON.stringify({ ok: false, error: (e as Error).name, peakRssBytes: peakRssBytes() }));
  }
}

async function main(): Promise<void> {
  if (!fs.existsSync(SMOLLM2_GGUF)) throw new Error(`${SMOLLM2_GGUF} is missing: node scripts/fetch-smollm2.mjs`);
  if (!fs.existsSync(path.join(root, 'dist/importWorker.js'))) throw new Error('dist/importWorker.js is missing: npm run -s build');
  const hub = await FileServer.start();
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-bench-install-'));
  try {
    const body = fs.readFileSync(SMOLLM2_GGUF);
    publishRepo(hub, entry.repo, [{ path: entry.files[0].path, body }], entry.revision);
    const run = () => new Promise<Record<string, unknown>>((resolve) => {
      // Async: the server lives in this process and must keep answering.
      const out: Buffer[] = [];
      const p = spawn(process.execPath, ['--import', 'tsx', __filename, '--child', hub.origin, '--storage', storage], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      p.stdout.on('data', (b: Buffer) => out.push(b));
      p.on('close', () => resolve(JSON.parse(Buffer.concat(out).toString() || '{}') as Record<string, unknown>));
    });
    hub.behaviour = { cutOnceAfterBytes: Math.floor(body.length / 2) };
    const cut = await run();
    const resumed = await run();
    const sentBytes = hub.requests.filter((r) => r.path.startsWith('/files/')).reduce((s, r) => s + r.sentBytes, 0);
    const result = {
      model: entry.id, sourceBytes: body.length, load: os.loadavg().map((x) => +x.toFixed(2)),
      firstRun: cut, resumedRun: resumed,
      refetchedBytes: sentBytes - body.length,
      peakRssOverImported: resumed.ok ? +((resumed.peakRssBytes as number) / (resumed.bytesOnDisk as number)).toFixed(2) : undefined,
      method: 'one install cut at half the file (connection destroyed), then a second install process that resumes; peakRss = the installing process VmHWM (node + import worker thread), server in another process',
    };
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else console.log(`refetched ${result.refetchedBytes} bytes after the cut; peak RSS ${((resumed.peakRssBytes as number) / 2 ** 20).toFixed(0)} MiB = ${result.peakRssOverImported}× the imported model; download ${(resumed.downloadS as number)?.toFixed(1)} s, import ${(resumed.importS as number)?.toFixed(1)} s (load ${result.load.join(', ')})`);
  } finally {
    await hub.close();
    fs.rmSync(storage, { recursive: true, force: true });
  }
}

if (values.child) void child(values.child, values.storage!);
else void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
