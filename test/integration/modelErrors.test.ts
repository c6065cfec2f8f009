// A damaged model directory fails at load with a named error that says which file and what to do.
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { loadInProcessEngine } from '../../src/engine/local';
import { copyFixtureModel } from '../helpers/fixture';

type Damage = (dir: string) => Promise<void>;
const cases: [string, Damage, RegExp, RegExp][] = [
  ['a missing file', (d) => fsp.rm(path.join(d, 'ffn.bin')), /ModelFileMissingError/, /ffn\.bin is missing.*reinstall/],
  ['a missing manifest', (d) => fsp.rm(path.join(d, 'manifest.json')), /ModelFileMissingError/, /manifest\.json is missing/],
  ['a bad checksum', async (d) => {
    const f = path.join(d, 'tokenizer.json');
    const b = await fsp.readFile(f);
    b[b.length - 2] ^= 0x01;
    await fsp.writeFile(f, b);
  }, /ModelFileCorruptError/, /tokenizer\.json is corrupt \(checksum mismatch\)/],
  ['a truncated ffn.bin', async (d) => {
    const f = path.join(d, 'ffn.bin');
    await fsp.truncate(f, (await fsp.stat(f)).size - 4096);
  }, /ModelFileCorruptError/, /ffn\.bin is corrupt \(truncated/],
  ['an unknown format version', async (d) => {
    const f = path.join(d, 'manifest.json');
    const m = JSON.parse(await fsp.readFile(f, 'utf8'));
    m.formatVersion = 3;
    await fsp.writeFile(f, JSON.stringify(m));
  }, /ModelFormatUnsupportedError/, /version 3.*update Flashcode/],
  ['a manifest that is not JSON', (d) => fsp.writeFile(path.join(d, 'manifest.json'), '{"format": '), /ModelManifestInvalidError/, /not valid JSON/],
  // The layer kernels read head.onnx and the attention graphs (their initializers); ONNX Runtime loads ffn.onnx.
  ['a head graph that is not ONNX (checksum updated to match)', (d) => replaceGraph(d, (m) => m.graphs.head),
    /ModelFileCorruptError/, /head\.onnx is corrupt \(its weights cannot be read/],
  ['an attention graph that is not ONNX (checksum updated to match)', (d) => replaceGraph(d, (m) => m.graphs.attention[1]),
    /ModelFileCorruptError/, /attn\.1\.onnx is corrupt \(its weights cannot be read/],
  ['an FFN graph that is not ONNX (checksum updated to match)', (d) => replaceGraph(d, (m) => m.graphs.ffn),
    /ModelFileCorruptError/, /ffn\.onnx is corrupt \(ONNX Runtime cannot load it/],
];

/** Writes junk over the graph `pick` names, with the manifest's size and checksum updated to match. */
async function replaceGraph(dir: string, pick: (manifest: { graphs: { head: string; attention: string[]; ffn: string } }) => string): Promise<void> {
  const f = path.join(dir, 'manifest.json');
  const m = JSON.parse(await fsp.readFile(f, 'utf8'));
  const junk = Buffer.from('not an onnx model');
  const name = pick(m);
  await fsp.writeFile(path.join(dir, name), junk);
  const { createHash } = await import('node:crypto');
  m.files[name] = { bytes: junk.length, sha256: createHash('sha256').update(junk).digest('hex') };
  await fsp.writeFile(f, JSON.stringify(m));
}

describe('loading a damaged model directory', () => {
  for (const [what, damage, name, message] of cases) {
    it(`names ${what}`, async () => {
      const dir = await copyFixtureModel();
      try {
        await damage(dir);
        await assert.rejects(loadInProcessEngine({ modelDir: dir }), (e: Error) => {
          assert.match(e.name, name);
          assert.match(e.message, message);
          return true;
        });
      } finally {
        await fsp.rm(dir, { recursive: true, force: true });
      }
    });
  }
});
