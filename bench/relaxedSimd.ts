// npm run -s bench:relaxed-simd
// Would relaxed SIMD's 8-bit dot product beat the kernels' 16-bit one? i32x4.relaxed_dot_i8x16_i7x16_add_s
// multiplies signed bytes by bytes in 0…127 (outside that range the result is left to the CPU), so
// activations must become 7-bit and offset by 64 (x7 + 64), the offset's share subtracted per block
// (64 · Σ the block's weights, a side array of i32x4 per panel block). This builds that kernel over
// the production panel layout, two tokens at a time as matmulQ8P goes, and times it against
// matmulQ8P (16-bit activations) at a decoded token (T 1) and a prompt chunk (T 32), both on the
// same hot matrix, SmolLM2's FFN gate shape; and measures each one's error against the f32 product.
// Needs a runtime with relaxed SIMD: node 20 takes --experimental-wasm-relaxed-simd (the npm script
// passes it).
import { performance } from 'node:perf_hooks';
import createWabt from 'wabt';
import { KernelArena } from '../src/engine/wasm/wasmKernels';
import { panelBytes, rowsToPanels } from '../src/engine/v2/panels';
import { dequantizeQ8, quantizeQ8 } from '../src/engine/weights/weightsFile';

const ROWS = 1536, D = 576, NB = D / 32;

const WAT = `(module
  (import "env" "memory" (memory 1 65536 shared))
  ;; out [T][n] = W (q8_32 panels at $w, Σ of each panel block's rows' quants as i32x4 at $ws) · x,
  ;; x as u8 [T][d] (x7 + 64) with scales f32 [T][d/32]; tokens two at a time (T even).
  (func (export "matmulR") (param $w i32) (param $ws i32) (param $n i32) (param $d i32) (param $qx i32) (param $sx i32) (param $T i32) (param $out i32)
    (local $r i32) (local $t i32) (local $nb i32) (local $p i32) (local $end i32) (local $q i32) (local $qs i32) (local $c i32)
    (local $acc v128) (local $accB v128) (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128) (local $xa v128) (local $xb v128) (local $wv v128) (local $sc v128) (local $corr v128)
    (local.set $nb (i32.shr_u (local.get $d) (i32.const 5)))
    (block $panels (loop $panel
      (br_if $panels (i32.ge_u (local.get $r) (local.get $n)))
      (local.set $t (i32.const 0))
      (block $pairs (loop $pair
        (br_if $pairs (i32.ge_u (local.get $t) (local.get $T)))
        (local.set $p (i32.add (local.get $w) (i32.mul (i32.shr_u (local.get $r) (i32.const 2)) (i32.mul (local.get $nb) (i32.const 144)))))
        (local.set $end (i32.add (local.get $p) (i32.mul (local.get $nb) (i32.const 144))))
        (local.set $c (i32.add (local.get $ws) (i32.mul (i32.shr_u (local.get $r) (i32.const 2)) (i32.shl (local.get $nb) (i32.const 4)))))
        (local.set $q (i32.add (local.get $qx) (i32.mul (local.get $t) (local.get $d))))
        (local.set $qs (i32.add (local.get $sx) (i32.mul (local.get $t) (i32.shl (local.get $nb) (i32.const 2)))))
        (local.set $acc (f32x4.splat (f32.const 0)))
        (local.set $accB (f32x4.splat (f32.const 0)))
        (block $blocks (loop $block
          (br_if $blocks (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $xa (v128.load (local.get $q)))
          (local.set $xb (v128.load (i32.add (local.get $q) (local.get $d))))
          (local.set $wv (v128.load (local.get $p)))
          (local.set $r0 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $wv) (local.get $xa) (v128.const i32x4 0 0 0 0)))
          (local.set $b0 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $wv) (local.get $xb) (v128.const i32x4 0 0 0 0)))
          (local.set $wv (v128.load offset=32 (local.get $p)))
          (local.set $r1 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $wv) (local.get $xa) (v128.const i32x4 0 0 0 0)))
          (local.set $b1 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $wv) (local.get $xb) (v128.const i32x4 0 0 0 0)))
          (local.set $wv (v128.load offset=64 (local.get $p)))
          (local.set $r2 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $wv) (local.get $xa) (v128.const i32x4 0 0 0 0)))
          (local.set $b2 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $wv) (local.get $xb) (v128.const i32x4 0 0 0 0)))
          (local.set $wv (v128.load offset=96 (local.get $p)))
          (local.set $r3 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $wv) (local.get $xa) (v128.const i32x4 0 0 0 0)))
          (local.set $b3 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $wv) (local.get $xb) (v128.const i32x4 0 0 0 0)))
          (local.set $xa (v128.load offset=16 (local.get $q)))
          (local.set $xb (v128.load offset=16 (i32.add (local.get $q) (local.get $d))))
          (local.set $wv (v128.load offset=16 (local.get $p)))
          (local.set $r0 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $wv) (local.get $xa) (local.get $r0)))
          (local.set $b0 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $wv) (local.get $xb) (local.get $b0)))
          (local.set $wv (v128.load offset=48 (local.get $p)))
          (local.set $r1 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $wv) (local.get $xa) (local.get $r1)))
          (local.set $b1 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $wv) (local.get $xb) (local.get $b1)))
          (local.set $wv (v128.load offset=80 (local.get $p)))
          (local.set $r2 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $wv) (local.get $xa) (local.get $r2)))
          (local.set $b2 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $wv) (local.get $xb) (local.get $b2)))
          (local.set $wv (v128.load offset=112 (local.get $p)))
          (local.set $r3 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $wv) (local.get $xa) (local.get $r3)))
          (local.set $b3 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $wv) (local.get $xb) (local.get $b3)))
          ${sum4('r')}
          ${sum4('b')}
          (local.set $corr (i32x4.shl (v128.load (local.get $c)) (i32.const 6)))
          (local.set $sc (v128.load offset=128 (local.get $p)))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (local.get $r0) (local.get $corr)))
            (f32x4.mul (local.get $sc) (v128.load32_splat (local.get $qs))))))
          (local.set $accB (f32x4.add (local.get $accB) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (local.get $b0) (local.get $corr)))
            (f32x4.mul (local.get $sc) (v128.load32_splat (i32.add (local.get $qs) (i32.shl (local.get $nb) (i32.const 2))))))))
          (local.set $p (i32.add (local.get $p) (i32.const 144)))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (local.set $q (i32.add (local.get $q) (i32.const 32)))
          (local.set $qs (i32.add (local.get $qs) (i32.const 4)))
          (br $block)))
        (v128.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $n)) (local.get $r)) (i32.const 2))) (local.get $acc))
        (v128.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (i32.add (local.get $t) (i32.const 1)) (local.get $n)) (local.get $r)) (i32.const 2))) (local.get $accB))
        (local.set $t (i32.add (local.get $t) (i32.const 2)))
        (br $pair)))
      (local.set $r (i32.add (local.get $r) (i32.const 4)))
      (br $panel)))))`;

/** The four row sums of one token's block, [Σ$x0, Σ$x1, Σ$x2, Σ$x3], into $x0 (as matmulQ8P). */
function sum4(x: string): string {
  const pair = (a: string, b: string, lanes: string) => `(i8x16.shuffle ${lanes} (local.get $${a}) (local.get $${b}))`;
  const lo = '0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23', hi = '8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31';
  return `(local.set $${x}0 (i32x4.add ${pair(`${x}0`, `${x}1`, lo)} ${pair(`${x}0`, `${x}1`, hi)}))
          (local.set $${x}2 (i32x4.add ${pair(`${x}2`, `${x}3`, lo)} ${pair(`${x}2`, `${x}3`, hi)}))
          (local.set $${x}0 (i32x4.add ${pair(`${x}0`, `${x}2`, '0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27')} ${pair(`${x}0`, `${x}2`, '4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31')}))`;
}

async function main() {
  const wabt = await createWabt();
  const parsed = wabt.parseWat('relaxed.wat', WAT, { simd: true, threads: true, relaxed_simd: true });
  const bytes = parsed.toBinary({}).buffer;
  parsed.destroy();
  let rnd = 7;
  const random = () => ((rnd = (Math.imul(rnd, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  const T = 32;
  const arena = new KernelArena(panelBytes(ROWS, D) + ROWS * NB * 4 + T * D * 12 + T * ROWS * 8 + (1 << 20), { shared: true });
  const relaxed = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: arena.memory } }).exports as unknown as {
    matmulR(w: number, ws: number, n: number, d: number, qx: number, sx: number, T: number, out: number): void;
  };
  const wf = Float32Array.from({ length: ROWS * D }, random);
  const wq = quantizeQ8(wf, ROWS, D), deq = dequantizeQ8(wq, ROWS, D);
  const panels = arena.bytes(panelBytes(ROWS, D));
  panels.view.set(wq);
  rowsToPanels(arena.memory.buffer, panels.ptr, ROWS, D);
  const sums = arena.ints(ROWS * NB); // [panel][block][4 rows]
  const quants = new Int8Array(wq.buffer, wq.byteOffset, ROWS * D);
  for (let r = 0; r < ROWS; r++) for (let b = 0; b < NB; b++) {
    let s = 0;
    for (let i = 0; i < 32; i++) s += quants[r * D + b * 32 + i];
    sums.view[((r >> 2) * NB + b) * 4 + (r & 3)] = s;
  }
  const x = arena.floats(T * D);
  x.view.set(Float32Array.from({ length: T * D }, () => random() * 3));
  const qx16 = arena.bytes(T * D * 2), sx16 = arena.floats(T * NB);
  arena.kernels.quantizeI16(x.ptr, T * D, qx16.ptr, sx16.ptr);
  const qx7 = arena.bytes(T * D), sx7 = arena.floats(T * NB);
  for (let blk = 0; blk < T * NB; blk++) {
    let max = 0;
    for (let i = 0; i < 32; i++) max = Math.max(max, Math.abs(x.view[blk * 32 + i]));
    sx7.view[blk] = max / 63;
    for (let i = 0; i < 32; i++) qx7.view[blk * 32 + i] = (max > 0 ? Math.round((x.view[blk * 32 + i] * 63) / max) : 0) + 64;
  }
  const out16 = arena.floats(T * ROWS), out7 = arena.floats(T * ROWS);
  const best = (fn: () => void, reps: number) => {
    fn();
    let ms = Infinity;
    for (let k = 0; k < 9; k++) {
      const s = performance.now();
      for (let i = 0; i < reps; i++) fn();
      ms = Math.min(ms, (performance.now() - s) / reps);
    }
    return ms;
  };
  const round = (v: number, digits = 3) => Number(v.toFixed(digits));
  const result: Record<string, unknown> = { matrix: [ROWS, D], note: 'hot matrix, best of 9; GMAC/s = rows·d·T / time' };
  for (const tokens of [2, T]) { // the relaxed kernel takes tokens in pairs: 2 is its decode case
    const i16 = best(() => arena.kernels.matmulQ8P(panels.ptr, ROWS, D, qx16.ptr, sx16.ptr, tokens, out16.ptr), tokens === 2 ? 200 : 20);
    const r7 = best(() => relaxed.matmulR(panels.ptr, sums.ptr, ROWS, D, qx7.ptr, sx7.ptr, tokens, out7.ptr), tokens === 2 ? 200 : 20);
    const gmac = (ms: number) => round((ROWS * D * tokens) / ms / 1e6, 2);
    result[`tokens${tokens}`] = { i16GmacS: gmac(i16), relaxed7GmacS: gmac(r7), relaxedSpeedup: round(i16 / r7) };
  }
  // error against the f32 product of the dequantized weights, relative to its RMS
  const err = (out: Float32Array) => {
    let e = 0, ref = 0;
    for (let t = 0; t < T; t++) for (let r = 0; r < ROWS; r++) {
      let exact = 0;
      for (let i = 0; i < D; i++) exact += deq[r * D + i] * x.view[t * D + i];
      e += (out[t * ROWS + r] - exact) ** 2;
      ref += exact ** 2;
    }
    return Math.sqrt(e / ref);
  };
  result.relativeRmsError = { i16: err(out16.view), relaxed7: err(out7.view) };
  process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
}

main().catch((e) => { console.error(e); process.exit(1); });
