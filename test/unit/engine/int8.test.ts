// int8 record decoding (models/FORMAT.md §3, dtype 2): signed bytes × an f32 scale read at any offset.
import assert from 'node:assert/strict';
import { decodeInt8Into, readFloat32LE } from '../../../src/engine/weights/int8';

describe('int8 decoding', () => {
  it('decodes every byte as a signed value times the scale, rounded to f32, at any offset', () => {
    const src = new Uint8Array(259);
    for (let b = 0; b < 256; b++) src[3 + b] = b;
    const dst = new Float32Array(260).fill(NaN);
    const scale = Math.fround(1 / 127);
    decodeInt8Into(src, 3, 256, scale, dst, 2);
    for (let b = 0; b < 256; b++) assert.equal(dst[2 + b], Math.fround((b < 128 ? b : b - 256) * scale), `byte ${b}`);
    assert.ok(Number.isNaN(dst[1]) && Number.isNaN(dst[258]), 'writes only count values');
    decodeInt8Into(src, 3, 4, 0, dst, 0);
    assert.deepEqual(Array.from(dst.subarray(0, 4)), [0, 0, 0, 0]);
  });

  it('reads a little-endian f32 at an unaligned offset', () => {
    const buf = Buffer.alloc(11);
    buf.writeFloatLE(0.15625, 1);
    buf.writeFloatLE(-3.5e-5, 6);
    assert.equal(readFloat32LE(buf, 1), 0.15625);
    assert.equal(readFloat32LE(buf, 6), Math.fround(-3.5e-5));
  });
});
