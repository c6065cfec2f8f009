// `node dist/cli.js complete`, as a user runs it after `npm run build`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { distDir, fixtureModelDir } from '../helpers/fixture';

const cli = path.join(distDir, 'cli.js');

function run(...args: string[]) {
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing — run npm run build first (npm test does).`);
  const child = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe('cli: complete', () => {
  let dir: string;
  let file: string;
  // A cursor where the bundled model has something to say (after `return ` in a one-line body it
  // may answer nothing at all, which would leave "the same every time" untested).
  const source = 'import fs from "node:fs";\n\nexport function readLines(file: string): string[] {\n  return fs.\n}\n';
  const offset = source.indexOf('fs.\n') + 'fs.'.length;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flashcode-cli-'));
    file = path.join(dir, 'add.ts');
    fs.writeFileSync(file, source);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints the completion as JSON with timings and token counts, the same every time', () => {
    // A generous time budget: "the same every time" is about determinism, and a loaded machine must
    // not cut the first run short (the default budget is what the editor uses while typing).
    const first = run('complete', '--file', file, '--offset', String(offset), '--json', '--time-budget-ms', '10000');
    assert.equal(first.code, 0, first.stderr);
    const json = JSON.parse(first.stdout);
    assert.deepEqual(Object.keys(json), ['completion', 'ttfsMs', 'totalMs', 'promptTokens', 'generatedTokens', 'backend', 'backendReason']);
    assert.equal(json.backend, 'WebAssembly SIMD kernels and ONNX Runtime Web'); // the bundled model is format v1
    assert.match(json.backendReason, /format-v1/);
    assert.equal(typeof json.completion, 'string');
    assert.ok(json.completion.length > 0, 'a completion');
    assert.ok(json.ttfsMs > 0 && json.totalMs >= json.ttfsMs);
    assert.ok(json.promptTokens > 0 && json.generatedTokens > 0 && json.generatedTokens <= 32);
    const again = JSON.parse(run('complete', '--file', file, '--offset', String(offset), '--json', '--time-budget-ms', '10000').stdout);
    assert.equal(again.completion, json.completion);
  });

  it('prints the bare completion without --json, honouring --model and --max-tokens', () => {
    const json = JSON.parse(run('complete', '--file', file, '--offset', String(offset), '--json', '--model', fixtureModelDir, '--max-tokens', '4').stdout);
    assert.ok(json.generatedTokens <= 4);
    const plain = run('complete', '--file', file, '--offset', String(offset), '--model', fixtureModelDir, '--max-tokens', '4');
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, json.completion === '' ? '' : `${json.completion}\n`);
  });

  const badArguments: Array<[string, string[], RegExp]> = [
    ['no command', [], /expected the command `complete`/],
    ['a missing --offset', ['complete', '--file', 'FILE'], /--offset is required/],
    ['an offset past the end', ['complete', '--file', 'FILE', '--offset', String(source.length + 1)], /--offset must be an integer from 0 to/],
    ['a negative offset', ['complete', '--file', 'FILE', '--offset', '-1'], /--offset/],
    ['a file that does not exist', ['complete', '--file', '/nonexistent/x.ts', '--offset', '0'], /cannot read --file/],
    ['--file /dev/zero (it grew to 16 GB and aborted)', ['complete', '--file', '/dev/zero', '--offset', '0'], /cannot read --file \/dev\/zero: .*not a regular file/],
    ['an unknown option', ['complete', '--file', 'FILE', '--offset', '0', '--frobnicate'], /Unknown option '--frobnicate'/],
    ['--max-tokens 0', ['complete', '--file', 'FILE', '--offset', '0', '--max-tokens', '0'], /--max-tokens must be an integer/],
    ['an unknown --mode', ['complete', '--file', 'FILE', '--offset', '0', '--mode', 'lines'], /--mode must be one of auto, singleLine, multiLine/],
    ['--extra-context yes', ['complete', '--file', 'FILE', '--offset', '0', '--extra-context', 'yes'], /--extra-context must be on or off/],
  ];
  for (const [name, args, message] of badArguments) {
    it(`exits 2 with usage on ${name}`, () => {
      const result = run(...args.map((a) => (a === 'FILE' ? file : a)));
      assert.equal(result.code, 2);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /Usage: node dist\/cli\.js complete/);
      assert.equal(result.stdout, '');
    });
  }

  it('runs a format-v2 model on the --backend asked for, and says which in its JSON', () => {
    const v2 = path.resolve(__dirname, '../fixtures/tiny-llama-v2');
    const args = ['complete', '--file', file, '--offset', String(offset), '--json', '--model', v2, '--max-tokens', '4', '--time-budget-ms', '10000'];
    const wasm = JSON.parse(run(...args, '--backend', 'wasm').stdout);
    assert.equal(wasm.backend, 'WebAssembly SIMD kernels');
    assert.match(wasm.backendReason, /"wasm"/);
    const gpu = run(...args, '--backend', 'webgpu');
    assert.equal(gpu.code, 0, gpu.stderr);
    const json = JSON.parse(gpu.stdout);
    // WebGPU when Dawn finds an adapter (CI: llvmpipe), else WASM with a warning that says why
    if (json.backend.startsWith('WebGPU')) assert.equal(json.completion, wasm.completion);
    else assert.match(gpu.stderr, /"webgpu", but the model runs on WebAssembly: /);
    assert.equal(run(...args, '--backend', 'cuda').code, 2);
  });

  it('explains offsets in --help', () => {
    const result = run('--help');
    assert.equal(result.code, 0);
    assert.match(result.stdout, /UTF-16 code units/);
  });

  it('exits 1 with the named error when the model directory is broken', () => {
    const result = run('complete', '--file', file, '--offset', '0', '--model', dir);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^flashcode: Model\w+Error: .*manifest\.json/m);
  });
});
