// `npm test`: build, type gate, lint, Python pipeline tests, unit tests, integration tests (the real
// engine), end to end in real VS Code. Stops at the first failing stage; ends with one "N passed, N failed" line.
import { spawn } from 'node:child_process';

/** [passed, failed] from a runner's closing lines, or undefined when it printed none. */
function plainCounts(out) {
  const m = [...out.matchAll(/(\d+) passed, (\d+) failed/g)].at(-1);
  return m && [Number(m[1]), Number(m[2])];
}
function mochaCounts(out) {
  const p = /(\d+) passing/.exec(out);
  return p && [Number(p[1]), Number(/(\d+) failing/.exec(out)?.[1] ?? 0)];
}

// Each test stage is the npm script of the same name, so `npm run test:<stage>` reruns one alone.
const stages = [
  { name: 'build', cmd: 'npm', args: ['run', '--silent', 'build'] },
  { name: 'typecheck', cmd: 'npx', args: ['tsc', '-p', '.'] },
  { name: 'lint', cmd: 'npx', args: ['eslint', '.'] },
  { name: 'python', cmd: 'npm', args: ['run', '--silent', 'test:python'], count: plainCounts },
  { name: 'unit', cmd: 'npm', args: ['run', '--silent', 'test:unit'], count: mochaCounts },
  { name: 'integration', cmd: 'npm', args: ['run', '--silent', 'test:integration'], count: mochaCounts },
  { name: 'e2e', cmd: 'npm', args: ['run', '--silent', 'test:e2e'], count: plainCounts },
];

function run({ cmd, args }) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    for (const s of [child.stdout, child.stderr]) s.on('data', (b) => { out += b; (s === child.stdout ? process.stdout : process.stderr).write(b); });
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

let passed = 0;
let failed = 0;
const started = Date.now();
for (const stage of stages) {
  console.log(`\n── ${stage.name} ──`);
  const t = Date.now();
  const { code, out } = await run(stage);
  const counts = stage.count?.(out.replace(/\x1b\[[0-9;]*m/g, ''));
  if (counts) { passed += counts[0]; failed += counts[1]; }
  console.log(`── ${stage.name}: ${code === 0 ? 'ok' : `failed (exit ${code})`} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  if (code !== 0) {
    if (!counts) failed++;
    console.log(`\ntests: ${passed} passed, ${failed} failed`);
    process.exit(code);
  }
}
console.log(`\nall stages passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`tests: ${passed} passed, ${failed} failed`);
