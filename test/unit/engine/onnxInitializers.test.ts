// Reading float32 initializers out of ONNX bytes: both ways ONNX stores floats (raw_data, packed
// float_data), packed and unpacked dims, fields it skips, and named errors for what it cannot read.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ModelFileCorruptError } from '../../../src/engine/errors';
import { readInitializers } from '../../../src/engine/weights/onnxInitializers';
import { fixtureModelDir } from '../../helpers/fixture';

// A minimal protobuf writer: enough to build ModelProto { graph { initializer … } } by hand.
const varint = (n: number): number[] => { const out = []; while (n >= 0x80) { out.push((n % 128) | 0x80); n = Math.floor(n / 128); } out.push(n); return out; };
const bytesField = (field: number, bytes: Uint8Array | number[]): number[] => [...varint(field * 8 + 2), ...varint(bytes.length), ...bytes];
const intField = (field: number, n: number): number[] => [...varint(field * 8), ...varint(n)];
const floatBytes = (values: number[]): number[] => [...new Uint8Array(Float32Array.from(values).buffer)];
const text = (s: string): number[] => [...new TextEncoder().encode(s)];
const model = (...tensors: number[][]): Uint8Array =>
  Uint8Array.from([...intField(1, 8), ...bytesField(7, [...bytesField(2, text('g')), ...tensors.flatMap((t) => bytesField(5, t))])]);

describe('ONNX initializers', () => {
  it('reads raw_data and packed float_data tensors, with packed or unpacked dims, and skips the rest', () => {
    const raw = [...intField(1, 2), ...intField(1, 3), ...intField(2, 1), ...bytesField(8, text('w')), ...bytesField(9, floatBytes([1, 2, 3, 4, 5, 6]))];
    const packed = [...bytesField(1, [2]), ...intField(2, 1), ...bytesField(4, floatBytes([0.5, -0.5])), ...bytesField(8, text('b'))];
    const other = [...intField(1, 1), ...intField(2, 7), ...bytesField(8, text('shape')), ...bytesField(9, [1, 0, 0, 0, 0, 0, 0, 0])]; // int64, not asked for
    const found = readInitializers(model(other, raw, packed), { w: [2, 3], b: [2] }, 'x.onnx');
    assert.deepEqual(found.get('w')!.dims, [2, 3]);
    assert.deepEqual([...found.get('w')!.data], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(found.get('b')!.dims, [2]);
    assert.deepEqual([...found.get('b')!.data], [0.5, -0.5]);
  });

  it('reads the fixture graphs\' weights with the dims the manifest implies', () => {
    const bytes = fs.readFileSync(path.join(fixtureModelDir, 'attn.0.onnx'));
    const w = readInitializers(bytes, { wq_t: [64, 64], wk_t: [64, 32], 'rope.inv_freq': [8] }, 'attn.0.onnx');
    assert.deepEqual(w.get('wq_t')!.dims, [64, 64]);
    assert.deepEqual(w.get('wk_t')!.dims, [64, 32]);
    assert.equal(w.get('rope.inv_freq')!.data[0], 1);
  });

  it('names the file and what is wrong: a missing name, other dims, a non-float tensor, data that does not match its dims, a cut file', () => {
    const corrupt = (bytes: Uint8Array, shapes: Record<string, number[]>, what: RegExp) =>
      assert.throws(() => readInitializers(bytes, shapes, 'attn.3.onnx'), (e: unknown) => e instanceof ModelFileCorruptError && /attn\.3\.onnx/.test((e as Error).message) && what.test((e as Error).message));
    const w = [...intField(1, 2), ...intField(2, 1), ...bytesField(8, text('w')), ...bytesField(9, floatBytes([1, 2]))];
    corrupt(model(w), { w: [2], v: [1] }, /no initializer v/);
    corrupt(model(w), { w: [1, 2] }, /w has dims \[2\], the manifest's architecture needs \[1, 2\]/);
    corrupt(model([...intField(1, 1), ...intField(2, 7), ...bytesField(8, text('w')), ...bytesField(9, [0, 0, 0, 0, 0, 0, 0, 0])]), { w: [1] }, /w is not float32/);
    corrupt(model([...intField(1, 3), ...intField(2, 1), ...bytesField(8, text('w')), ...bytesField(9, floatBytes([1, 2]))]), { w: [3] }, /2 values for dims \[3\]/);
    const real = fs.readFileSync(path.join(fixtureModelDir, 'attn.0.onnx'));
    corrupt(real.subarray(0, real.length - 1000), { wq_t: [64, 64] }, /runs past the end/);
    corrupt(Uint8Array.from(intField(1, 8)), { wq_t: [64, 64] }, /holds no graph/);
  });
});
