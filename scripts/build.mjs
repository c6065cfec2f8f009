// Bundles the extension, the inference worker and the CLI into dist/, and copies what they load at
// run time (ONNX Runtime's wasm, tree-sitter's runtime and grammars, the default model) next to them. `node scripts/build.mjs [--watch]`.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(root, 'dist');

// The bundled model: trained by models/pipeline (see its MODEL_CARD.md).
export const DEFAULT_MODEL_DIR = 'models/flashcode-code-v1';

const ORT_FILES = ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];
// Exactly the grammars src/context/languages.ts names (a unit test holds the two lists together).
// Not all of @vscode/tree-sitter-wasm: C# alone is 5 MB.
const GRAMMAR_FILES = [
  'tree-sitter-cpp.wasm', 'tree-sitter-go.wasm', 'tree-sitter-java.wasm', 'tree-sitter-javascript.wasm',
  'tree-sitter-python.wasm', 'tree-sitter-ruby.wasm', 'tree-sitter-rust.wasm', 'tree-sitter-tsx.wasm',
  'tree-sitter-typescript.wasm',
];

function copyRuntimeFiles() {
  fs.mkdirSync(path.join(dist, 'ort'), { recursive: true });
  for (const f of ORT_FILES) {
    fs.copyFileSync(path.join(root, 'node_modules/onnxruntime-web/dist', f), path.join(dist, 'ort', f));
  }
  const syntaxes = path.join(dist, 'syntaxes');
  fs.rmSync(syntaxes, { recursive: true, force: true });
  fs.mkdirSync(syntaxes, { recursive: true });
  fs.copyFileSync(path.join(root, 'node_modules/web-tree-sitter/web-tree-sitter.wasm'), path.join(syntaxes, 'web-tree-sitter.wasm'));
  for (const f of GRAMMAR_FILES) {
    fs.copyFileSync(path.join(root, 'node_modules/@vscode/tree-sitter-wasm/wasm', f), path.join(syntaxes, f));
  }
  copyModelDir(path.join(root, DEFAULT_MODEL_DIR), path.join(dist, 'models', 'default'));
}

/** manifest.json and the files it lists — not the model card or loss plot beside them. */
function copyModelDir(from, to) {
  fs.rmSync(to, { recursive: true, force: true });
  fs.mkdirSync(to, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(from, 'manifest.json'), 'utf8'));
  for (const name of ['manifest.json', ...Object.keys(manifest.files)]) {
    fs.copyFileSync(path.join(from, name), path.join(to, name));
  }
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // webgpu: Dawn's native addon, found beside its package at run time (optional: absent, WASM runs).
  external: ['vscode', 'webgpu'],
  // ESM dependencies (onnxruntime-web's Node build) read import.meta.url, which a CJS bundle lacks.
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: "const __importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

const entries = [
  { entryPoints: [path.join(root, 'src/extension.ts')], outfile: path.join(dist, 'extension.js') },
  { entryPoints: [path.join(root, 'src/engine/worker/main.ts')], outfile: path.join(dist, 'engineWorker.js') },
  { entryPoints: [path.join(root, 'src/cli.ts')], outfile: path.join(dist, 'cli.js') },
  { entryPoints: [path.join(root, 'src/models/importWorkerMain.ts')], outfile: path.join(dist, 'importWorker.js') },
];

fs.mkdirSync(dist, { recursive: true });
copyRuntimeFiles();
if (process.argv.includes('--watch')) {
  for (const e of entries) await (await esbuild.context({ ...common, ...e })).watch();
} else {
  await Promise.all(entries.map((e) => esbuild.build({ ...common, ...e })));
}
