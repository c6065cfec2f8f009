// Model files that lie (the manifest has no checksum of its own, so a checksum proves nothing about
// it): every field and every stored value is checked at load, file names stay inside the model
// directory, and filesystem failures are named errors that say which file and what to do.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadInProcessEngine } from '../../src/engine/local';
import { modelFileError } from '../../src/engine/modelDir';
import { importCheckpoint } from '../../src/engine/import/importModel';
import { copyFixtureModel, repoRoot } from '../helpers/fixture';
import { readTable, withTable } from '../helpers/formatV2';
import { recordBytesV2 } from '../../src/engine/v2/ffnStore';
import type { FlashOptions } from '../../src/engine/ffn/loadFlash';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const sparse = { mode: 'sparse', memoryBudgetMB: 256 } as const;

async function editManifest(dir: string, edit: (m: Json) => void): Promise<void> {
  const f = path.join(dir, 'manifest.json');
  const m = JSON.parse(await fsp.readFile(f, 'utf8')) as Json;
  edit(m);
  await fsp.writeFile(f, JSON.stringify(m));
}

/** Rewrites a listed file and updates its size and checksum in the manifest, as a liar would. */
async function rewrite(dir: string, name: string, edit: (b: Buffer) => Buffer | string): Promise<void> {
  const out = edit(await fsp.readFile(path.join(dir, name)));
  const bytes = Buffer.from(out);
  await fsp.writeFile(path.join(dir, name), bytes);
  await editManifest(dir, (m) => { m.files[name] = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }; });
}

/** Byte offset of layer `l`'s first record in ffn.bin (FORMAT.md §3: the layer table at 64). */
const ffnSection = (b: Buffer, l = 0) => Number(b.readBigUInt64LE(64 + 16 * l));
const predictorsSection = (b: Buffer, l = 0) => Number(b.readBigUInt64LE(64 + 32 * l));

async function loadError(dir: string, flash?: FlashOptions): Promise<Error> {
  return loadInProcessEngine({ modelDir: dir, ...(flash ? { flash } : {}) }).then(
    async (e) => { await e.dispose(); return assert.fail('loaded'); },
    (e: Error) => e,
  );
}

const bundled = path.join(repoRoot, 'models/flashcode-code-v1');
type Case = [what: string, damage: (dir: string) => Promise<void>, name: RegExp, message: RegExp, from?: string];
const cases: Case[] = [
  ['normEps -1', (d) => editManifest(d, (m) => { m.architecture.normEps = -1; }), /ModelManifestInvalid/, /architecture\.normEps must be above 0 and below 1 \(found -1\)/],
  ['ropeTheta 0', (d) => editManifest(d, (m) => { m.architecture.ropeTheta = 0; }), /ModelManifestInvalid/, /architecture\.ropeTheta must be above 0/],
  ['contextTokens 2^31', (d) => editManifest(d, (m) => { m.contextTokens = 2 ** 31; }), /ModelManifestInvalid/, /contextTokens must be a positive integer, at most 131,072/],
  ['a sparsity block with NaN-like values', (d) => editManifest(d, (m) => { m.sparsity = { meanActivationSparsity: 0.5, perLayer: ['x', 2] }; }), /ModelManifestInvalid/, /sparsity\.perLayer must list 2 numbers between 0 and 1/],
  ['a NaN float in ffn.bin', (d) => rewrite(d, 'ffn.bin', (b) => { b.writeFloatLE(NaN, ffnSection(b, 1) + 8); return b; }), /ModelFileCorrupt/, /ffn\.bin is corrupt \(layer 1 neuron 0 holds NaN\)/],
  ['a NaN int8 scale in ffn.bin (bundled model)', (d) => rewrite(d, 'ffn.bin', (b) => { b.writeFloatLE(NaN, ffnSection(b, 2) + 4); return b; /* the up part's scale: the scales lead the record */ }), /ModelFileCorrupt/, /ffn\.bin is corrupt \(layer 2 neuron 0 has an int8 scale of NaN\)/, bundled],
  ['tokenizer.json = null', (d) => rewrite(d, 'tokenizer.json', () => 'null'), /ModelFileCorrupt/, /tokenizer\.json is corrupt \(no model\.vocab: not a Hugging Face tokenizer file\)/],
  ['tokenizer.json = {}', (d) => rewrite(d, 'tokenizer.json', () => '{}'), /ModelFileCorrupt/, /tokenizer\.json is corrupt \(no model\.vocab/],
  ['tokenizer ids beyond the vocabulary', (d) => rewrite(d, 'tokenizer.json', (b) => {
    const t = JSON.parse(b.toString()) as Json;
    t.added_tokens[0].id = 600;
    t.model.vocab[t.added_tokens[0].content] = 600;
    return JSON.stringify(t);
  }), /ModelFileCorrupt/, /tokenizer\.json is corrupt \(token "<\|endoftext\|>" has id 600, outside the model's vocabulary of 512/],
  ['a stop token the tokenizer lacks', (d) => editManifest(d, (m) => { m.stopTokens = ['<|endoftext|>', '<|nope|>']; }), /ModelManifestInvalid/, /manifest\.json: stopTokens\[1\] names <\|nope\|>, which tokenizer\.json does not have/],
  ['a FIM token the tokenizer lacks', (d) => editManifest(d, (m) => { m.fim.middleToken = '<|mid|>'; }), /ModelManifestInvalid/, /fim\.middleToken names <\|mid\|>/],
  ['a traversing file name', (d) => editManifest(d, (m) => { m.files['../../../../etc/passwd'] = { bytes: 1, sha256: '0'.repeat(64) }; }), /ModelManifestInvalid/, /must be a plain relative file name inside the model directory/],
  ['an absolute file name', (d) => editManifest(d, (m) => { m.files['/etc/passwd'] = { bytes: 1, sha256: '0'.repeat(64) }; }), /ModelManifestInvalid/, /must be a plain relative file name/],
  ['a graph named through ..', (d) => editManifest(d, (m) => { m.files['x/../head.onnx'] = m.files[m.graphs.head]; m.graphs.head = 'x/../head.onnx'; }), /ModelManifestInvalid/, /must be a plain relative file name/],
  ['a symlink out of the directory', async (d) => {
    const outside = path.join(await fsp.mkdtemp(path.join(os.tmpdir(), 'flashcode-outside-')), 'tokenizer.json');
    await fsp.rename(path.join(d, 'tokenizer.json'), outside);
    await fsp.symlink(outside, path.join(d, 'tokenizer.json'));
  }, /ModelFileUnreadable/, /tokenizer\.json in the model directory .* is a link to a file outside the model directory — copy the file/],
  ['a directory where ffn.bin should be', async (d) => {
    await fsp.rm(path.join(d, 'ffn.bin'));
    await fsp.mkdir(path.join(d, 'ffn.bin'));
  }, /ModelFileUnreadable/, /ffn\.bin in the model directory .* is a directory, not a file/],
];

describe('loading a model whose files lie', () => {
  for (const [what, damage, name, message, from] of cases) {
    it(`names ${what}`, async () => {
      const dir = await copyModel(from);
      try {
        await damage(dir);
        const e = await loadError(dir);
        assert.match(e.name, name, e.message);
        assert.match(e.message, message);
        assert.doesNotMatch(e.stack ?? '', /RangeError|TypeError/);
      } finally {
        await fsp.rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('a traversing name is refused before the file is touched: the message holds no size', async () => {
    const dir = await copyModel();
    try {
      await editManifest(dir, (m) => { m.files['../../../../etc/passwd'] = { bytes: 1, sha256: '0'.repeat(64) }; });
      const e = await loadError(dir);
      const size = (await fsp.stat('/etc/passwd')).size;
      assert.doesNotMatch(e.message, new RegExp(`\\b${size}\\b`));
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  for (const [what, damage, notice] of [
    ['a predictor rank that contradicts predictors.bin', (d: string) => editManifest(d, (m) => { m.predictors.perLayer[0].rank = 32; m.predictors.perLayer[0].macsPerToken = 64 * 32 + 32 * 256; }), /predictors\.bin is corrupt \(layer 0 has rank 64, the manifest says 32\); the FFN runs densely/],
    ['NaN predictor weights', (d: string) => rewrite(d, 'predictors.bin', (b) => { b.writeFloatLE(NaN, predictorsSection(b, 1) + 40); return b; }), /predictors\.bin is corrupt \(layer 1 holds NaN at value 10 of its A \| B \| bias\); the FFN runs densely/],
  ] as const) {
    it(`${what}: the model runs densely, and says why`, async () => {
      const dir = await copyModel();
      try {
        await damage(dir);
        const engine = await loadInProcessEngine({ modelDir: dir, flash: sparse });
        try {
          assert.equal(engine.info.ffn.mode, 'dense');
          assert.match(engine.info.ffn.notice ?? '', notice);
        } finally {
          await engine.dispose();
        }
      } finally {
        await fsp.rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('a model directory without read permission says so, not "missing"', async function () {
    if (process.getuid?.() === 0) {
      // root reads through any permission bits; the errno mapping itself is checked in the next case
      console.log('      skipped: running as root, and chmod cannot deny root a read (the case runs as any other user)');
      return this.skip(); // reason: root reads through permission bits (printed above)
    }
    const dir = await copyModel();
    try {
      await fsp.chmod(dir, 0o000);
      const e = await loadError(dir);
      assert.match(e.message, /manifest\.json in the model directory .* cannot be read: permission denied — give your user read permission/);
    } finally {
      await fsp.chmod(dir, 0o755);
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a 4-bit (q4_32) model whose weights.bin lies', () => {
  let q4Model: string;
  before(async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'flashcode-q4-'));
    q4Model = path.join(dir, 'model');
    await importCheckpoint({ input: path.join(repoRoot, 'test/fixtures/import/tiny-llama'), outDir: q4Model, bits: 4 });
  });
  after(() => fsp.rm(path.dirname(q4Model), { recursive: true, force: true }));

  const tensor = (b: Buffer, name: string) => readTable(b).tensors.find((t) => t.name === name)!;
  const q4Cases: [what: string, damage: (dir: string) => Promise<void>, name: RegExp, message: RegExp][] = [
    ['a NaN q4 scale', (d) => rewrite(d, 'weights.bin', (b) => { b.writeFloatLE(NaN, tensor(b, 'layers.0.qkv').offset + (64 * 32) / 2 + 4 * 3); return b; }),
      /ModelFileCorrupt/, /weights\.bin is corrupt \(tensor layers\.0\.qkv: scale 3 is NaN, not finite\)/],
    ['an infinite q4 min', (d) => rewrite(d, 'weights.bin', (b) => { const t = tensor(b, 'layers.1.out'); b.writeFloatLE(Infinity, t.offset + (32 * 32) / 2 + (32 * 32) / 8 + 4 * 5); return b; }),
      /ModelFileCorrupt/, /weights\.bin is corrupt \(tensor layers\.1\.out: min 5 is Infinity, not finite\)/],
    ['q4 bytes that contradict the shape', (d) => rewrite(d, 'weights.bin', (b) => withTable(b, (t) => { t.tensors.find((e) => e.name === 'layers.0.ffn_gate')!.bytes += 64; })),
      /ModelFileCorrupt/, /tensor layers\.0\.ffn_gate has 1600 bytes, \[64,32\] q4_32 needs 1536/],
    ['a q4 tensor offset past the end', (d) => rewrite(d, 'weights.bin', (b) => withTable(b, (t) => { t.tensors.find((e) => e.name === 'layers.1.qkv')!.offset = t.fileBytes - 64; })),
      /ModelFileCorrupt/, /truncated: tensor layers\.1\.qkv ends at \d+, past the end/],
    ['q4_32 tensors under a manifest that says q8_32', (d) => editManifest(d, (m) => { m.quantization = 'q8_32'; }),
      /ModelFileCorrupt/, /tensor embed is q4_32, but the manifest's quantization is q8_32/],
    ['q4_32 tensors in a version-1 weights.bin', (d) => rewrite(d, 'weights.bin', (b) => { b.writeUInt32LE(1, 4); return b; }),
      /ModelFormatUnsupported/, /weights\.bin has format version 1 with tensor embed of dtype "q4_32"/],
  ];
  for (const [what, damage, name, message] of q4Cases) {
    it(`names ${what}`, async () => {
      const dir = await copyModel(q4Model);
      try {
        await damage(dir);
        const e = await loadError(dir);
        assert.match(e.name, name, e.message);
        assert.match(e.message, message);
      } finally {
        await fsp.rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('the undamaged copy loads (so each case above fails for its damage alone)', async () => {
    const engine = await loadInProcessEngine({ modelDir: q4Model });
    await engine.dispose();
  });
});

describe('an 8-bit (q8_32) model with a scale that is not an f16 value ≥ 0', () => {
  const fixture = path.join(repoRoot, 'test/fixtures/tiny-llama-v2');
  const tensor = (b: Buffer, name: string) => readTable(b).tensors.find((t) => t.name === name)!;
  const scale3 = (b: Buffer) => { const t = tensor(b, 'layers.0.qkv'); return t.offset + (t.bytes * 8) / 9 + 4 * 3; };
  const neuron7 = (b: Buffer) => Number(b.readBigUInt64LE(64 + 16)) + 7 * recordBytesV2(64) + 2 * 64 + 4; // layer 1, its up part's scale 1
  const notF16 = Math.fround(0.1); // f16 holds 0.0999755859375 and 0.10003662109375: a file written before §Q's rule
  const outdated = /ModelFormatUnsupported/;
  const cases: [what: string, damage: (dir: string) => Promise<void>, name: RegExp, message: RegExp, flash?: FlashOptions][] = [
    ['in weights.bin', (d) => rewrite(d, 'weights.bin', (b) => { b.writeFloatLE(notF16, scale3(b)); return b; }), outdated,
      /^weights\.bin: tensor layers\.0\.qkv: scale 3 is 0\.10000000149011612, not a 16-bit float: the model was written before Flashcode's 8-bit scales had to be \(models\/FORMAT\.md §Q\) — import it again\.$/],
    ['in weights.bin, the matrix left there by the memory budget', (d) => rewrite(d, 'weights.bin', (b) => { b.writeFloatLE(notF16, scale3(b)); return b; }), outdated,
      /^weights\.bin: tensor layers\.0\.qkv: a scale in rows 0…\d+ is 0\.10000000149011612, not a 16-bit float/, { ...sparse, streamEverything: true }],
    ['in ffn.bin', (d) => rewrite(d, 'ffn.bin', (b) => { b.writeFloatLE(notF16, neuron7(b)); return b; }), outdated,
      /^ffn\.bin: layer 1 neuron 7's scale 1 is 0\.10000000149011612, not a 16-bit float/],
    ['negative, in ffn.bin', (d) => rewrite(d, 'ffn.bin', (b) => { b.writeFloatLE(-0.5, neuron7(b)); return b; }), /ModelFileCorrupt/,
      /^ffn\.bin is corrupt \(layer 1 neuron 7's scale 1 is -0\.5, a negative scale\)/],
  ];
  for (const [what, damage, name, message, flash] of cases) {
    it(`is refused at load, named: ${what}`, async () => {
      const dir = await copyModel(fixture);
      try {
        await damage(dir);
        const e = await loadError(dir, flash);
        assert.match(e.name, name, e.message);
        assert.match(e.message, message);
      } finally {
        await fsp.rm(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('filesystem failures on model files are named', () => {
  it('EACCES, EPERM, EISDIR and others: which file, what happened, what to do', () => {
    const as = (code: string) => modelFileError(Object.assign(new Error(code), { code }), 'ffn.bin', '/models/m');
    assert.match(as('EACCES').message, /^ffn\.bin in the model directory \/models\/m cannot be read: permission denied — give your user read permission/);
    assert.equal(as('EPERM').name, 'ModelFileUnreadableError');
    assert.match(as('EISDIR').message, /is a directory, not a file — reinstall/);
    assert.match(as('EIO').message, /cannot be read \(EIO\) — check the disk/);
    assert.equal(as('ENOENT').name, 'ModelFileMissingError');
  });
});

async function copyModel(from?: string): Promise<string> {
  if (!from) return copyFixtureModel();
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'flashcode-model-'));
  await fsp.cp(from, dir, { recursive: true });
  return dir;
}
