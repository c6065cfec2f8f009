// `npm run test:fast [-- WORD…]`: the edit–test loop. Unit tests only (no build, no integration, no
// VS Code), dots for output; with words, only the unit test files whose path contains one of them:
// `npm run test:fast -- completion/ prompt` runs test/unit/completion/* and every *prompt*.test.ts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const unitDir = path.join(root, 'test', 'unit');
const words = process.argv.slice(2);

const all = fs.readdirSync(unitDir, { recursive: true })
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => path.join('test', 'unit', f))
  .sort();
const files = words.length === 0 ? all : all.filter((f) => words.some((w) => f.includes(w)));
if (files.length === 0) {
  console.error(`test:fast: no unit test file under test/unit/ has ${words.map((w) => JSON.stringify(w)).join(' or ')} in its path`);
  process.exit(2);
}
const r = spawnSync('npx', ['mocha', '--reporter', 'dot', ...files], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
