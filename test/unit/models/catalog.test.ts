// The shipped catalog holds to its schema; the SmolLM2 entry's pins match the real file we test with.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { estimateImportedBytes, parseCatalog, shippedCatalog } from '../../../src/models/catalog';
import { checkpointsOf, fileUrl, isPlainRelativePath, parseRepoId, resolveFromListing, type HubFile } from '../../../src/models/hub';
import { SMOLLM2_GGUF } from '../../helpers/smollm2';

describe('model catalog', () => {
  const catalog = shippedCatalog();

  it('ships the four models the issue names, each with a licence, memory advice and honest notes', () => {
    assert.deepEqual(catalog.map((m) => m.id), ['smollm2-135m-instruct-q4_1', 'smollm2-360m-instruct-q8_0', 'qwen2.5-coder-0.5b-instruct-q8_0', 'qwen2.5-coder-1.5b-instruct-q8_0']);
    for (const m of catalog) {
      assert.match(m.licence.name, /Apache-2\.0/);
      assert.ok(m.recommendedMemoryMB >= 512);
      assert.match(m.notes, m.verified ? /^Verified/ : /^Not verified/);
    }
  });

  it('the verified SmolLM2 entry pins the size and sha256 of the GGUF the import tests use', async function () {
    const entry = catalog.find((m) => m.verified)!;
    assert.equal(entry.files[0].path, 'SmolLM2-135M-Instruct.Q4_1.gguf');
    if (!fs.existsSync(SMOLLM2_GGUF)) {
      const reason = `${SMOLLM2_GGUF} is missing (node scripts/fetch-smollm2.mjs fetches it)`;
      if (process.env.CI === 'true') throw new Error(reason); // CI fetches it (.ci/run), so it must be there
      console.log(`      skipped: ${reason}`);
      this.skip(); // reason: the GGUF is not on this machine (printed above)
    }
    assert.equal(fs.statSync(SMOLLM2_GGUF).size, entry.files[0].bytes);
    const hash = crypto.createHash('sha256');
    for await (const chunk of fs.createReadStream(SMOLLM2_GGUF)) hash.update(chunk as Buffer);
    assert.equal(hash.digest('hex'), entry.files[0].sha256);
  });

  it('refuses an entry that claims to be verified without pinning bytes, sha256 and a commit', () => {
    const base = { id: 'x', displayName: 'X', repo: 'a/b', revision: 'main', files: [{ path: 'x.gguf' }], licence: { name: 'MIT', url: 'https://x' }, parameters: '1M', fim: false, recommendedMemoryMB: 1, notes: 'n' };
    assert.equal(parseCatalog({ version: 1, models: [{ ...base, verified: false }] }).length, 1);
    assert.throws(() => parseCatalog({ version: 1, models: [{ ...base, verified: true }] }), /CatalogInvalid|pins bytes and sha256/);
    assert.throws(() => parseCatalog({ version: 1, models: [{ ...base, verified: false }, { ...base, verified: false }] }), /used twice/);
    assert.throws(() => parseCatalog({ version: 1, models: [{ ...base, verified: false, files: [{ path: '../x' }] }] }), /relative path/);
  });

  it('estimates the imported size from the source quantization (SmolLM2 Q4_1: 98 MB → 153 MB measured)', () => {
    const est = estimateImportedBytes([{ path: 'SmolLM2-135M-Instruct.Q4_1.gguf', bytes: 98_362_432 }]);
    assert.ok(est >= 152_819_183 && est < 2 * 98_362_432, String(est));
    assert.ok(estimateImportedBytes([{ path: 'm-q8_0.gguf', bytes: 1000 }]) < estimateImportedBytes([{ path: 'm-q4_k_m.gguf', bytes: 1000 }]));
  });
});

describe('hub helpers', () => {
  it('parses repo ids and pasted hub URLs, refusing anything else', () => {
    assert.equal(parseRepoId(' Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF '), 'Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF');
    assert.equal(parseRepoId('https://huggingface.co/Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF/tree/main'), 'Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF');
    for (const bad of ['', 'qwen', 'a/b/c', '../etc', 'a/..', 'a b/c']) assert.equal(parseRepoId(bad), undefined, bad);
  });

  it('file paths from a listing must stay inside the download folder', () => {
    for (const ok of ['a.gguf', 'sub/a.gguf']) assert.equal(isPlainRelativePath(ok), true, ok);
    for (const bad of ['', '/etc/passwd', '../a.gguf', 'sub/../../a', 'a\\..\\b', './a', 'a//b']) assert.equal(isPlainRelativePath(bad), false, bad);
  });

  it('builds resolve URLs on a mirror', () => {
    assert.equal(fileUrl('https://hf-mirror.example/', 'a/b', 'main', 'sub/x y.gguf'), 'https://hf-mirror.example/a/b/resolve/main/sub/x%20y.gguf');
  });

  it('fills sizes and digests from the listing; a pinned sha256 the hub contradicts is refused', () => {
    const listing: HubFile[] = [{ path: 'm.gguf', bytes: 10, sha256: 'a'.repeat(64), gitOid: 'b'.repeat(40) }, { path: 'config.json', bytes: 3, gitOid: 'c'.repeat(40) }];
    const url = (p: string) => `https://h/${p}`;
    assert.deepEqual(resolveFromListing('a/b', listing, [{ path: 'm.gguf' }, { path: 'config.json' }], url), [
      { path: 'm.gguf', url: 'https://h/m.gguf', bytes: 10, sha256: 'a'.repeat(64), gitBlobSha1: undefined },
      { path: 'config.json', url: 'https://h/config.json', bytes: 3, sha256: undefined, gitBlobSha1: 'c'.repeat(40) },
    ]);
    assert.throws(() => resolveFromListing('a/b', listing, [{ path: 'm.gguf', sha256: 'd'.repeat(64) }], url), /HubListing|was replaced/);
    assert.throws(() => resolveFromListing('a/b', listing, [{ path: 'absent.gguf' }], url), /lists no file absent\.gguf/);
  });

  it('offers each GGUF and a complete top-level safetensors checkpoint', () => {
    const f = (p: string, bytes = 1): HubFile => ({ path: p, bytes, gitOid: '0'.repeat(40) });
    const offers = checkpointsOf([f('README.md'), f('a-q8_0.gguf', 5), f('config.json'), f('tokenizer.json'), f('model.safetensors', 7), f('onnx/model.onnx')]);
    assert.deepEqual(offers.map((o) => [o.kind, o.label, o.bytes]), [['gguf', 'a-q8_0.gguf', 5], ['safetensors', 'safetensors (1 weight file)', 9]]);
    assert.deepEqual(checkpointsOf([f('model.safetensors')]), []); // no config/tokenizer: not importable
  });
});
