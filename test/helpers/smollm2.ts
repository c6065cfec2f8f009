// The real SmolLM2-135M-Instruct Q4_1 GGUF for the importer's integration tests: fetched into .cache/
// by scripts/fetch-smollm2.mjs when missing. Without a registry the tests skip with the reason,
// except under CI=true, where they fail (CI must have it). The engine's tests run it imported to
// format v2 (.cache/smollm2-v2, 8-bit), and the bundled model converted to v2 (.cache/peers/bundled-v2):
// both made here on first use.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { importCheckpoint } from '../../src/engine/import/importModel';
import { repoRoot } from './fixture';

export const SMOLLM2_GGUF = path.join(repoRoot, '.cache/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf');

function fetchOrReason(script: string, args: string[] = []): string | undefined {
  try {
    execFileSync(script.endsWith('.sh') ? 'bash' : process.execPath, [path.join(repoRoot, 'scripts', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
    return undefined;
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    const lines = (err.stderr?.toString() || err.message).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('Node.js v') && !l.startsWith('at '));
    return `${script} failed: ${lines.filter((l) => /error/i.test(l)).at(-1) ?? lines.at(-1) ?? 'no output'}`;
  }
}

/** Makes sure the GGUF is there; skips `ctx` with the reason when it cannot be fetched (fails under CI). */
export function requireSmollm2(ctx: Mocha.Context): string {
  if (!fs.existsSync(SMOLLM2_GGUF)) {
    const reason = fetchOrReason('fetch-smollm2.mjs');
    if (reason) {
      if (process.env.CI === 'true') throw new Error(`CI needs ${SMOLLM2_GGUF}: ${reason}`);
      console.log(`      skipped: ${SMOLLM2_GGUF} is missing and ${reason}`);
      ctx.skip(); // reason: a file or venv it needs is missing outside CI (printed above; CI throws instead)
    }
  }
  return SMOLLM2_GGUF;
}

/** The venv with PyPI gguf (scripts/import-venv.sh); skips like requireSmollm2 when it cannot be made. */
export function requireImportPython(ctx: Mocha.Context): string {
  const python = path.join(repoRoot, '.cache/import-venv/bin/python');
  if (!fs.existsSync(python)) {
    const reason = fetchOrReason('import-venv.sh');
    if (reason) {
      if (process.env.CI === 'true') throw new Error(`CI needs the import venv: ${reason}`);
      console.log(`      skipped: ${reason}`);
      ctx.skip(); // reason: a file or venv it needs is missing outside CI (printed above; CI throws instead)
    }
  }
  return python;
}

export const SMOLLM2_V2 = path.join(repoRoot, '.cache/smollm2-v2');
export const BUNDLED_V2 = path.join(repoRoot, '.cache/peers/bundled-v2');

/** .cache/smollm2-v2: the GGUF imported with --bits 8 (the golden test/golden/smollm2-f32-kv.json
 *  was made from it), imported on first use; skips like requireSmollm2 when the GGUF cannot be had. */
export function requireSmollm2V2(ctx: Mocha.Context): Promise<string> {
  return requireImported(ctx, SMOLLM2_V2, 8);
}

/** `dir`: the GGUF imported with `bits` (undefined: as `import` does without --bits), on first use. */
async function requireImported(ctx: Mocha.Context, dir: string, bits: 8 | undefined): Promise<string> {
  if (fs.existsSync(path.join(dir, 'manifest.json'))) return dir;
  await importCheckpoint({ input: requireSmollm2(ctx), outDir: dir, bits });
  return dir;
}

/** .cache/peers/bundled-v2: the bundled model converted by models/pipeline/convert_v2.py (Debian's
 *  python3 with numpy and onnx, as the pipeline tests use) on first use. */
export function requireBundledV2(ctx: Mocha.Context): string {
  if (fs.existsSync(path.join(BUNDLED_V2, 'manifest.json'))) return BUNDLED_V2;
  try {
    execFileSync('/usr/bin/python3', [path.join(repoRoot, 'models/pipeline/convert_v2.py'), path.join(repoRoot, 'models/flashcode-code-v1'), BUNDLED_V2], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  } catch (e) {
    fs.rmSync(BUNDLED_V2, { recursive: true, force: true });
    const reason = `models/pipeline/convert_v2.py failed: ${((e as { stderr?: Buffer }).stderr?.toString() || (e as Error).message).trim().split('\n').at(-1)}`;
    if (process.env.CI === 'true') throw new Error(`CI needs ${BUNDLED_V2}: ${reason}`);
    console.log(`      skipped: ${reason}`);
    ctx.skip(); // reason: the bundled model's v2 conversion failed outside CI (printed above; CI throws instead)
  }
  return BUNDLED_V2;
}

export const SMOLLM2_V2_Q4 = path.join(repoRoot, '.cache/smollm2-v2-q4');

/** .cache/smollm2-v2-q4: the GGUF imported as `import` does without --bits (q4_32 wherever its
 *  blocks are: embedding, attention, gate), on first use; skips like requireSmollm2V2. */
export function requireSmollm2V2Q4(ctx: Mocha.Context): Promise<string> {
  return requireImported(ctx, SMOLLM2_V2_Q4, undefined);
}
