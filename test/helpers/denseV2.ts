// A plain, slow f64 forward pass of a format-v2 directory, read through the TypeScript readers
// (weightsFile.ts, ffnFile.ts) and written from models/FORMAT.md §W alone: the oracle that ties
// the readers' view of weights.bin/ffn.bin to the NumPy reference's golden (tiny-v2-reference.json).
import fs from 'node:fs/promises';
import type { ManifestV2 } from '../../src/engine/manifestV2';
import type { ModelDir } from '../../src/engine/modelDir';
import { readFfnHeader, readFfnLayer, type FfnLayerWeights } from '../../src/engine/weights/ffnFile';
import { dequantizeQ4, dequantizeQ8, readTensorInto, readWeightsHeader } from '../../src/engine/weights/weightsFile';

type Mat = { rows: number; cols: number; v: Float32Array };

async function loadWeights(dir: ModelDir, m: ManifestV2): Promise<{ w: Map<string, Mat>; ffn: FfnLayerWeights[] }> {
  const w = new Map<string, Mat>();
  const file = await fs.open(dir.file(m.weights.file), 'r');
  try {
    const h = await readWeightsHeader(file, m.weights.file, m);
    for (const t of h.tensors.values()) {
      const bytes = new Uint8Array(t.bytes);
      await readTensorInto(file, m.weights.file, t, bytes);
      const [rows, cols] = t.shape.length === 2 ? t.shape : [1, t.shape[0]];
      w.set(t.name, { rows, cols, v: t.dtype === 'f32' ? new Float32Array(bytes.buffer) : t.dtype === 'q8_32' ? dequantizeQ8(bytes, rows, cols) : dequantizeQ4(bytes, rows, cols) });
    }
  } finally {
    await file.close();
  }
  const ffnFile = await fs.open(dir.file(m.ffn.file), 'r');
  try {
    const h = await readFfnHeader(ffnFile, m.ffn.file);
    const ffn = [];
    for (let l = 0; l < h.layers; l++) ffn.push(await readFfnLayer(ffnFile, h, l));
    return { w, ffn };
  } finally {
    await ffnFile.close();
  }
}

/** rows of `m` · x (m is [rows][cols] row-major, x [cols]). */
function matVec(m: Float32Array, rows: number, cols: number, x: number[]): number[] {
  const out = new Array<number>(rows).fill(0);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r] += m[r * cols + c] * x[c];
  return out;
}

function rmsNorm(x: number[], g: Float32Array, eps: number): number[] {
  const scale = 1 / Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length + eps);
  return x.map((v, i) => v * scale * g[i]);
}

/** The last position's logits after running `ids` from an empty cache. */
export async function denseV2Logits(dir: ModelDir, m: ManifestV2, ids: number[]): Promise<number[]> {
  const { w, ffn } = await loadWeights(dir, m);
  const a = m.architecture;
  const { heads: H, kvHeads: Hkv, headDim: hd, dModel: d, ffnSize: F } = a;
  const get = (name: string) => w.get(name)!.v;
  const theta = Array.from({ length: hd / 2 }, (_, i) => Math.fround(a.ropeTheta ** (-2 * i / hd)));
  const rope = (v: number[], p: number) => v.map((x, i) => {
    const k = i % (hd / 2), c = Math.cos(p * theta[k]), s = Math.sin(p * theta[k]);
    return i < hd / 2 ? x * c - v[i + hd / 2] * s : x * c + v[i - hd / 2] * s;
  });
  let hs = ids.map((t) => Array.from(get('embed').subarray(t * d, (t + 1) * d)));
  for (let l = 0; l < a.layers; l++) {
    const keys: number[][][] = [], vals: number[][][] = [];
    hs = hs.map((h, p) => {
      let qkv = matVec(get(`layers.${l}.qkv`), (H + 2 * Hkv) * hd, d, rmsNorm(h, get(`layers.${l}.attn_norm`), a.normEps));
      if (a.attentionBias) qkv = qkv.map((v, i) => v + get(`layers.${l}.qkv_bias`)[i]);
      const head = (i: number) => qkv.slice(i * hd, (i + 1) * hd);
      keys.push(Array.from({ length: Hkv }, (_, j) => rope(head(H + j), p)));
      vals.push(Array.from({ length: Hkv }, (_, j) => head(H + Hkv + j)));
      const ctx: number[] = [];
      for (let i = 0; i < H; i++) {
        const q = rope(head(i), p), kv = Math.floor(i / (H / Hkv));
        const scores = keys.map((k) => k[kv].reduce((s, x, c) => s + x * q[c], 0) / Math.sqrt(hd));
        const max = Math.max(...scores), e = scores.map((s) => Math.exp(s - max)), sum = e.reduce((s, x) => s + x, 0);
        for (let c = 0; c < hd; c++) ctx.push(vals.reduce((s, v, t) => s + (e[t] / sum) * v[kv][c], 0));
      }
      const o = matVec(get(`layers.${l}.out`), d, H * hd, ctx);
      const h2 = h.map((x, i) => x + o[i]);
      const x = rmsNorm(h2, get(`layers.${l}.ffn_norm`), a.normEps);
      const up = matVec(ffn[l].up, F, d, x);
      const gate = a.ffnActivation === 'silu' ? matVec(get(`layers.${l}.ffn_gate`), F, d, x) : matVec(ffn[l].gate!, F, d, x);
      const act = gate.map((g, j) => {
        if (a.ffnActivation === 'silu') return g / (1 + Math.exp(-g)) * up[j];
        const r = Math.max(g, 0);
        return (a.ffnActivation === 'squared_relu' ? r * r : r) * up[j];
      });
      return h2.map((v, i) => v + act.reduce((s, hj, j) => s + hj * ffn[l].down[j * d + i], 0)); // record j holds down column j
    });
  }
  const x = rmsNorm(hs[hs.length - 1], get('final_norm'), a.normEps);
  const logits = matVec(a.tiedEmbeddings ? get('embed') : get('head'), a.vocabSize, d, x);
  const bias = w.get('head_bias');
  return bias ? logits.map((v, i) => v + bias.v[i]) : logits;
}
