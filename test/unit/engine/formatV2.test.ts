// weights.bin (models/FORMAT.md §W, §Q): the golden written by the Python writer read back exactly,
// quantizeQ8 byte-identical with the Python quantizer on the golden's values (ties, zeros, f16
// scales rounded every way on purpose), and every rejection the spec lists, each a named error.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ModelFileCorruptError, ModelFormatUnsupportedError } from '../../../src/engine/errors';
import type { Architecture } from '../../../src/engine/manifest';
import { f16Round, roundHalfEven } from '../../../src/engine/weights/q8';
import { dequantizeQ8, quantizeQ8, readTensorInto, readWeightsHeader, type WeightsHeader } from '../../../src/engine/weights/weightsFile';
import { goldenDir, manifestFor, readGoldenBytes, tempFile, withFile, withTable, withTableText } from '../../helpers/formatV2';

interface GoldenTensor { name: string; dtype: 'f32' | 'q8_32'; shape: number[]; offset: number; bytes: number; values: number[]; quants?: number[]; scales?: number[] }
const golden: { weights: { file: string; bytes: number; dataStart: number; architecture: Architecture; tensors: GoldenTensor[] } } =
  JSON.parse(fs.readFileSync(path.join(goldenDir, 'q8-golden.json'), 'utf8'));
const g = golden.weights;
const manifest = manifestFor(g.architecture);
const goldenBytes = readGoldenBytes(g.file);

async function header(bytes: Uint8Array, m = manifest): Promise<WeightsHeader> {
  return withFile(await tempFile(bytes), (h) => readWeightsHeader(h, 'weights.bin', m));
}
async function rejects(bytes: Uint8Array, error: new (...a: never[]) => Error, message: RegExp, m = manifest): Promise<void> {
  await assert.rejects(header(bytes, m), (e: unknown) => e instanceof error && message.test((e as Error).message) && /weights\.bin/.test((e as Error).message));
}

describe('weights.bin golden (written by models/pipeline/golden_q8.py)', () => {
  it('reads the header and tensor table exactly', async () => {
    const h = await header(goldenBytes);
    assert.equal(h.fileBytes, g.bytes);
    assert.equal(h.dataStart, g.dataStart);
    assert.deepEqual([...h.tensors.keys()], g.tensors.map((t) => t.name));
    for (const t of g.tensors) assert.deepEqual(h.tensors.get(t.name), { name: t.name, dtype: t.dtype, shape: t.shape, offset: t.offset, bytes: t.bytes });
  });

  it('reads every tensor back as stored, and quantizeQ8 of the input values gives the same bytes', async () => {
    await withFile(path.join(goldenDir, g.file), async (file) => {
      const h = await readWeightsHeader(file, 'weights.bin', manifest);
      for (const t of g.tensors) {
        const bytes = new Uint8Array(t.bytes);
        await readTensorInto(file, 'weights.bin', h.tensors.get(t.name)!, bytes);
        if (t.dtype === 'f32') {
          assert.deepEqual([...new Float32Array(bytes.buffer)], t.values, t.name);
          continue;
        }
        const [rows, cols] = t.shape;
        const n = rows * cols;
        assert.deepEqual([...new Int8Array(bytes.buffer, 0, n)], t.quants, `${t.name} quants`);
        assert.deepEqual([...new Float32Array(bytes.buffer, n)], t.scales, `${t.name} scales`);
        assert.deepEqual(quantizeQ8(Float32Array.from(t.values), rows, cols), bytes, `${t.name}: quantizeQ8 matches the Python writer byte for byte`);
        const values = dequantizeQ8(bytes, rows, cols);
        for (let i = 0; i < n; i++) assert.equal(values[i], Math.fround(t.quants![i] * t.scales![Math.floor(i / 32)]));
      }
    });
  });

  it('the golden\'s scales are f16 values and exercise ties, zero blocks, f16-subnormal scales, rounding up and down, clamping and 65504', () => {
    let ties = 0, zeroScales = 0, subnormalScales = 0, roundedUp = 0, roundedDown = 0, largest = 0, clamped = 0;
    for (const t of g.tensors.filter((x) => x.dtype === 'q8_32')) {
      t.scales!.forEach((s, b) => {
        assert.equal(f16Round(s), s, `${t.name} block ${b}: scale ${s} is not an f16 value`);
        const block = t.values.slice(32 * b, 32 * b + 32);
        const raw = Math.fround(Math.max(...block.map(Math.abs)) / 127);
        if (s > raw) roundedUp++;
        if (s > 0 && s < raw) roundedDown++;
        for (const v of block) {
          if (s > 0 && Math.abs(Math.fround(v / s) % 1) === 0.5) ties++;
          if (s > 0 && Math.abs(Math.fround(v / s)) > 127.5) clamped++;
        }
      });
      zeroScales += t.scales!.filter((s) => s === 0).length;
      subnormalScales += t.scales!.filter((s) => s > 0 && s < 2 ** -14).length;
      largest += t.scales!.filter((s) => s === 65504).length;
    }
    const counts = { ties, zeroScales, subnormalScales, roundedUp, roundedDown, largest, clamped };
    assert.ok(ties > 100 && zeroScales > 10 && subnormalScales > 10 && roundedUp > 10 && roundedDown > 10 && largest > 10 && clamped > 10, JSON.stringify(counts));
  });
});

describe('q8_32 helpers', () => {
  it('roundHalfEven rounds ties to even, like np.rint', () => {
    assert.deepEqual([-3.5, -2.5, -0.5, 0.5, 1.5, 2.5, 2.4, -2.6, 126.5, -127.5, 190.5].map(roundHalfEven), [-4, -2, 0, 0, 2, 2, 2, -3, 126, -128, 190]);
  });
  it('quantizeQ8 refuses non-finite values and columns not in blocks of 32', () => {
    assert.throws(() => quantizeQ8(new Float32Array(32).fill(NaN), 1, 32), /finite/);
    assert.throws(() => quantizeQ8(new Float32Array(16), 1, 16), /blocks of 32/);
  });
  it('quantizeQ8 refuses a scale past f16\'s largest value (max |w| ≥ 127 · 65520); just below it, the scale is 65504', () => {
    const values = new Float32Array(64).fill(1);
    values[40] = -127 * 65520;
    assert.throws(() => quantizeQ8(values, 1, 64), (e: unknown) => e instanceof RangeError && /block 1 exceeds f16's largest value 65504 \(max \|w\| 8321040/.test((e as Error).message));
    values[40] = Math.fround(127 * 65520 - 0.5);
    assert.equal(new Float32Array(quantizeQ8(values, 1, 64).buffer, 64)[1], 65504);
  });
  it('f16Round gives the nearest f16 value, ties to even, subnormals included, Infinity past 65504', () => {
    const cases: [number, number][] = [
      [0, 0], [1, 1], [1 + 2 ** -11, 1], [1 + 3 * 2 ** -11, 1 + 2 ** -9], [1 + 2 ** -10, 1 + 2 ** -10],
      [Math.fround(0.1), 0.0999755859375], [2 ** -14, 2 ** -14], [2 ** -14 - 2 ** -25, 2 ** -14], [2 ** -14 - 3 * 2 ** -25, 2 ** -14 - 2 ** -23],
      [5.4 * 2 ** -24, 5 * 2 ** -24], [2 ** -25, 0], [1.01 * 2 ** -25, 2 ** -24], [3 * 2 ** -25, 2 ** -23],
      [65504, 65504], [65519.99, 65504], [65520, Infinity],
    ];
    for (const [x, want] of cases) assert.equal(f16Round(x), want, `f16Round(${x})`);
  });
  it('never writes −128, and round-trips within half a scale', () => {
    const values = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 1.7) * (i < 32 ? 1 : 1e-3));
    const bytes = quantizeQ8(values, 2, 32);
    assert.ok(!new Int8Array(bytes.buffer, 0, 64).includes(-128));
    const back = dequantizeQ8(bytes, 2, 32);
    const scales = new Float32Array(bytes.buffer, 64);
    values.forEach((v, i) => assert.ok(Math.abs(v - back[i]) <= scales[Math.floor(i / 32)] / 2 * 1.0001));
  });
  it('dequantizeQ8 reads a buffer at any byte offset (scales unaligned)', () => {
    const bytes = quantizeQ8(Float32Array.from({ length: 64 }, (_, i) => i - 20.5), 2, 32);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    assert.deepEqual(dequantizeQ8(shifted.subarray(1), 2, 32), dequantizeQ8(bytes, 2, 32));
  });
});

describe('weights.bin rejections (named errors naming the file and tensor)', () => {
  const set = (b: Buffer, at: number, u32: number) => { const c = Buffer.from(b); c.writeUInt32LE(u32, at); return c; };
  const entry = (name: string) => (t: { tensors: { name: string }[] }) => t.tensors.find((e) => e.name === name) as { offset: number; bytes: number; shape: number[]; dtype: string; name: string };

  it('wrong magic', () => rejects(Buffer.concat([Buffer.from('FCWX'), goldenBytes.subarray(4)]), ModelFileCorruptError, /bad magic "FCWX"/));
  it('another version', () => rejects(set(goldenBytes, 4, 3), ModelFormatUnsupportedError, /format version 3/));
  it('a file shorter than the fixed header', () => rejects(goldenBytes.subarray(0, 8), ModelFileCorruptError, /truncated/));
  it('a table that ends past the file', () => rejects(set(goldenBytes, 8, goldenBytes.length), ModelFileCorruptError, /truncated/));
  it('invalid JSON', () => rejects(withTableText(goldenBytes, '{"fileBytes": 7872, "tensors": ['), ModelFileCorruptError, /not valid JSON/));
  it('a truncated file', () => rejects(goldenBytes.subarray(0, goldenBytes.length - 64), ModelFileCorruptError, /truncated: 7808 of 7872/));
  it('a file longer than fileBytes', () => rejects(Buffer.concat([goldenBytes, Buffer.alloc(64)]), ModelFileCorruptError, /7936 bytes, its table says 7872/));
  it('an unknown dtype', () => rejects(withTable(goldenBytes, (t) => { entry('final_norm')(t).dtype = 'f16'; }), ModelFormatUnsupportedError, /final_norm of dtype "f16"/));
  it('a missing tensor', () => rejects(withTable(goldenBytes, (t) => { t.tensors = t.tensors.filter((e) => e.name !== 'layers.0.ffn_norm'); }), ModelFileCorruptError, /tensor layers\.0\.ffn_norm is missing/));
  it('an unexpected tensor', () => rejects(withTable(goldenBytes, (t) => { entry('head_bias')(t).name = 'head_bias2'; }), ModelFileCorruptError, /tensor head_bias2 is unexpected/));
  it('a tensor listed twice', () => rejects(withTable(goldenBytes, (t) => { entry('head_bias')(t).name = 'final_norm'; }), ModelFileCorruptError, /final_norm is listed twice/));
  it('head in a tied model, qkv_bias without attentionBias, ffn_gate in a ReLU model', async () => {
    const a = g.architecture;
    await rejects(goldenBytes, ModelFileCorruptError, /tensor head is unexpected/, manifestFor({ ...a, tiedEmbeddings: true }));
    await rejects(goldenBytes, ModelFileCorruptError, /tensor layers\.0\.qkv_bias is unexpected/, manifestFor({ ...a, attentionBias: false }));
    await rejects(goldenBytes, ModelFileCorruptError, /tensor layers\.0\.ffn_gate is unexpected/, manifestFor({ ...a, ffnActivation: 'relu' }));
  });
  it('a shape that contradicts the architecture', async () => {
    await rejects(goldenBytes, ModelFileCorruptError, /tensor embed has shape \[4,32\], the manifest's architecture needs \[5,32\]/, manifestFor({ ...g.architecture, vocabSize: 5 }));
    await rejects(goldenBytes, ModelFileCorruptError, /tensor layers\.0\.qkv has shape \[96,32\].*needs \[128,32\]/, manifestFor({ ...g.architecture, kvHeads: 1, heads: 2, headDim: 32 }));
  });
  it('a dtype other than the spec\'s', () => rejects(withTable(goldenBytes, (t) => { const e = entry('embed')(t); e.dtype = 'f32'; e.bytes = 4 * 128; }), ModelFileCorruptError, /tensor embed is f32, the format says q8_32/));
  it('bytes that contradict the shape', () => rejects(withTable(goldenBytes, (t) => { entry('final_norm')(t).bytes += 4; }), ModelFileCorruptError, /tensor final_norm has 132 bytes.*needs 128/));
  it('an unaligned offset', () => rejects(withTable(goldenBytes, (t) => { entry('head_bias')(t).offset += 4; }), ModelFileCorruptError, /tensor head_bias at offset \d+ is unaligned/));
  it('an offset inside the header', () => rejects(withTable(goldenBytes, (t) => { entry('embed')(t).offset = 0; }), ModelFileCorruptError, /tensor embed at offset 0 is unaligned or inside the header/));
  it('overlapping tensors', () => rejects(withTable(goldenBytes, (t) => { entry('head')(t).offset = entry('embed')(t).offset + 64; }), ModelFileCorruptError, /tensor head overlaps tensor embed|tensor head_bias overlaps tensor head/));
  it('a tensor past the end', () => rejects(withTable(goldenBytes, (t) => { entry('layers.0.ffn_gate')(t).offset = t.fileBytes - 64; }), ModelFileCorruptError, /truncated: tensor layers\.0\.ffn_gate ends at \d+, past the end/));

  it('a NaN q8 scale, an infinite f32 value: readTensorInto names the tensor', async () => {
    const h = await header(goldenBytes);
    const qkv = h.tensors.get('layers.0.qkv')!;
    const norm = h.tensors.get('final_norm')!;
    const bad = Buffer.from(goldenBytes);
    bad.writeFloatLE(NaN, qkv.offset + 96 * 32 + 4 * 7); // scale 7
    bad.writeFloatLE(-Infinity, norm.offset + 4 * 3); // value 3
    await withFile(await tempFile(bad), async (file) => {
      await assert.rejects(readTensorInto(file, 'weights.bin', qkv, new Uint8Array(qkv.bytes)),
        (e: unknown) => e instanceof ModelFileCorruptError && /weights\.bin.*tensor layers\.0\.qkv: scale 7 is NaN/.test((e as Error).message));
      await assert.rejects(readTensorInto(file, 'weights.bin', norm, new Uint8Array(norm.bytes)),
        (e: unknown) => e instanceof ModelFileCorruptError && /tensor final_norm: value 3 is -Infinity/.test((e as Error).message));
    });
  });
});
