// A v1 model directory (ONNX initializers + ffn.bin) seen as a v2 TensorSource, each matrix
// quantized to q8_32 as FORMAT.md §Q says: so the v2 forward pass can be checked against the v1
// engine on the same model.
import fs from 'node:fs/promises';
import type { ManifestV1 } from '../../src/engine/manifest';
import type { ModelDir } from '../../src/engine/modelDir';
import { readFfnHeader, readFfnLayer } from '../../src/engine/weights/ffnFile';
import { readInitializers } from '../../src/engine/weights/onnxInitializers';
import { quantizeQ8 } from '../../src/engine/weights/weightsFile';
import type { TensorSource } from '../../src/engine/v2/weightsV2';

function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let o = 0; o < cols; o++) out[o * rows + i] = src[i * cols + o];
  return out;
}

export async function v1AsV2(dir: ModelDir): Promise<TensorSource> {
  const m = dir.manifest as ManifestV1;
  const a = m.architecture;
  const { dModel: d, heads: H, kvHeads: Hkv, headDim: hd, vocabSize: V, ffnSize: F } = a;
  const tensors = new Map<string, Uint8Array>();
  const f32 = (name: string, v: Float32Array) => tensors.set(name, new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)));
  const q8 = (name: string, v: Float32Array, rows: number, cols: number) => tensors.set(name, quantizeQ8(v, rows, cols));
  const head = readInitializers(await fs.readFile(dir.file(m.graphs.head)), { 'final_norm.weight': [d], lm_head_t: [d, V], logit_bias: [V] }, m.graphs.head);
  f32('final_norm', head.get('final_norm.weight')!.data);
  f32('head_bias', head.get('logit_bias')!.data);
  const headRows = transpose(head.get('lm_head_t')!.data, d, V);
  if (a.tiedEmbeddings) q8('embed', headRows, V, d);
  else {
    q8('head', headRows, V, d);
    const embed = readInitializers(await fs.readFile(dir.file(m.graphs.embed)), { 'embed.weight': [V, d] }, m.graphs.embed);
    q8('embed', embed.get('embed.weight')!.data, V, d);
  }
  for (const [l, name] of m.graphs.attention.entries()) {
    const w = readInitializers(await fs.readFile(dir.file(name)), {
      'attn_norm.weight': [d], wq_t: [d, H * hd], wk_t: [d, Hkv * hd], wv_t: [d, Hkv * hd], wo_t: [H * hd, d], 'ffn_norm.weight': [d],
    }, name);
    const get = (n: string) => w.get(n)!.data;
    const qkv = new Float32Array((H + 2 * Hkv) * hd * d);
    qkv.set(transpose(get('wq_t'), d, H * hd), 0);
    qkv.set(transpose(get('wk_t'), d, Hkv * hd), H * hd * d);
    qkv.set(transpose(get('wv_t'), d, Hkv * hd), (H + Hkv) * hd * d);
    f32(`layers.${l}.attn_norm`, get('attn_norm.weight'));
    q8(`layers.${l}.qkv`, qkv, (H + 2 * Hkv) * hd, d);
    q8(`layers.${l}.out`, transpose(get('wo_t'), H * hd, d), d, H * hd);
    f32(`layers.${l}.ffn_norm`, get('ffn_norm.weight'));
  }
  const file = await fs.open(dir.file(m.ffn.file), 'r');
  const header = await readFfnHeader(file);
  const parts = header.gated ? 3 : 2;
  const ffn: Uint8Array[] = [];
  for (let l = 0; l < a.layers; l++) {
    const w = await readFfnLayer(file, header, l);
    const mats = [...(w.gate ? [w.gate] : []), w.up, w.down].map((x) => quantizeQ8(x, F, d));
    const recordBytes = (parts * d * 9) / 8;
    const records = new Uint8Array(F * recordBytes);
    for (let j = 0; j < F; j++) {
      for (const [p, q] of mats.entries()) {
        records.set(q.subarray(j * d, (j + 1) * d), j * recordBytes + p * d);
        records.set(q.subarray(F * d + j * (d / 8), F * d + (j + 1) * (d / 8)), j * recordBytes + parts * d + p * (d / 8));
      }
    }
    ffn.push(records);
  }
  await file.close();
  return {
    has: (name) => tensors.has(name),
    read: async (name, dst) => {
      const t = tensors.get(name);
      if (!t || t.length !== dst.length) throw new Error(`tensor ${name}: ${t?.length} bytes for ${dst.length}`);
      dst.set(t);
    },
    ffnLayer: async (l) => ffn[l],
    ffnGatedRecords: header.gated,
  };
}
