// Installs node-llama-cpp (llama.cpp's prebuilt CPU binaries for Node), the peer that the
// agreement tests and `npm run bench:peers` compare Flashcode with, into .cache/node-llama-cpp/. Not a
// devDependency: its optional packages for other platforms are not all on every registry, which
// makes `npm ci` refuse the lock file, while a plain install here skips them. .ci/run calls it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const LLAMA_CPP_VERSION = '3.22.1';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const prefix = path.join(root, '.cache/node-llama-cpp');
const installed = path.join(prefix, 'node_modules/node-llama-cpp/package.json');

if (fs.existsSync(installed) && JSON.parse(fs.readFileSync(installed, 'utf8')).version === LLAMA_CPP_VERSION) {
  console.log(`node-llama-cpp ${LLAMA_CPP_VERSION} is in ${path.relative(root, prefix)}`);
} else {
  fs.mkdirSync(prefix, { recursive: true });
  fs.writeFileSync(path.join(prefix, 'package.json'), JSON.stringify({ private: true, description: 'peers for tests and benchmarks (scripts/install-llamacpp.mjs)' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--omit=optional', `node-llama-cpp@${LLAMA_CPP_VERSION}`, `@node-llama-cpp/linux-x64@${LLAMA_CPP_VERSION}`], { cwd: prefix, stdio: 'inherit' });
}
