// The per-platform .vsix (scripts/package.mjs --target): Dawn goes into dist/node_modules/webgpu with
// only that platform's binary, and from there — outside this repository, so nothing else on the
// resolution path — a bundle's import('webgpu') loads it and finds an adapter (llvmpipe here).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers/fixture';

interface PackageScript {
  DAWN_DIRS: Record<string, string>;
  stageWebgpu(target: string | undefined, dist?: string): string[];
}

describe('package: the WebGPU backend in a platform .vsix', function () {
  this.timeout(120_000);
  let script: PackageScript;
  let dist: string;
  before(async () => {
    script = (await import(path.join(repoRoot, 'scripts/package.mjs'))) as PackageScript;
    dist = fs.mkdtempSync(path.join(os.tmpdir(), 'flashcode-package-'));
  });
  after(() => fs.rmSync(dist, { recursive: true, force: true }));

  it('stages only the target platform\'s binary, and nothing without a target', () => {
    const files = script.stageWebgpu('linux-x64', dist);
    assert.ok(files.includes('node_modules/webgpu/dist/linux-x64/dawn.node'));
    assert.deepEqual(fs.readdirSync(path.join(dist, 'node_modules/webgpu/dist')), ['linux-x64']);
    assert.deepEqual(script.stageWebgpu(undefined, dist), []);
    assert.equal(fs.existsSync(path.join(dist, 'node_modules')), false);
    assert.throws(() => script.stageWebgpu('sunos-x64', dist), /builds for linux-x64/);
  });

  it('a bundle beside the staged package loads Dawn from it (linux-x64)', function () {
    if (`${process.platform}-${process.arch}` !== 'linux-x64') {
      console.log(`      skipped: this machine is ${process.platform}-${process.arch}; the check loads the linux-x64 binary`);
      this.skip(); // reason: not linux-x64, the binary the check loads (printed above)
    }
    script.stageWebgpu('linux-x64', dist);
    // what esbuild makes of the engine's `await import('webgpu')` in a CJS bundle
    fs.writeFileSync(path.join(dist, 'probe.js'), `import('webgpu').then(async ({ create, globals }) => {
      Object.assign(globalThis, globals);
      const adapter = await create([]).requestAdapter();
      console.log(JSON.stringify({ from: require.resolve('webgpu'), adapter: adapter ? adapter.info.architecture || adapter.info.vendor || 'found' : null }));
      process.exit(0);
    });`);
    const r = spawnSync(process.execPath, [path.join(dist, 'probe.js')], { cwd: dist, encoding: 'utf8', timeout: 60_000, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? os.tmpdir() } });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { from: string; adapter: string | null };
    assert.equal(out.from, path.join(dist, 'node_modules/webgpu/index.js'));
    if (process.env.CI === 'true') assert.notEqual(out.adapter, null, 'CI has Mesa\'s llvmpipe');
    console.log(`      adapter: ${out.adapter ?? 'none (no Vulkan driver here)'}`);
  });
});
