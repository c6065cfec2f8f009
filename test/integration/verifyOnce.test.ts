// A model's files are hashed once: after a load that verified them, a file with the same size and
// modification time is trusted without hashing; any write to it (a new mtime) is hashed again.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ModelFileCorruptError } from '../../src/engine/errors';
import { openModelDir } from '../../src/engine/modelDir';
import { copyFixtureModel } from '../helpers/fixture';

describe('model files verified once, then trusted by size and modification time', () => {
  it('skips hashing an unchanged file and hashes a rewritten one', async () => {
    const dir = await copyFixtureModel();
    try {
      const file = path.join(dir, 'ffn.bin');
      const then = new Date('2026-01-01T00:00:00Z'); // a whole second: utimes round-trips it exactly
      await fs.utimes(file, then, then);
      await openModelDir(dir); // verifies every file, records them
      const record = JSON.parse(await fs.readFile(path.join(dir, '.flashcode-verified.json'), 'utf8')) as Record<string, unknown>;
      assert.ok(record['ffn.bin'] && record['tokenizer.json'], 'every file recorded');
      const bytes = await fs.readFile(file);
      bytes[5000] ^= 0xff;
      await fs.writeFile(file, bytes);
      await fs.utimes(file, then, then); // same size, same mtime: trusted as verified
      await openModelDir(dir);
      await fs.utimes(file, new Date(), new Date()); // touched: hashed again, the damage found
      await assert.rejects(openModelDir(dir), (e: unknown) => e instanceof ModelFileCorruptError && /ffn\.bin.*checksum mismatch/.test(e.message));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
