// node-llama-cpp from .cache/node-llama-cpp (scripts/install-llamacpp.mjs), for the tests that compare with
// llama.cpp. Missing: the test skips with the reason, except under CI=true, where it fails.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './fixture';

// The parts of node-llama-cpp's API the tests use (its own types live outside the project).
export interface LlamaCppModule {
  getLlama(options: { gpu: false; build: 'never'; logLevel?: never }): Promise<{
    loadModel(options: { modelPath: string; vocabOnly?: boolean }): Promise<{ tokenize(text: string, special?: boolean): number[]; dispose(): Promise<void> }>;
    dispose(): Promise<void>;
  }>;
}

const entry = path.join(repoRoot, '.cache/node-llama-cpp/node_modules/node-llama-cpp/dist/index.js');

export async function importLlamaCpp(test: Mocha.Context): Promise<LlamaCppModule> {
  if (!fs.existsSync(entry)) {
    const reason = `node-llama-cpp is not installed in .cache/node-llama-cpp — run node scripts/install-llamacpp.mjs`;
    if (process.env.CI === 'true') throw new Error(reason);
    console.log(`      skipped: ${reason}`);
    test.skip(); // reason: node-llama-cpp not installed outside CI (printed above; CI throws instead)
  }
  return (await import(pathToFileURL(entry).href)) as LlamaCppModule;
}
