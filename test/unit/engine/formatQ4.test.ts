// q4_32 in weights.bin (models/FORMAT.md §Q4, §W version 2): the golden written by the Python writer
// (models/pipeline/golden_q4.py) read back exactly, quantizeQ4 byte-identical with the Python
// quantizer on the golden's values (ties, −0, constant and subnormal blocks on purpose), and a q4
// tensor whose version, bytes, scales or mins lie is a named error naming the file and the tensor.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ModelFileCorruptError, ModelFormatUnsupportedError } from '../../../src/engine/errors';
import type { Architecture } from '../../../src/engine/manifest';
import type { ManifestV2 } from '../../../src/engine/manifestV2';
import { q4Layout } from '../../../src/engine/weights/q4';
import { dequantizeQ4, quantizeQ4, readTensorInto, readWeightsHeader, type WeightsHeader } from '../../../src/engine/weights/weightsFile';
import { goldenDir, manifestFor, readGoldenBytes, tempFile, withFile, withTable } from '../../helpers/formatV2';

interface GoldenTensor {
  name: string; dtype: 'f32' | 'q8_32' | 'q4_32'; shape: number[]; offset: number; bytes: number; values: number[];
  nibbles?: number[]; scales?: number[]; mins?: number[]; quants?: number[];
}
const g: { file: string; bytes: number; dataStart: number; architecture: Architecture; tensors: GoldenTensor[] } =
  JSON.parse(fs.readFileSync(path.join(goldenDir, 'q4-golden.json'), 'utf8')).weights;
const manifest: ManifestV2 = { ...manifestFor(g.architecture), quantization: 'q4_32' };
const goldenBytes = readGoldenBytes(g.file);
const q4Tensors = g.tensors.filter((t) => t.dtype === 'q4_32');

async function header(bytes: Uint8Array, m = manifest): Promise<WeightsHeader> {
  return withFile(await tempFile(bytes), (h) => readWeightsHeader(h, 'weights.bin', m));
}
async function rejects(bytes: Uint8Array, error: new (...a: never[]) => Error, message: RegExp, m = manifest): Promise<void> {
  await assert.rejects(header(bytes, m), (e: unknown) => e instanceof error && message.test((e as Error).message) && /weights\.bin/.test((e as Error).message));
}

describe('weights.bin q4_32 golden (written by models/pipeline/golden_q4.py)', () => {
  it('is version 2 and its table reads exactly, q4_32 and q8_32 matrices side by side', async () => {
    assert.equal(goldenBytes.readUInt32LE(4), 2);
    const h = await header(goldenBytes);
    assert.equal(h.fileBytes, g.bytes);
    assert.equal(h.dataStart, g.dataStart);
    for (const t of g.tensors) assert.deepEqual(h.tensors.get(t.name), { name: t.name, dtype: t.dtype, shape: t.shape, offset: t.offset, bytes: t.bytes });
    assert.deepEqual([...new Set(g.tensors.map((t) => t.dtype))].sort(), ['f32', 'q4_32', 'q8_32']);
  });

  it('reads every q4_32 tensor back as stored, and quantizeQ4 of the input values gives the same bytes', async () => {
    await withFile(path.join(goldenDir, g.file), async (file) => {
      const h = await readWeightsHeader(file, 'weights.bin', manifest);
      for (const t of q4Tensors) {
        const bytes = new Uint8Array(t.bytes);
        await readTensorInto(file, 'weights.bin', h.tensors.get(t.name)!, bytes);
        const [rows, cols] = t.shape;
        const at = q4Layout(rows, cols);
        assert.deepEqual([...bytes.subarray(0, at.scales)], t.nibbles, `${t.name} nibbles`);
        assert.deepEqual([...new Float32Array(bytes.buffer, at.scales, (rows * cols) / 32)], t.scales, `${t.name} scales`);
        assert.deepEqual([...new Float32Array(bytes.buffer, at.mins, (rows * cols) / 32)], t.mins, `${t.name} mins`);
        assert.deepEqual(quantizeQ4(Float32Array.from(t.values), rows, cols), bytes, `${t.name}: quantizeQ4 matches the Python writer byte for byte`);
        const values = dequantizeQ4(bytes, rows, cols);
        for (let i = 0; i < rows * cols; i++) {
          const byte = t.nibbles![(i >> 5) * 16 + (i & 15)];
          const q = (i & 31) < 16 ? byte & 15 : byte >> 4;
          assert.equal(values[i], Math.fround(Math.fround(q * t.scales![i >> 5]) + t.mins![i >> 5]), `${t.name}[${i}]`);
          assert.ok(Math.abs(values[i] - t.values[i]) <= t.scales![i >> 5] / 2 * 1.0001 + 1e-30 * Math.abs(t.values[i]), `${t.name}[${i}] within half a step`);
        }
      }
    });
  });

  it('the golden exercises ties, constant and zero blocks, subnormal scales and −0 (so the match means something)', () => {
    let ties = 0, zeroScales = 0, subnormalScales = 0, negativeZeros = 0, positiveMins = 0;
    for (const t of q4Tensors) {
      t.values.forEach((v, i) => {
        const s = t.scales![i >> 5];
        if (s > 0 && Math.abs(Math.fround(Math.fround(v - t.mins![i >> 5]) / s) % 1) === 0.5) ties++;
        if (Object.is(v, -0)) negativeZeros++;
      });
      zeroScales += t.scales!.filter((s) => s === 0).length;
      subnormalScales += t.scales!.filter((s) => s > 0 && s < 2 ** -126).length;
      positiveMins += t.mins!.filter((m) => m > 0).length;
      assert.ok(!t.mins!.some((m) => Object.is(m, -0)) && !t.scales!.some((s) => Object.is(s, -0)), `${t.name}: −0 normalized to +0`);
    }
    assert.ok(ties > 100 && zeroScales > 10 && subnormalScales > 5 && negativeZeros > 3 && positiveMins > 10,
      `${ties} ties, ${zeroScales} zero scales, ${subnormalScales} subnormal scales, ${negativeZeros} −0 inputs, ${positiveMins} positive mins`);
  });

  it('quantizeQ4 refuses non-finite values, spans past f32 and columns not in blocks of 32', () => {
    assert.throws(() => quantizeQ4(new Float32Array(32).fill(NaN), 1, 32), /finite/);
    assert.throws(() => quantizeQ4(Float32Array.from({ length: 32 }, (_, i) => (i ? 3e38 : -3e38)), 1, 32), /spans more than f32/);
    assert.throws(() => quantizeQ4(new Float32Array(16), 1, 16), /blocks of 32/);
  });
});

describe('weights.bin q4_32 rejections (named errors naming the file and tensor)', () => {
  const entry = (name: string) => (t: { tensors: { name: string; offset: number; bytes: number; dtype: string }[] }) => t.tensors.find((e) => e.name === name)!;

  it('q4_32 in a version-1 file', async () => {
    const v1 = Buffer.from(goldenBytes);
    v1.writeUInt32LE(1, 4);
    await rejects(v1, ModelFormatUnsupportedError, /version 1 with tensor embed of dtype "q4_32"/);
  });
  it('a version other than 1 or 2', async () => {
    const v3 = Buffer.from(goldenBytes);
    v3.writeUInt32LE(3, 4);
    await rejects(v3, ModelFormatUnsupportedError, /format version 3.*reads version 1 or 2/);
  });
  it('q4_32 where the manifest says q8_32', () => rejects(goldenBytes, ModelFileCorruptError, /tensor embed is q4_32, but the manifest's quantization is q8_32/, manifestFor(g.architecture)));
  it('bytes of q8_32 for a q4_32 tensor', () => rejects(withTable(goldenBytes, (t) => { const e = entry('layers.0.qkv')(t); e.bytes = e.bytes * 3 / 2; }), ModelFileCorruptError, /tensor layers\.0\.qkv has 3456 bytes, \[96,32\] q4_32 needs 2304/));
  it('a q4_32 tensor that ends past the file', () => rejects(withTable(goldenBytes, (t) => { entry('layers.0.ffn_gate')(t).offset = t.fileBytes - 64; }), ModelFileCorruptError, /truncated: tensor layers\.0\.ffn_gate ends at \d+, past the end/));

  it('a NaN q4 scale, an infinite q4 min: readTensorInto names the tensor and the block', async () => {
    const h = await header(goldenBytes);
    const qkv = h.tensors.get('layers.0.qkv')!;
    const out = h.tensors.get('layers.0.out')!;
    const bad = Buffer.from(goldenBytes);
    bad.writeFloatLE(NaN, qkv.offset + q4Layout(96, 32).scales + 4 * 7); // scale 7
    bad.writeFloatLE(Infinity, out.offset + q4Layout(32, 32).mins + 4 * 2); // min 2
    await withFile(await tempFile(bad), async (file) => {
      await assert.rejects(readTensorInto(file, 'weights.bin', qkv, new Uint8Array(qkv.bytes)),
        (e: unknown) => e instanceof ModelFileCorruptError && /weights\.bin.*tensor layers\.0\.qkv: scale 7 is NaN/.test((e as Error).message));
      await assert.rejects(readTensorInto(file, 'weights.bin', out, new Uint8Array(out.bytes)),
        (e: unknown) => e instanceof ModelFileCorruptError && /tensor layers\.0\.out: min 2 is Infinity/.test((e as Error).message));
    });
  });
});
