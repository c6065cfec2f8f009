// Paths and small helpers shared by tests that run the real engine on the committed fixture model.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '../..');
export const fixtureModelDir = path.join(repoRoot, 'test/fixtures/tiny-model');
export const goldenDir = path.join(repoRoot, 'test/golden');
export const distDir = path.join(repoRoot, 'dist');

export function readGolden<T>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(goldenDir, name), 'utf8')) as T;
}

/** A throwaway copy of the fixture model that a test may damage. */
export async function copyFixtureModel(): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'flashcode-model-'));
  await fsp.cp(fixtureModelDir, dir, { recursive: true });
  return dir;
}

/** The bundle the worker runs from; `npm test` builds it first. */
export function requireBuiltWorker(): string {
  const script = path.join(distDir, 'engineWorker.js');
  if (!fs.existsSync(script)) throw new Error(`${script} is missing — run npm run build first (npm test does).`);
  return script;
}
