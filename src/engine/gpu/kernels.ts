// The WGSL kernels of a format-v2 forward pass (modelGpu.ts runs them in data-flow order). Each
// does the arithmetic of its WebAssembly counterpart in kernels.wat operation for operation —
// activations quantized to i16 per 32 (quantizeI16), per block the exact integer sum of int8
// weights × i16 activations, then acc += f32(sum) · (weight scale · activation scale); the f64
// steps in pairs of f32 — so that on llvmpipe the logits are WASM's bit for bit (a rounding that
// differs moves a quant, and 30 layers make that 0.1 in the logits).
// One invocation per output value and no workgroup memory or barriers: llvmpipe (the CI adapter)
// aborted or hung on a matrix-vector shader with workgroup memory (../shared/DESIGN.md §5).

export const WORKGROUP = 64;

/** Every kernel's first binding: what changes per chunk (written once before it runs). */
const PRELUDE = /* wgsl */ `
struct Step {
  T: u32,        // tokens in this chunk
  pos0: u32,     // position of its first token
  outRows: u32,  // rows whose logits are computed (the last outRows tokens)
  firstRow: u32, // T - outRows
}
@group(0) @binding(0) var<uniform> step: Step;
fn flat(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * ${WORKGROUP}u; }
// x itself, through a value the compiler cannot prove is 0 (a chunk has T < 65,536 tokens):
// llvmpipe reassociates a float sum with a constant in it ((a + b) + 1 → a + (b + 1): other bits)
// and would fold the exact error terms below away; keep() holds each rounding where it is written.
fn keep(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) ^ (step.T >> 16u)); }
// The f64 steps of the WASM kernels (RMSNorm, RoPE, the KV cache's quantization) as an unevaluated
// sum hi + lo of two f32 (WGSL has no f64; ~48 bits, so the f32 each result is rounded to is
// WASM's but within ~2^-24 of a tie), each rounding error computed exactly: Knuth's two-sum,
// Dekker's product (WGSL's fma need not be fused, and on llvmpipe is not).
fn twoSum(a: f32, b: f32) -> vec2f { let s = keep(a + b); let bb = keep(s - a); return vec2f(s, keep(a - keep(s - bb)) + keep(b - bb)); }
fn quickSum(a: f32, b: f32) -> vec2f { let s = keep(a + b); return vec2f(s, keep(b - keep(s - a))); }
fn halves(a: f32) -> vec2f { let c = keep(4097.0 * a); let hi = keep(c - keep(c - a)); return vec2f(hi, keep(a - hi)); }
fn twoProd(a: f32, b: f32) -> vec2f {
  let p = keep(a * b); let x = halves(a); let y = halves(b);
  return vec2f(p, keep(keep(keep(keep(x.x * y.x) - p) + keep(x.x * y.y)) + keep(x.y * y.x)) + keep(x.y * y.y));
}
fn dAdd(a: vec2f, b: vec2f) -> vec2f { let s = twoSum(a.x, b.x); return quickSum(s.x, keep(s.y + keep(a.y + b.y))); }
fn dMul(a: vec2f, b: f32) -> vec2f { let p = twoProd(a.x, b); return quickSum(p.x, keep(p.y + keep(a.y * b))); }
fn dDiv(a: vec2f, b: f32) -> vec2f { let q = keep(a.x / b); let r = dAdd(a, -twoProd(q, b)); return quickSum(q, keep(r.x / b)); }
fn dSqrt(a: vec2f) -> vec2f { let x = sqrt(a.x); let r = dAdd(a, -twoProd(x, x)); return quickSum(x, keep(r.x / keep(2.0 * x))); }
fn dInverse(a: vec2f) -> vec2f { let q = keep(1.0 / a.x); let r = dAdd(vec2f(1.0, 0.0), -dMul(a, q)); return quickSum(q, keep(r.x / a.x)); }
// the f32 nearest hi + lo
fn dRound(a: vec2f) -> f32 { return keep(a.x + a.y); }
// e^x as kernels.wat's exp4 computes it (Cephes' expf): Vulkan lets exp() be off by 3 + 2|x| ulp
// (GPUs' fast exp2 is), where softmax and SiLU should agree with the WASM kernels.
fn cexp(x0: f32) -> f32 {
  let x = max(x0, -88.3762626647949);
  let n = floor(x * 1.44269504088896341 + 0.5);
  let r = (x - n * 0.693359375) - n * -2.12194440e-4;
  var e = 1.9875691500e-4;
  e = e * r + 1.3981999507e-3;
  e = e * r + 8.3334519073e-3;
  e = e * r + 4.1665795894e-2;
  e = e * r + 1.6666665459e-1;
  e = e * r + 5.0000001201e-1;
  e = keep(e * (r * r) + r) + 1.0;
  return e * bitcast<f32>((i32(n) + 127) << 23u);
}
// int8 number k (0…3) of a little-endian word, sign-extended; all four
fn i8of(w: u32, k: u32) -> i32 { return (bitcast<i32>(w << (24u - 8u * k))) >> 24u; }
fn unpack(w: u32) -> vec4i { return vec4i(i8of(w, 0u), i8of(w, 1u), i8of(w, 2u), i8of(w, 3u)); }
// an FFN activation: 0 SiLU (as kernels.wat's swiglu and gateSelect compute it), 1 ReLU (0 < v ? v : 0,
// gateSelect's and JavaScript's), 2 squared ReLU
fn activation(kind: u32, v: f32) -> f32 {
  if (kind == 0u) { return v / (1.0 + cexp(min(-v, 88.0))); }
  let r = select(0.0, v, v > 0.0);
  return select(r, r * r, kind == 2u);
}
`;

const ENTRY = `@compute @workgroup_size(${WORKGROUP}) fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u)`;

// Panel layout (panels.ts): panel p = rows 4p…4p+3, block b of it 34 words — 4 rows × 8 words of
// int8 quants, then the 4 rows' scales as f16, two a word (unpack2x16float: exact).
const PANEL_WORDS = 34;

export const KERNELS = {
  /** hidden [T][d] = the embedding rows of ids, dequantized. */
  embed: /* wgsl */ `
struct P { d: u32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read> W: array<u32>; // panels [V][d]
@group(0) @binding(4) var<storage, read_write> hidden: array<f32>;
${ENTRY} {
  let i = flat(gid, nwg);
  if (i >= step.T * p.d) { return; }
  let t = i / p.d; let c = i % p.d;
  let row = ids[t]; let lane = row & 3u; let b = c >> 5u; let k = c & 31u;
  let base = ((row >> 2u) * (p.d >> 5u) + b) * ${PANEL_WORDS}u;
  let q = i8of(W[base + lane * 8u + (k >> 2u)], k & 3u);
  hidden[i] = f32(q) * unpack2x16float(W[base + 32u + (lane >> 1u)])[lane & 1u];
}`,

  /** embed's q4_32 form: value = q · scale + min of its block (dequantRowInto). W: nibbles
   *  [V][d/2] u8 (byte k of a block: value k low, value k + 16 high), scales from word scalesAt,
   *  mins from word minsAt, [V][d/32] f32 each. */
  embedQ4: /* wgsl */ `
struct P { d: u32, scalesAt: u32, minsAt: u32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read> W: array<u32>;
@group(0) @binding(4) var<storage, read_write> hidden: array<f32>;
${ENTRY} {
  let i = flat(gid, nwg);
  if (i >= step.T * p.d) { return; }
  let t = i / p.d; let c = i % p.d;
  let row = ids[t]; let k = c & 31u;
  let block = row * (p.d >> 5u) + (c >> 5u);
  let byte = block * 16u + (k & 15u);
  let q = (W[byte >> 2u] >> (8u * (byte & 3u) + 4u * (k >> 4u))) & 15u;
  hidden[i] = f32(q) * bitcast<f32>(W[p.scalesAt + block]) + bitcast<f32>(W[p.minsAt + block]);
}`,

  /** RMSNorm(hidden rows) · weight, quantized as the quantize kernel does, straight into qx and sx
   *  (only the matmuls after a norm read it): an invocation per row and block of 32, each summing
   *  its row's squares again — cheaper than a dispatch more. Every token's row, or (last = 1) the
   *  last outRows. */
  normQuantize: /* wgsl */ `
struct P { d: u32, last: u32, eps: f32, epsLo: f32 } // eps as an f64: eps + epsLo
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read> hidden: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read_write> qx: array<i32>;
@group(0) @binding(5) var<storage, read_write> sx: array<f32>;
${ENTRY} {
  let i = flat(gid, nwg);
  let rows = select(step.T, step.outRows, p.last == 1u);
  let nb = p.d >> 5u;
  if (i >= rows * nb) { return; }
  let r = i / nb; let b = i % nb;
  let src = select(r, step.firstRow + r, p.last == 1u) * p.d;
  // rmsNorm's f64: Σ squares, 1 / √(Σ / d + eps), then (x · that) · w rounded to f32
  var sum = vec2f(0.0);
  for (var k = 0u; k < p.d; k++) { let v = hidden[src + k]; sum = dAdd(sum, twoProd(v, v)); }
  let inv = dInverse(dSqrt(dAdd(dDiv(sum, f32(p.d)), vec2f(p.eps, p.epsLo))));
  var v: array<f32, 32>;
  var amax = 0.0;
  for (var k = 0u; k < 32u; k++) { let c = b * 32u + k; v[k] = dRound(dMul(dMul(inv, hidden[src + c]), weight[c])); amax = max(amax, abs(v[k])); }
  sx[i] = amax / 32767.0;
  let scale = select(0.0, 32767.0 / amax, amax > 0.0);
  for (var k = 0u; k < 32u; k++) { qx[r * p.d + b * 32u + k] = i32(round(v[k] * scale)); }
}`,

  /** qx (i16 values in i32) and sx [T][n/32] from x [T][n]: quantizeI16's arithmetic. */
  quantize: /* wgsl */ `
struct P { n: u32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> qx: array<i32>;
@group(0) @binding(4) var<storage, read_write> sx: array<f32>;
${ENTRY} {
  let i = flat(gid, nwg);
  if (i >= step.T * (p.n >> 5u)) { return; }
  let at = i * 32u;
  var amax = 0.0;
  for (var k = 0u; k < 32u; k++) { amax = max(amax, abs(x[at + k])); }
  sx[i] = amax / 32767.0;
  let inv = select(0.0, 32767.0 / amax, amax > 0.0);
  for (var k = 0u; k < 32u; k++) { qx[at + k] = i32(round(x[at + k] * inv)); }
}`,

  /** out [rows][n] (= or +=) W [n][d] (panels) · x [rows][d] (quantized): an invocation per panel
   *  and four tokens, each weight word loaded once for them. */
  matmul: /* wgsl */ `
struct P { n: u32, d: u32, accumulate: u32, last: u32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read> W: array<u32>;
@group(0) @binding(3) var<storage, read> qx: array<i32>;
@group(0) @binding(4) var<storage, read> sx: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
${ENTRY} {
  let i = flat(gid, nwg);
  let rows = select(step.T, step.outRows, p.last == 1u);
  let panels = (p.n + 3u) / 4u;
  if (i >= ((rows + 3u) / 4u) * panels) { return; }
  let t0 = (i / panels) * 4u; let panel = i % panels;
  let tokens = min(4u, rows - t0);
  let nb = p.d >> 5u;
  var acc = array<vec4f, 4>(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  for (var b = 0u; b < nb; b++) {
    let base = (panel * nb + b) * ${PANEL_WORDS}u;
    var sums = array<vec4i, 4>(vec4i(0), vec4i(0), vec4i(0), vec4i(0));
    for (var k = 0u; k < 8u; k++) {
      let w0 = unpack(W[base + k]); let w1 = unpack(W[base + 8u + k]);
      let w2 = unpack(W[base + 16u + k]); let w3 = unpack(W[base + 24u + k]);
      for (var u = 0u; u < tokens; u++) {
        let xq = (t0 + u) * p.d + b * 32u + 4u * k;
        let x = vec4i(qx[xq], qx[xq + 1u], qx[xq + 2u], qx[xq + 3u]);
        sums[u] += vec4i(dot(w0, x), dot(w1, x), dot(w2, x), dot(w3, x));
      }
    }
    let scales = vec4f(unpack2x16float(W[base + 32u]), unpack2x16float(W[base + 33u]));
    for (var u = 0u; u < tokens; u++) { acc[u] += vec4f(sums[u]) * (scales * sx[(t0 + u) * nb + b]); }
  }
  for (var u = 0u; u < tokens; u++) {
    for (var lane = 0u; lane < 4u; lane++) {
      let r = panel * 4u + lane;
      if (r >= p.n) { break; }
      let o = (t0 + u) * p.n + r;
      if (p.accumulate == 1u) { out[o] += acc[u][lane]; } else { out[o] = acc[u][lane]; }
    }
  }
}`,

  /** matmul for a q4_32 W [n][d] (W as embedQ4 reads it) with matmulQ4's arithmetic: per row,
   *  token and block the exact integer dots of the nibbles with the i16 activations in four lanes
   *  (value k in lane (k >> 1) & 3, as its i32x4.dot_i16x8_s sums them), acc += f32(lanes) ·
   *  (scale · xs), and c += min · (xs · f32(Σ qx)); out = the lanes summed as matmulQ4 does (its
   *  four-row loop and its tail for the last n mod 4 rows differ) + c. An invocation per row and
   *  four tokens, each weight word loaded once for them. */
  matmulQ4: /* wgsl */ `
struct P { n: u32, d: u32, accumulate: u32, last: u32, scalesAt: u32, minsAt: u32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read> W: array<u32>;
@group(0) @binding(3) var<storage, read> qx: array<i32>;
@group(0) @binding(4) var<storage, read> sx: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
fn lo(w: u32) -> vec4i { return vec4i(i32(w & 15u), i32((w >> 8u) & 15u), i32((w >> 16u) & 15u), i32((w >> 24u) & 15u)); }
fn hi(w: u32) -> vec4i { return vec4i(i32((w >> 4u) & 15u), i32((w >> 12u) & 15u), i32((w >> 20u) & 15u), i32(w >> 28u)); }
${ENTRY} {
  let i = flat(gid, nwg);
  let rows = select(step.T, step.outRows, p.last == 1u);
  if (i >= ((rows + 3u) / 4u) * p.n) { return; }
  let t0 = (i / p.n) * 4u; let r = i % p.n;
  let tokens = min(4u, rows - t0);
  let nb = p.d >> 5u;
  var acc = array<vec4f, 4>(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  var c = vec4f(0.0);
  for (var b = 0u; b < nb; b++) {
    let block = r * nb + b;
    let scale = bitcast<f32>(W[p.scalesAt + block]); let m = bitcast<f32>(W[p.minsAt + block]);
    let w0 = W[block * 4u]; let w1 = W[block * 4u + 1u]; let w2 = W[block * 4u + 2u]; let w3 = W[block * 4u + 3u];
    for (var u = 0u; u < tokens; u++) {
      let xq = (t0 + u) * p.d + b * 32u;
      var lanes = vec4i(0);
      var xsum = 0;
      for (var k = 0u; k < 4u; k++) {
        let w = select(select(w3, w2, k == 2u), select(w1, w0, k == 0u), k < 2u);
        let xl = vec4i(qx[xq + 4u * k], qx[xq + 4u * k + 1u], qx[xq + 4u * k + 2u], qx[xq + 4u * k + 3u]);
        let xh = vec4i(qx[xq + 16u + 4u * k], qx[xq + 17u + 4u * k], qx[xq + 18u + 4u * k], qx[xq + 19u + 4u * k]);
        let d = lo(w) * xl + hi(w) * xh;
        if ((k & 1u) == 0u) { lanes += vec4i(d.x + d.y, d.z + d.w, 0, 0); } else { lanes += vec4i(0, 0, d.x + d.y, d.z + d.w); }
        xsum += (xl.x + xl.y) + (xl.z + xl.w) + (xh.x + xh.y) + (xh.z + xh.w);
      }
      let xs = sx[(t0 + u) * nb + b];
      acc[u] += vec4f(lanes) * (scale * xs);
      c[u] += m * (xs * f32(xsum));
    }
  }
  let four = r < (p.n & ~3u);
  for (var u = 0u; u < tokens; u++) {
    let a = acc[u];
    let y = select(c[u] + ((a.x + a.y) + (a.z + a.w)), ((a.x + a.z) + (a.y + a.w)) + c[u], four);
    let o = (t0 + u) * p.n + r;
    if (p.accumulate == 1u) { out[o] += y; } else { out[o] = y; }
  }
}`,

  /** qkv [T][(H + 2·Hkv)·hd]: + bias, RoPE on queries and keys; each query scaled, then quantized to
   *  i16 with one scale for its head into qx [T][H·hd] and sx [T][H] (attendQ8's quantizeRowI16);
   *  each key and value row stored at its position in the int8 KV cache as WASM's qkvPost does:
   *  quants [layers][2][Hkv][capacity][hd] int8, four a word, then their f32 scales (max|row| / 127)
   *  from word scalesAt. */
  qkvPost: /* wgsl */ `
struct P { H: u32, Hkv: u32, hd: u32, capacity: u32, layer: u32, bias: u32, scale: f32, scalesAt: u32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read_write> qkv: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> rope: array<f32>; // [capacity][hd/2] cos, then the same of sin
@group(0) @binding(5) var<storage, read_write> kv: array<u32>;
@group(0) @binding(6) var<storage, read_write> qx: array<i32>;
@group(0) @binding(7) var<storage, read_write> sx: array<f32>;
${ENTRY} {
  let i = flat(gid, nwg);
  let heads = p.H + 2u * p.Hkv;
  if (i >= step.T * heads) { return; }
  let t = i / heads; let h = i % heads;
  let at = (t * heads + h) * p.hd;
  let pos = step.pos0 + t;
  if (p.bias == 1u) { for (var k = 0u; k < p.hd; k++) { qkv[at + k] += bias[h * p.hd + k]; } }
  if (h < p.H + p.Hkv) {
    let half = p.hd / 2u;
    let sines = p.capacity * half;
    for (var k = 0u; k < half; k++) {
      let c = rope[pos * half + k]; let s = rope[sines + pos * half + k];
      let a = qkv[at + k]; let b = qkv[at + k + half];
      qkv[at + k] = dRound(dAdd(twoProd(a, c), -twoProd(b, s))); // in f64 as WASM's, then f32
      qkv[at + k + half] = dRound(dAdd(twoProd(b, c), twoProd(a, s)));
    }
  }
  var amax = 0.0;
  if (h < p.H) {
    for (var k = 0u; k < p.hd; k++) { let v = qkv[at + k] * p.scale; qkv[at + k] = v; amax = max(amax, abs(v)); }
    let th = t * p.H + h;
    sx[th] = amax / 32767.0;
    let inv = select(0.0, 32767.0 / amax, amax > 0.0);
    for (var k = 0u; k < p.hd; k++) { qx[th * p.hd + k] = clamp(i32(round(qkv[at + k] * inv)), -32768, 32767); }
    return;
  }
  let g = h - p.H; let kind = g / p.Hkv; let group = g % p.Hkv;
  let row = ((p.layer * 2u + kind) * p.Hkv + group) * p.capacity + pos;
  for (var k = 0u; k < p.hd; k++) { amax = max(amax, abs(qkv[at + k])); }
  kv[p.scalesAt + row] = bitcast<u32>(amax / 127.0);
  let inv = select(vec2f(0.0), dDiv(vec2f(127.0, 0.0), amax), amax > 0.0); // f64 in WASM's, as the products
  let words = p.hd / 4u;
  for (var w = 0u; w < words; w++) {
    var word = 0u;
    for (var b = 0u; b < 4u; b++) {
      // roundHalfUp: the nearest integer, halves up (WGSL's round() takes halves to even)
      let x = dMul(inv, qkv[at + 4u * w + b]); let f = floor(x.x);
      let q = i32(f) + select(0, 1, keep(x.x - f) + x.y >= 0.5);
      word |= (bitcast<u32>(q) & 255u) << (8u * b);
    }
    kv[row * words + w] = word;
  }
}`,

  /** Attention in three steps, each spread over as many invocations as it has independent sums
   *  (a decode token has only H heads: one invocation per head left a GPU idle at long contexts),
   *  with attendQ8's arithmetic. scores [T][H][capacity]: the exact integer dot of the i16 query of
   *  (t, h) with the int8 key at position s ≤ pos0 + t, times (query scale · key scale). */
  scores: /* wgsl */ `
struct P { H: u32, Hkv: u32, hd: u32, capacity: u32, layer: u32, scalesAt: u32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read> qx: array<i32>;
@group(0) @binding(3) var<storage, read> sx: array<f32>;
@group(0) @binding(4) var<storage, read> kv: array<u32>;
@group(0) @binding(5) var<storage, read_write> scores: array<f32>;
${ENTRY} {
  let i = flat(gid, nwg);
  let S = step.pos0 + step.T; // positions the last token sees
  if (i >= step.T * p.H * S) { return; }
  let s = i % S; let th = i / S; let t = th / p.H; let h = th % p.H;
  if (s > step.pos0 + t) { return; }
  let group = h / (p.H / p.Hkv);
  let q = th * p.hd;
  let row = ((p.layer * 2u) * p.Hkv + group) * p.capacity + s;
  let words = p.hd / 4u;
  var dot = 0;
  for (var w = 0u; w < words; w++) {
    let k = kv[row * words + w]; let x = q + 4u * w;
    dot += qx[x] * i8of(k, 0u) + qx[x + 1u] * i8of(k, 1u) + qx[x + 2u] * i8of(k, 2u) + qx[x + 3u] * i8of(k, 3u);
  }
  scores[th * p.capacity + s] = f32(dot) * (sx[th] * bitcast<f32>(kv[p.scalesAt + row]));
}`,

  /** scores of (t, h) over positions 0…pos0 + t → their softmax, in place: kernels.wat's softmax,
   *  its sum in four lanes (position mod 4) and the tail after them. */
  softmax: /* wgsl */ `
struct P { H: u32, capacity: u32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read_write> scores: array<f32>;
${ENTRY} {
  let th = flat(gid, nwg);
  if (th >= step.T * p.H) { return; }
  let S = step.pos0 + th / p.H + 1u;
  let S4 = S & ~3u;
  let sc = th * p.capacity;
  var m = -3.4e38;
  for (var s = 0u; s < S; s++) { m = max(m, scores[sc + s]); }
  var lanes = vec4f(0.0);
  for (var s = 0u; s < S4; s++) { let e = cexp(scores[sc + s] - m); scores[sc + s] = e; lanes[s & 3u] += e; }
  var total = (lanes.x + lanes.y) + (lanes.z + lanes.w);
  for (var s = S4; s < S; s++) { let e = cexp(scores[sc + s] - m); scores[sc + s] = e; total += e; }
  let inv = 1.0 / total;
  for (var s = 0u; s < S; s++) { scores[sc + s] *= inv; }
}`,

  /** ctx [T][H·hd]: value k of (t, h) = Σ over positions of (softmax · value scale) · int8 value. */
  mix: /* wgsl */ `
struct P { H: u32, Hkv: u32, hd: u32, capacity: u32, layer: u32, scalesAt: u32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read> kv: array<u32>;
@group(0) @binding(3) var<storage, read> scores: array<f32>;
@group(0) @binding(4) var<storage, read_write> ctx: array<f32>;
${ENTRY} {
  let i = flat(gid, nwg);
  if (i >= step.T * p.H * p.hd) { return; }
  let k = i % p.hd; let th = i / p.hd; let t = th / p.H; let h = th % p.H;
  let group = h / (p.H / p.Hkv);
  let values = ((p.layer * 2u + 1u) * p.Hkv + group) * p.capacity;
  let words = p.hd / 4u;
  let S = step.pos0 + t + 1u;
  let sc = th * p.capacity;
  var y = 0.0;
  for (var s = 0u; s < S; s++) {
    let w = scores[sc + s] * bitcast<f32>(kv[p.scalesAt + values + s]);
    y += w * f32(i8of(kv[(values + s) * words + (k >> 2u)], k & 3u));
  }
  ctx[i] = y;
}`,

  /** Gated: up[i] ·= act(gate[i]) (silu: SwiGLU); ungated: up[i] = act(up[i]). act: 0 silu, 1 relu,
   *  2 squared relu. */
  activate: /* wgsl */ `
struct P { F: u32, act: u32, gated: u32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read> gate: array<f32>;
@group(0) @binding(3) var<storage, read_write> up: array<f32>;
${ENTRY} {
  let i = flat(gid, nwg);
  if (i >= step.T * p.F) { return; }
  if (p.gated == 1u) { up[i] *= activation(p.act, gate[i]); } else { up[i] = activation(p.act, up[i]); }
}`,

  /** downQ8's first half: z[j] = h[j] · sT[b][j] for token t, output block b, quantized per 32
   *  neurons jb: zq [F/32][T·nb][32], zs [F/32][T·nb]. */
  downPrep: /* wgsl */ `
struct P { F: u32, d: u32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read> h: array<f32>;      // [T][F]
@group(0) @binding(3) var<storage, read> scalesT: array<u32>; // [d/32][F] f16, two a word
fn scaleT(i: u32) -> f32 { return unpack2x16float(scalesT[i >> 1u])[i & 1u]; }
@group(0) @binding(4) var<storage, read_write> zq: array<i32>;
@group(0) @binding(5) var<storage, read_write> zs: array<f32>;
${ENTRY} {
  let i = flat(gid, nwg);
  let nb = p.d >> 5u; let rows = step.T * nb;
  if (i >= rows * (p.F >> 5u)) { return; }
  let jb = i / rows; let row = i % rows; let t = row / nb; let b = row % nb;
  var amax = 0.0;
  for (var k = 0u; k < 32u; k++) { let j = jb * 32u + k; amax = max(amax, abs(h[t * p.F + j] * scaleT(b * p.F + j))); }
  zs[i] = amax / 32767.0;
  let inv = select(0.0, 32767.0 / amax, amax > 0.0);
  for (var k = 0u; k < 32u; k++) { let j = jb * 32u + k; zq[i * 32u + k] = i32(round(h[t * p.F + j] * scaleT(b * p.F + j) * inv)); }
}`,

  /** downQ8's second half: hidden [T][d] += Σ over neurons of zq · D, D the neuron columns int8
   *  [F][d] in the WASM side's down-block layout (neuron j's output o at (j/32)·32·d + (o/32)·1024
   *  + (j mod 32)·32 + o mod 32), per 32 neurons an exact integer sum (a zero z adds nothing, so its
   *  column is not read: sparse decode's skipped neurons); an invocation per token and four outputs
   *  (one word of each column). */
  down: /* wgsl */ `
struct P { F: u32, d: u32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read> D: array<u32>;
@group(0) @binding(3) var<storage, read> zq: array<i32>;
@group(0) @binding(4) var<storage, read> zs: array<f32>;
@group(0) @binding(5) var<storage, read_write> hidden: array<f32>;
${ENTRY} {
  let i = flat(gid, nwg);
  let quads = p.d / 4u;
  if (i >= step.T * quads) { return; }
  let t = i / quads; let o = (i % quads) * 4u;
  let nb = p.d >> 5u; let rows = step.T * nb; let row = t * nb + (o >> 5u);
  var acc = vec4f(0.0);
  for (var jb = 0u; jb < (p.F >> 5u); jb++) {
    let z = (jb * rows + row) * 32u;
    var sum = vec4i(0);
    for (var k = 0u; k < 32u; k++) {
      let q = zq[z + k];
      if (q == 0) { continue; } // a neuron sparseUp skipped (h = 0): its column is never read
      sum += q * unpack(D[(jb * 32u * p.d + (o >> 5u) * 1024u + k * 32u + (o & 31u)) >> 2u]);
    }
    acc += vec4f(sum) * zs[jb * rows + row];
  }
  let at = t * p.d + o;
  hidden[at] += acc.x; hidden[at + 1u] += acc.y; hidden[at + 2u] += acc.z; hidden[at + 3u] += acc.w;
}`,

  /** The sparse FFN's up rows at decode (T = 1), with gateSelect's and gatherUpQ8's arithmetic: an
   *  invocation per neuron j; a = act(gate[j]) (0 silu, 1 relu, 2 squared relu); a neuron with
   *  |a| ≤ threshold (the layer's, rounded down to f32: the same choice as gateSelect's f64
   *  compare) is skipped, h[j] = 0, its row never read; else h[j] = (up row j · x) · a, up in panels. */
  sparseUp: /* wgsl */ `
struct P { F: u32, d: u32, act: u32, threshold: f32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read> gate: array<f32>;
@group(0) @binding(3) var<storage, read> W: array<u32>;
@group(0) @binding(4) var<storage, read> qx: array<i32>;
@group(0) @binding(5) var<storage, read> sx: array<f32>;
@group(0) @binding(6) var<storage, read_write> h: array<f32>;
${ENTRY} {
  let j = flat(gid, nwg);
  if (j >= p.F || step.T != 1u) { return; }
  let a = activation(p.act, gate[j]);
  if (!(abs(a) > p.threshold)) { h[j] = 0.0; return; }
  let nb = p.d >> 5u; let lane = j & 3u;
  var acc = 0.0;
  for (var b = 0u; b < nb; b++) {
    let base = ((j >> 2u) * nb + b) * ${PANEL_WORDS}u;
    var sum = 0;
    for (var k = 0u; k < 8u; k++) {
      let x = b * 32u + 4u * k;
      sum += dot(unpack(W[base + lane * 8u + k]), vec4i(qx[x], qx[x + 1u], qx[x + 2u], qx[x + 3u]));
    }
    acc += f32(sum) * (unpack2x16float(W[base + 32u + (lane >> 1u)])[lane & 1u] * sx[b]);
  }
  h[j] = acc * a;
}`,

  /** A matrix in the row layout (FORMAT.md §Q: quants [n][d] int8, then scales [n][d/32] f32 from
   *  word scalesAt; ffn.bin's records, split: a flash layer's up rows streamed for a prompt): out
   *  [T][n] = W · x, matmul's arithmetic per row. An invocation per row and four tokens. */
  matmulRows: /* wgsl */ `
struct P { n: u32, d: u32, scalesAt: u32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read> W: array<u32>;
@group(0) @binding(3) var<storage, read> qx: array<i32>;
@group(0) @binding(4) var<storage, read> sx: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
${ENTRY} {
  let i = flat(gid, nwg);
  if (i >= ((step.T + 3u) / 4u) * p.n) { return; }
  let t0 = (i / p.n) * 4u; let r = i % p.n;
  let tokens = min(4u, step.T - t0);
  let nb = p.d >> 5u;
  var acc = vec4f(0.0);
  for (var b = 0u; b < nb; b++) {
    let scale = bitcast<f32>(W[p.scalesAt + r * nb + b]);
    for (var u = 0u; u < tokens; u++) {
      var sum = 0;
      for (var k = 0u; k < 8u; k++) {
        let x = (t0 + u) * p.d + b * 32u + 4u * k;
        sum += dot(unpack(W[(r * p.d + b * 32u) / 4u + k]), vec4i(qx[x], qx[x + 1u], qx[x + 2u], qx[x + 3u]));
      }
      acc[u] += f32(sum) * (scale * sx[(t0 + u) * nb + b]);
    }
  }
  for (var u = 0u; u < tokens; u++) { out[(t0 + u) * p.n + r] = acc[u]; }
}`,

  /** A flash layer's choice at decode, for the CPU to read back: a[j] = act(gate[j]) where
   *  |a| > threshold, else 0 (sparseUp's choice and activation). */
  gateActivations: /* wgsl */ `
struct P { F: u32, act: u32, threshold: f32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read> gate: array<f32>;
@group(0) @binding(3) var<storage, read_write> a: array<f32>;
${ENTRY} {
  let j = flat(gid, nwg);
  if (j >= p.F || step.T != 1u) { return; }
  let v = activation(p.act, gate[j]);
  a[j] = select(0.0, v, abs(v) > p.threshold);
}`,

  /** A flash layer's kept neurons at decode, a turn of k ≤ capacity of them (the neuron cache's
   *  slots: turn[i] the slot of the i-th, turn[capacity + i] its activation as f32 bits):
   *  h[i] = (up row · x) · a, gatherUpQ8's arithmetic on the cache's rows (row layout: quants
   *  [capacity][d], then scales [capacity][d/32] f32 from word upScalesAt). */
  flashUp: /* wgsl */ `
struct P { d: u32, capacity: u32, upScalesAt: u32 }
struct K { k: u32, first: u32, last: u32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<uniform> turn: K;
@group(0) @binding(3) var<storage, read> slots: array<u32>;
@group(0) @binding(4) var<storage, read> cache: array<u32>;
@group(0) @binding(5) var<storage, read> qx: array<i32>;
@group(0) @binding(6) var<storage, read> sx: array<f32>;
@group(0) @binding(7) var<storage, read_write> h: array<f32>;
${ENTRY} {
  let i = flat(gid, nwg);
  if (i >= turn.k || step.T != 1u) { return; }
  let slot = slots[i];
  let nb = p.d >> 5u;
  var acc = 0.0;
  for (var b = 0u; b < nb; b++) {
    var sum = 0;
    for (var k = 0u; k < 8u; k++) {
      let x = b * 32u + 4u * k;
      sum += dot(unpack(cache[(slot * p.d + b * 32u) / 4u + k]), vec4i(qx[x], qx[x + 1u], qx[x + 2u], qx[x + 3u]));
    }
    acc += f32(sum) * (bitcast<f32>(cache[p.upScalesAt + slot * nb + b]) * sx[b]);
  }
  h[i] = acc * bitcast<f32>(slots[p.capacity + i]);
}`,

  /** The turn's down columns, with sparseDownQ8's arithmetic (the row layout of the cache's down rows
   *  from word downAt, their scales [capacity][d/32] f32 from word downScalesAt; turn[2·capacity + i]
   *  the i-th kept neuron's id): per group of one id / 32, z = h · scale quantized to i16 over the
   *  group (downPrep's steps), its exact integer sum, y += f32(sum) · zs. y = (the first turn: 0, else
   *  y) + the groups in order; the last turn adds y into hidden. An invocation per four outputs. */
  flashDown: /* wgsl */ `
struct P { d: u32, capacity: u32, downAt: u32, downScalesAt: u32 }
struct K { k: u32, first: u32, last: u32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<uniform> turn: K;
@group(0) @binding(3) var<storage, read> slots: array<u32>;
@group(0) @binding(4) var<storage, read> cache: array<u32>;
@group(0) @binding(5) var<storage, read> h: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;
@group(0) @binding(7) var<storage, read_write> hidden: array<f32>;
fn z(n: u32, b: u32, nb: u32) -> f32 { return h[n] * bitcast<f32>(cache[p.downScalesAt + slots[n] * nb + b]); }
${ENTRY} {
  let i = flat(gid, nwg);
  if (i >= p.d / 4u || step.T != 1u) { return; }
  let o = i * 4u; let b = o >> 5u; let nb = p.d >> 5u;
  var acc = select(vec4f(y[o], y[o + 1u], y[o + 2u], y[o + 3u]), vec4f(0.0), turn.first == 1u);
  var n = 0u;
  while (n < turn.k) {
    let group = slots[2u * p.capacity + n] >> 5u;
    var e = n;
    var amax = 0.0;
    while (e < turn.k && slots[2u * p.capacity + e] >> 5u == group) { amax = max(amax, abs(z(e, b, nb))); e++; }
    let inv = select(0.0, 32767.0 / amax, amax > 0.0);
    var sum = vec4i(0);
    for (var m = n; m < e; m++) {
      sum += i32(round(z(m, b, nb) * inv)) * unpack(cache[p.downAt + (slots[m] * p.d + o) / 4u]);
    }
    acc += vec4f(sum) * (amax / 32767.0);
    n = e;
  }
  if (turn.last == 1u) {
    hidden[o] += acc.x; hidden[o + 1u] += acc.y; hidden[o + 2u] += acc.z; hidden[o + 3u] += acc.w;
  } else {
    y[o] = acc.x; y[o + 1u] = acc.y; y[o + 2u] = acc.z; y[o + 3u] = acc.w;
  }
}`,

  /** logits [outRows][V] += bias. */
  addBias: /* wgsl */ `
struct P { n: u32 }
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${ENTRY} {
  let i = flat(gid, nwg);
  if (i >= step.outRows * p.n) { return; }
  out[i] += bias[i % p.n];
}`,
} as const;

export type KernelName = keyof typeof KERNELS;

export function kernelSource(name: KernelName): string {
  return PRELUDE + KERNELS[name];
}
