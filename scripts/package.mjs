// `npm run package [-- --target PLATFORM-ARCH]`: dist/flashcode.vsix from the build in dist/.
// Without --target: one .vsix for every platform, WebAssembly only (the WebGPU backend finds no
// `webgpu` package and says so). With --target (linux-x64, linux-arm64, darwin-x64, darwin-arm64,
// win32-x64, win32-arm64: vsce's names): the .vsix for that platform carries Dawn (npm `webgpu`) in
// dist/node_modules/webgpu with only that platform's native binary, where the bundled engine worker's
// `import('webgpu')` finds it. Run `npm run build` first (`npm run package` does).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** vsce's target → the folder of node_modules/webgpu/dist holding that platform's dawn.node. */
export const DAWN_DIRS = {
  'linux-x64': 'linux-x64', 'linux-arm64': 'linux-arm64', 'darwin-x64': 'darwin-universal',
  'darwin-arm64': 'darwin-universal', 'win32-x64': 'win32-x64', 'win32-arm64': 'win32-arm64',
};

/** Puts `webgpu` (its entry, package.json, licence and `target`'s binaries only) in dist/node_modules;
 *  without a target removes it. Returns the files copied, relative to `dist`. */
export function stageWebgpu(target, dist = path.join(root, 'dist'), from = path.join(root, 'node_modules/webgpu')) {
  const to = path.join(dist, 'node_modules/webgpu');
  fs.rmSync(path.join(dist, 'node_modules'), { recursive: true, force: true });
  if (target === undefined) return [];
  const dir = DAWN_DIRS[target];
  if (dir === undefined) throw new Error(`--target ${target}: the WebGPU backend has builds for ${Object.keys(DAWN_DIRS).join(', ')}`);
  if (!fs.existsSync(path.join(from, 'dist', dir, 'dawn.node'))) throw new Error(`${path.join(from, 'dist', dir, 'dawn.node')} is missing: run npm ci`);
  const files = ['package.json', 'index.js', 'LICENSE.md', ...fs.readdirSync(path.join(from, 'dist', dir)).map((f) => path.join('dist', dir, f))];
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(to, f)), { recursive: true });
    fs.copyFileSync(path.join(from, f), path.join(to, f));
  }
  return files.map((f) => path.join('node_modules/webgpu', f));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { target: { type: 'string' } } });
  stageWebgpu(values.target);
  const vsce = path.join(root, 'node_modules/.bin/vsce');
  const out = path.join(root, 'dist', values.target ? `flashcode-${values.target}.vsix` : 'flashcode.vsix');
  execFileSync(vsce, ['package', '--no-dependencies', '--no-rewrite-relative-links', ...(values.target ? ['--target', values.target] : []), '-o', out], { cwd: root, stdio: 'inherit' });
}
