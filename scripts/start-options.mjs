// What `npm start` understands, and the sample workspace it serves: plain functions, so that a test
// can hold them without starting VS Code (test/unit/scripts/startOptions.test.ts).
import fs from 'node:fs';

export const START_FLAGS = Object.freeze({
  '--no-build': 'serve the last dist/flashcode.vsix instead of rebuilding it',
  '--verbose': "show code-server's own output",
  '--reset': 'put the sample workspace back as test/fixtures/workspace/ has it (your edits in it are lost)',
});

/** `argv` (after the script name) as options; an unknown argument throws, naming the known ones. */
export function parseStartArgs(argv) {
  const unknown = argv.filter((a) => !(a in START_FLAGS));
  if (unknown.length > 0) {
    const known = Object.entries(START_FLAGS).map(([flag, what]) => `  ${flag.padEnd(11)} ${what}`).join('\n');
    throw new Error(`npm start: unknown argument ${unknown.map((a) => JSON.stringify(a)).join(', ')}. It understands:\n${known}\n` +
      '(npm passes them on after --, e.g. `npm start -- --reset`)');
  }
  return { build: !argv.includes('--no-build'), verbose: argv.includes('--verbose'), reset: argv.includes('--reset') };
}

/**
 * Makes `workspace` a copy of `sample` when it does not exist yet, or, with `reset`, replaces it
 * (files added since are removed too). Otherwise leaves it alone: VS Code saves edits into it, and
 * they persist between runs. Returns what it did.
 */
export function prepareSampleWorkspace(sample, workspace, { reset = false } = {}) {
  if (!fs.existsSync(sample)) throw new Error(`the sample workspace ${sample} is missing: restore it with git checkout`);
  const existed = fs.existsSync(workspace);
  if (existed && !reset) return 'kept';
  fs.rmSync(workspace, { recursive: true, force: true });
  fs.cpSync(sample, workspace, { recursive: true });
  return existed ? 'reset' : 'created';
}
