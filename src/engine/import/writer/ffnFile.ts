// ffn.bin version 3 (models/FORMAT.md v2 §F) for silu models: flags 0 (the gate lives in
// weights.bin), dtype 3 = q8_32, record j = [up row j int8[d] | down column j int8[d] | up scales
// f32[d/32] | down scales f32[d/32]], one 4 KiB-aligned section per layer.
import fs from 'node:fs';
import { CheckpointCorruptError } from '../errors';
import { quantizeRowQ8, UnquantizableWeightError } from './q8';

export const FFN_VERSION_Q8 = 3;
export const FFN_DTYPE_Q8_32 = 3;
const ALIGN = 4096;
const HEADER_FIXED = 64;
const PARTS = 2;

const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export interface FfnPlan {
  header: Buffer;
  layerOffsets: number[];
  recordBytes: number;
  fileBytes: number;
}

export function planFfn(layers: number, dModel: number, ffnSize: number): FfnPlan {
  const recordBytes = (PARTS * dModel * 9) / 8;
  const headerBytes = HEADER_FIXED + 16 * layers;
  const layerOffsets: number[] = [];
  let cursor = align(headerBytes);
  for (let l = 0; l < layers; l++) {
    layerOffsets.push(cursor);
    cursor = align(cursor + ffnSize * recordBytes);
  }
  const header = Buffer.alloc(headerBytes);
  header.write('FCFF', 0, 'ascii');
  [FFN_VERSION_Q8, headerBytes, layers, dModel, ffnSize, FFN_DTYPE_Q8_32, 0, recordBytes, ALIGN].forEach((v, i) => header.writeUInt32LE(v, 4 + 4 * i));
  header.writeBigUInt64LE(BigInt(cursor), 40);
  layerOffsets.forEach((offset, l) => {
    header.writeBigUInt64LE(BigInt(offset), HEADER_FIXED + 16 * l);
    header.writeBigUInt64LE(BigInt(ffnSize * recordBytes), HEADER_FIXED + 16 * l + 8);
  });
  return { header, layerOffsets, recordBytes, fileBytes: cursor };
}

/** Writes layer `l`'s section: `up` [ffnSize][d] and `down` [d][ffnSize] (f32, row-major). */
export function writeFfnLayer(fd: number, plan: FfnPlan, l: number, up: Float32Array, down: Float32Array, d: number, ffnSize: number): void {
  const section = Buffer.alloc(ffnSize * plan.recordBytes);
  const column = new Float32Array(d);
  const quants = new Int8Array(section.buffer, section.byteOffset, section.length);
  const scales = new Float32Array(PARTS * d / 32);
  const scaleBytes = new Uint8Array(scales.buffer);
  for (let j = 0; j < ffnSize; j++) {
    const at = j * plan.recordBytes;
    for (let i = 0; i < d; i++) column[i] = down[i * ffnSize + j];
    try {
      quantizeRowQ8(up, j * d, d, quants, at, scales, 0);
      quantizeRowQ8(column, 0, d, quants, at + d, scales, d / 32);
    } catch (e) {
      if (e instanceof UnquantizableWeightError) throw new CheckpointCorruptError(`layers.${l}.ffn`, `${e.what} in neuron ${j}`);
      throw e;
    }
    section.set(scaleBytes, at + PARTS * d);
  }
  fs.writeSync(fd, section, 0, section.length, plan.layerOffsets[l]);
}
