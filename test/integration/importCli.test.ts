// `node dist/cli.js import`, as a user runs it after `npm run build`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { distDir, repoRoot } from '../helpers/fixture';
import { tempDir } from '../helpers/importFixtures';

const cli = path.join(distDir, 'cli.js');
const tinyQwen2 = path.join(repoRoot, 'test/fixtures/import/tiny-qwen2');

function run(...args: string[]) {
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing — run npm run build first (npm test does).`);
  const child = spawnSync(process.execPath, [cli, 'import', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe('cli: import', () => {
  it('imports a checkpoint directory, with progress on stderr and a JSON summary', () => {
    const out = path.join(tempDir(), 'model');
    const r = run(tinyQwen2, '--out', out, '--json');
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.outDir, out);
    assert.equal(summary.source.kind, 'safetensors');
    assert.equal(summary.architecture.attentionBias, true);
    assert.equal(summary.fim, true);
    assert.equal(summary.chatFormat, 'chatml');
    assert.equal(summary.quantization, 'q8_32', 'F16 weights: 8-bit unless --bits 4');
    assert.ok(summary.seconds > 0 && summary.outputBytes > 0);
    assert.match(r.stderr, /import: 100%/);
    assert.deepEqual(fs.readdirSync(out).sort(), ['ffn.bin', 'manifest.json', 'tokenizer.json', 'tokenizer_config.json', 'weights.bin']);
    const four = run(tinyQwen2, '--out', path.join(tempDir(), 'four'), '--bits', '4');
    assert.equal(four.code, 0, four.stderr);
    assert.match(four.stdout, /^Imported .* \(q4_32\): /);
  });

  it('exit 2 on bad arguments, exit 1 with a named error on a bad checkpoint, nothing written', () => {
    const dir = tempDir();
    assert.equal(run(tinyQwen2).code, 2);
    const bits = run(tinyQwen2, '--out', path.join(dir, 'm'), '--bits', '3');
    assert.equal(bits.code, 2);
    assert.match(bits.stderr, /--bits must be 8 or 4, got "3"/);
    const missing = run(path.join(dir, 'nothing.gguf'), '--out', path.join(dir, 'm'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /CheckpointIncompleteError: .*nothing\.gguf: no such file or directory/);
    fs.writeFileSync(path.join(dir, 'bad.gguf'), 'GGUF\x03\x00\x00\x00');
    const bad = run(path.join(dir, 'bad.gguf'), '--out', path.join(dir, 'm'));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /CheckpointCorruptError: bad\.gguf is corrupt \(truncated/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace for a named error');
    assert.deepEqual(fs.readdirSync(dir), ['bad.gguf']);
  });
});
