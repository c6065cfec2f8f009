// The real SmolLM2-135M-Instruct Q4_1 GGUF for the importer's integration tests: fetched into .cache/
// by scripts/fetch-smollm2.mjs when missing. Without a registry the tests skip with the reason,
// except under CI=true, where they fail (CI must have it).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
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
      ctx.skip();
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
      ctx.skip();
    }
  }
  return python;
}
