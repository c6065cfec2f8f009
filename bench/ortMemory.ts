// What ONNX Runtime's sessions cost in resident memory, graph by graph: RSS after creating each
// session of a model directory (kept alive, in manifest order), minus RSS with ONNX Runtime
// initialised alone, beside the graph's file size. The flash engine's memory budget counts graphs at
// their file size; this shows how far RSS is from that.
// `npm run -s bench:ort-memory -- [--model DIR] [--threads 1]` (prints JSON)
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadGraph, type Graph } from '../src/engine/backend/ort';
import { requireV1 } from '../src/engine/manifest';
import { openModelDir } from '../src/engine/modelDir';

const root = path.resolve(__dirname, '..');
const { values } = parseArgs({
  options: { model: { type: 'string', default: path.join(root, 'models/flashcode-code-v1') }, threads: { type: 'string', default: '1' } },
});

async function main() {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npm run bench:ort-memory does)');
  const threads = Number(values.threads);
  await loadGraph(fs.readFileSync(path.join(root, 'test/fixtures/tiny-model/head.onnx')), threads); // ORT's wasm module, initialised
  gc();
  const base = process.memoryUsage().rss;
  const dir = await openModelDir(path.resolve(values.model!));
  const { graphs } = requireV1(dir.manifest, 'bench:ort-memory');
  const kept: Graph[] = [];
  const perGraph = [];
  let previous = base;
  for (const name of [graphs.embed, ...graphs.attention, graphs.ffn, graphs.head]) {
    const bytes = fs.readFileSync(dir.file(name));
    kept.push(await loadGraph(bytes, threads));
    gc();
    const rss = process.memoryUsage().rss;
    perGraph.push({ graph: name, fileBytes: bytes.length, rssAddedBytes: rss - previous });
    previous = rss;
  }
  const fileBytes = perGraph.reduce((n, g) => n + g.fileBytes, 0);
  console.log(JSON.stringify({
    model: dir.manifest.id, threads, perGraph,
    total: { fileBytes, rssAddedBytes: previous - base, rssOverFileBytes: +((previous - base) / fileBytes).toFixed(2) },
  }));
  await Promise.all(kept.map((g) => g.release()));
}

main().catch((e) => { console.error(e); process.exit(1); });
