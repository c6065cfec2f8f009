;; The engine's hot loops in WebAssembly SIMD (f32x4): the flash path's FFN rows and predictors, and
;; the layer kernels (attention projections, scores and weighted values; the output head). They
;; read weights, neuron caches and the KV cache in place in the memory the engine gives (all
;; addresses are byte offsets into it).
;; Sizes d, r and n must be multiples of 4; the engine uses the JavaScript kernels otherwise.
;; `npm run build:kernels` compiles this file into kernelsWasm.ts (a test checks they agree).
(module
  (import "env" "memory" (memory 1))

  ;; Σ a[i]·b[i] over n floats, 8 at a time in two accumulators (the adds of one do not wait for
  ;; the other's), then the last 4 when n is not a multiple of 8.
  (func $dot (param $a i32) (param $b i32) (param $n i32) (result f32)
    (local $acc v128) (local $acc2 v128) (local $end i32) (local $end8 i32)
    (local.set $acc (f32x4.splat (f32.const 0)))
    (local.set $acc2 (f32x4.splat (f32.const 0)))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end8 (i32.add (local.get $a) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $end8)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
        (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (br $next)))
    (if (i32.lt_u (local.get $a) (local.get $end))
      (then (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))))
    (local.set $acc (f32x4.add (local.get $acc) (local.get $acc2)))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))

  ;; y[i] += h·w[i] over n floats.
  (func $axpy (param $y i32) (param $w i32) (param $h f32) (param $n i32)
    (local $hv v128) (local $end i32)
    (local.set $hv (f32x4.splat (local.get $h)))
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
        (v128.store (local.get $y) (f32x4.add (v128.load (local.get $y)) (f32x4.mul (local.get $hv) (v128.load (local.get $w)))))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (br $next))))

  ;; The FFN of x over rows slots[0…k) (i32 slot numbers): for each, g = gate·x (or up·x when
  ;; gate = 0, a plain FFN); g ≤ 0 contributes nothing; else h = act(g)·(up·x) (gated) or act(g),
  ;; act squaring when squared ≠ 0, and y += h·down. Rows are d floats. The down rows are added four
  ;; at a time (one pass over y), the last few one by one. Returns the non-zero count.
  (func (export "ffnRows")
    (param $gate i32) (param $up i32) (param $down i32) (param $slots i32) (param $k i32)
    (param $d i32) (param $x i32) (param $y i32) (param $squared i32) (result i32)
    (local $i i32) (local $off i32) (local $g f32) (local $h f32) (local $nonZero i32)
    (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $s0 f32) (local $s1 f32) (local $s2 f32) (local $held i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
        (local.set $off (i32.shl (i32.mul (i32.load (i32.add (local.get $slots) (i32.shl (local.get $i) (i32.const 2)))) (local.get $d)) (i32.const 2)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $g (call $dot (i32.add (if (result i32) (local.get $gate) (then (local.get $gate)) (else (local.get $up))) (local.get $off)) (local.get $x) (local.get $d)))
        (br_if $next (f32.le (local.get $g) (f32.const 0)))
        (if (local.get $squared) (then (local.set $g (f32.mul (local.get $g) (local.get $g)))))
        (local.set $h
          (if (result f32) (local.get $gate)
            (then (f32.mul (local.get $g) (call $dot (i32.add (local.get $up) (local.get $off)) (local.get $x) (local.get $d))))
            (else (local.get $g))))
        (local.set $nonZero (i32.add (local.get $nonZero) (i32.const 1)))
        ;; Hold up to three (h, down row); the fourth adds all four.
        (local.set $off (i32.add (local.get $down) (local.get $off)))
        (if (i32.eq (local.get $held) (i32.const 0)) (then (local.set $w0 (local.get $off)) (local.set $s0 (local.get $h)) (local.set $held (i32.const 1)) (br $next)))
        (if (i32.eq (local.get $held) (i32.const 1)) (then (local.set $w1 (local.get $off)) (local.set $s1 (local.get $h)) (local.set $held (i32.const 2)) (br $next)))
        (if (i32.eq (local.get $held) (i32.const 2)) (then (local.set $w2 (local.get $off)) (local.set $s2 (local.get $h)) (local.set $held (i32.const 3)) (br $next)))
        (call $axpy4 (local.get $y) (local.get $w0) (local.get $w1) (local.get $w2) (local.get $off)
          (local.get $s0) (local.get $s1) (local.get $s2) (local.get $h) (local.get $d))
        (local.set $held (i32.const 0))
        (br $next)))
    (if (i32.ge_u (local.get $held) (i32.const 1)) (then (call $axpy (local.get $y) (local.get $w0) (local.get $s0) (local.get $d))))
    (if (i32.ge_u (local.get $held) (i32.const 2)) (then (call $axpy (local.get $y) (local.get $w1) (local.get $s1) (local.get $d))))
    (if (i32.ge_u (local.get $held) (i32.const 3)) (then (call $axpy (local.get $y) (local.get $w2) (local.get $s2) (local.get $d))))
    (local.get $nonZero))

  ;; y[i] += h0·w0[i] + h1·w1[i] + h2·w2[i] + h3·w3[i] over n floats: four rows per load and
  ;; store of y.
  (func $axpy4 (param $y i32) (param $w0 i32) (param $w1 i32) (param $w2 i32) (param $w3 i32)
    (param $s0 f32) (param $s1 f32) (param $s2 f32) (param $s3 f32) (param $n i32)
    (local $h0 v128) (local $h1 v128) (local $h2 v128) (local $h3 v128) (local $k i32) (local $bytes i32) (local $at i32)
    (local.set $h0 (f32x4.splat (local.get $s0)))
    (local.set $h1 (f32x4.splat (local.get $s1)))
    (local.set $h2 (f32x4.splat (local.get $s2)))
    (local.set $h3 (f32x4.splat (local.get $s3)))
    (local.set $bytes (i32.shl (local.get $n) (i32.const 2)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $k) (local.get $bytes)))
      (local.set $at (i32.add (local.get $y) (local.get $k)))
      (v128.store (local.get $at) (f32x4.add (v128.load (local.get $at))
        (f32x4.add
          (f32x4.add (f32x4.mul (local.get $h0) (v128.load (i32.add (local.get $w0) (local.get $k))))
                     (f32x4.mul (local.get $h1) (v128.load (i32.add (local.get $w1) (local.get $k)))))
          (f32x4.add (f32x4.mul (local.get $h2) (v128.load (i32.add (local.get $w2) (local.get $k))))
                     (f32x4.mul (local.get $h3) (v128.load (i32.add (local.get $w3) (local.get $k))))))))
      (local.set $k (i32.add (local.get $k) (i32.const 16)))
      (br $next))))

  ;; y[0…m) += Σ_i x[i]·w[i·m …] over i < n: a vector times a matrix [n][m], four rows at a time,
  ;; the last n mod 4 rows one by one.
  (func $vecmatAdd (param $x i32) (param $w i32) (param $n i32) (param $m i32) (param $y i32)
    (local $end i32) (local $end4 i32) (local $step i32)
    (local.set $step (i32.shl (local.get $m) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4 (loop $four
      (br_if $done4 (i32.ge_u (local.get $x) (local.get $end4)))
      (call $axpy4 (local.get $y)
        (local.get $w) (i32.add (local.get $w) (local.get $step))
        (i32.add (local.get $w) (i32.shl (local.get $step) (i32.const 1))) (i32.add (local.get $w) (i32.mul (local.get $step) (i32.const 3)))
        (f32.load (local.get $x)) (f32.load offset=4 (local.get $x)) (f32.load offset=8 (local.get $x)) (f32.load offset=12 (local.get $x))
        (local.get $m))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $w (i32.add (local.get $w) (i32.shl (local.get $step) (i32.const 2))))
      (br $four)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (call $axpy (local.get $y) (local.get $w) (f32.load (local.get $x)) (local.get $m))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $w (i32.add (local.get $w) (local.get $step)))
      (br $next))))

  ;; y[0…m) = src[0…m) (m floats).
  (func $copy (param $y i32) (param $src i32) (param $m i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $m) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $y) (v128.load (local.get $src)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (br $next))))

  ;; y[0…m) = x · w, w: [n][m] (the attention's weighted sum of value rows).
  (func $vecmat (export "vecmat") (param $x i32) (param $w i32) (param $n i32) (param $m i32) (param $y i32)
    (call $fill (local.get $y) (local.get $m))
    (call $vecmatAdd (local.get $x) (local.get $w) (local.get $n) (local.get $m) (local.get $y)))

  ;; y[0…m) = 0.
  (func $fill (param $y i32) (param $m i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $m) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $y) (f32x4.splat (f32.const 0)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $next))))

  ;; out[i] = rows[i] · x over i < n, rows: [n][d] (a matrix times a vector: the attention's
  ;; projections with weights stored [out][in], its scores against the key rows, the head). Four
  ;; rows at a time share each load of x and keep four sums going; the last n mod 4 rows one by one.
  (func $rowDots (export "rowDots") (param $rows i32) (param $x i32) (param $n i32) (param $d i32) (param $out i32)
    (local $end i32) (local $end4 i32) (local $step i32) (local $k i32)
    (local $r1 i32) (local $r2 i32) (local $r3 i32)
    (local $xv v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $s01 v128) (local $s23 v128)
    (local.set $step (i32.shl (local.get $d) (i32.const 2)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4 (loop $four
      (br_if $done4 (i32.ge_u (local.get $out) (local.get $end4)))
      (local.set $r1 (i32.add (local.get $rows) (local.get $step)))
      (local.set $r2 (i32.add (local.get $r1) (local.get $step)))
      (local.set $r3 (i32.add (local.get $r2) (local.get $step)))
      (local.set $a0 (f32x4.splat (f32.const 0)))
      (local.set $a1 (f32x4.splat (f32.const 0)))
      (local.set $a2 (f32x4.splat (f32.const 0)))
      (local.set $a3 (f32x4.splat (f32.const 0)))
      (local.set $k (i32.const 0))
      (loop $inner
        (local.set $xv (v128.load (i32.add (local.get $x) (local.get $k))))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (i32.add (local.get $rows) (local.get $k))) (local.get $xv))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load (i32.add (local.get $r1) (local.get $k))) (local.get $xv))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load (i32.add (local.get $r2) (local.get $k))) (local.get $xv))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load (i32.add (local.get $r3) (local.get $k))) (local.get $xv))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br_if $inner (i32.lt_u (local.get $k) (local.get $step))))
      ;; [Σa0, Σa1, Σa2, Σa3]: add lanes 0,1 to lanes 2,3 within pairs of accumulators, then odd to even.
      (local.set $s01 (f32x4.add
        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a0) (local.get $a1))
        (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a0) (local.get $a1))))
      (local.set $s23 (f32x4.add
        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a2) (local.get $a3))
        (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a2) (local.get $a3))))
      (v128.store (local.get $out) (f32x4.add
        (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $s01) (local.get $s23))
        (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $s01) (local.get $s23))))
      (local.set $rows (i32.add (local.get $r3) (local.get $step)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $four)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
      (f32.store (local.get $out) (call $dot (local.get $rows) (local.get $x) (local.get $d)))
      (local.set $rows (i32.add (local.get $rows) (local.get $step)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $next))))

;; e^x of four floats (x ≤ 88.37; below -88.37 it gives 0 or a denormal): Cephes' expf, 2^n·e^r
  ;; with n = round(x·log2 e), r = x − n·ln 2 in two parts, e^r a degree-7 polynomial (≈ 1 ulp).
  (func $exp4 (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.max (local.get $x) (f32x4.splat (f32.const -88.3762626647949))))
    (local.set $n (f32x4.floor (f32x4.add (f32x4.mul (local.get $x) (f32x4.splat (f32.const 1.44269504088896341))) (f32x4.splat (f32.const 0.5)))))
    (local.set $r (f32x4.sub (f32x4.sub (local.get $x)
      (f32x4.mul (local.get $n) (f32x4.splat (f32.const 0.693359375))))
      (f32x4.mul (local.get $n) (f32x4.splat (f32.const -2.12194440e-4)))))
    (local.set $p (f32x4.splat (f32.const 1.9875691500e-4)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1.3981999507e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 8.3334519073e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 4.1665795894e-2))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1.6666665459e-1))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 5.0000001201e-1))))
    (local.set $p (f32x4.add (f32x4.add (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r)) (f32x4.splat (f32.const 1))))
    ;; 2^n: n + 127 in the exponent bits (n ≥ -127 after the clamp; -127 gives 0).
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (i32x4.splat (i32.const 127))) (i32.const 23))))

  ;; s[0…n) = softmax(s[0…n)) in place: e^(s − max) / Σ.
  (func $softmax (export "softmax") (param $s i32) (param $n i32)
    (local $end i32) (local $end4 i32) (local $at i32) (local $max v128) (local $sum v128) (local $e v128) (local $m f32) (local $total f32)
    (local.set $end (i32.add (local.get $s) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $s) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $max (f32x4.splat (f32.const -inf)))
    (local.set $at (local.get $s))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $at) (local.get $end4)))
      (local.set $max (f32x4.max (local.get $max) (v128.load (local.get $at))))
      (local.set $at (i32.add (local.get $at) (i32.const 16)))
      (br $next)))
    (local.set $m (f32.max (f32.max (f32x4.extract_lane 0 (local.get $max)) (f32x4.extract_lane 1 (local.get $max)))
                           (f32.max (f32x4.extract_lane 2 (local.get $max)) (f32x4.extract_lane 3 (local.get $max)))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
      (local.set $m (f32.max (local.get $m) (f32.load (local.get $at))))
      (local.set $at (i32.add (local.get $at) (i32.const 4)))
      (br $next)))
    (local.set $max (f32x4.splat (local.get $m)))
    (local.set $sum (f32x4.splat (f32.const 0)))
    (local.set $at (local.get $s))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $at) (local.get $end4)))
      (local.set $e (call $exp4 (f32x4.sub (v128.load (local.get $at)) (local.get $max))))
      (v128.store (local.get $at) (local.get $e))
      (local.set $sum (f32x4.add (local.get $sum) (local.get $e)))
      (local.set $at (i32.add (local.get $at) (i32.const 16)))
      (br $next)))
    (local.set $total (f32.add (f32.add (f32x4.extract_lane 0 (local.get $sum)) (f32x4.extract_lane 1 (local.get $sum)))
                               (f32.add (f32x4.extract_lane 2 (local.get $sum)) (f32x4.extract_lane 3 (local.get $sum)))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
      (local.set $e (call $exp4 (f32x4.sub (v128.load32_splat (local.get $at)) (local.get $max))))
      (f32.store (local.get $at) (f32x4.extract_lane 0 (local.get $e)))
      (local.set $total (f32.add (local.get $total) (f32x4.extract_lane 0 (local.get $e))))
      (local.set $at (i32.add (local.get $at) (i32.const 4)))
      (br $next)))
    (local.set $sum (f32x4.splat (f32.div (f32.const 1) (local.get $total))))
    (local.set $at (local.get $s))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $at) (local.get $end4)))
      (v128.store (local.get $at) (f32x4.mul (v128.load (local.get $at)) (local.get $sum)))
      (local.set $at (i32.add (local.get $at) (i32.const 16)))
      (br $next)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
      (f32.store (local.get $at) (f32.mul (f32.load (local.get $at)) (f32x4.extract_lane 0 (local.get $sum))))
      (local.set $at (i32.add (local.get $at) (i32.const 4)))
      (br $next))))

  ;; SwiGLU's elementwise step over n floats (n a multiple of 4): gate[i] = silu(gate[i]) =
  ;; g / (1 + e^-g), then up[i] ·= gate[i]. e^-g is clamped at e^88 (silu is then -0 to f32
  ;; precision).
  (func (export "swiglu") (param $gate i32) (param $up i32) (param $n i32)
    (local $end i32) (local $g v128)
    (local.set $end (i32.add (local.get $gate) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $gate) (local.get $end)))
      (local.set $g (v128.load (local.get $gate)))
      (local.set $g (f32x4.div (local.get $g) (f32x4.add (f32x4.splat (f32.const 1))
        (call $exp4 (f32x4.min (f32x4.neg (local.get $g)) (f32x4.splat (f32.const 88)))))))
      (v128.store (local.get $gate) (local.get $g))
      (v128.store (local.get $up) (f32x4.mul (v128.load (local.get $up)) (local.get $g)))
      (local.set $gate (i32.add (local.get $gate) (i32.const 16)))
      (local.set $up (i32.add (local.get $up) (i32.const 16)))
      (br $next))))

  ;; The sparse FFN's choice at decode: a = act(gate[j]) for j < n ($kind 0: ReLU, 1: SiLU as swiglu
  ;; computes it, 2: squared ReLU), and the neurons with |a| > $threshold (compared in f64) kept in
  ;; order: ids[i] = j and gate[i] = a for the i-th kept, in place. Returns how many. Branchless: each
  ;; lane is written at the next free place and counted only if kept. n a multiple of 4.
  (func (export "gateSelect") (param $gate i32) (param $n i32) (param $kind i32) (param $threshold f64) (param $ids i32) (result i32)
    (local $j i32) (local $kept i32) (local $g v128) (local $a f32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
      (local.set $g (v128.load (i32.add (local.get $gate) (i32.shl (local.get $j) (i32.const 2)))))
      (if (i32.eq (local.get $kind) (i32.const 1))
        (then (local.set $g (f32x4.div (local.get $g) (f32x4.add (f32x4.splat (f32.const 1))
          (call $exp4 (f32x4.min (f32x4.neg (local.get $g)) (f32x4.splat (f32.const 88))))))))
        (else
          (local.set $g (f32x4.pmax (f32x4.splat (f32.const 0)) (local.get $g))) ;; 0 < g ? g : 0, as JavaScript's ReLU
          (if (i32.eq (local.get $kind) (i32.const 2)) (then (local.set $g (f32x4.mul (local.get $g) (local.get $g)))))))
      (local.set $a (f32x4.extract_lane 0 (local.get $g)))
      (f32.store (i32.add (local.get $gate) (i32.shl (local.get $kept) (i32.const 2))) (local.get $a))
      (i32.store (i32.add (local.get $ids) (i32.shl (local.get $kept) (i32.const 2))) (i32.add (local.get $j) (i32.const 0)))
      (local.set $kept (i32.add (local.get $kept) (f64.gt (f64.promote_f32 (f32.abs (local.get $a))) (local.get $threshold))))
      (local.set $a (f32x4.extract_lane 1 (local.get $g)))
      (f32.store (i32.add (local.get $gate) (i32.shl (local.get $kept) (i32.const 2))) (local.get $a))
      (i32.store (i32.add (local.get $ids) (i32.shl (local.get $kept) (i32.const 2))) (i32.add (local.get $j) (i32.const 1)))
      (local.set $kept (i32.add (local.get $kept) (f64.gt (f64.promote_f32 (f32.abs (local.get $a))) (local.get $threshold))))
      (local.set $a (f32x4.extract_lane 2 (local.get $g)))
      (f32.store (i32.add (local.get $gate) (i32.shl (local.get $kept) (i32.const 2))) (local.get $a))
      (i32.store (i32.add (local.get $ids) (i32.shl (local.get $kept) (i32.const 2))) (i32.add (local.get $j) (i32.const 2)))
      (local.set $kept (i32.add (local.get $kept) (f64.gt (f64.promote_f32 (f32.abs (local.get $a))) (local.get $threshold))))
      (local.set $a (f32x4.extract_lane 3 (local.get $g)))
      (f32.store (i32.add (local.get $gate) (i32.shl (local.get $kept) (i32.const 2))) (local.get $a))
      (i32.store (i32.add (local.get $ids) (i32.shl (local.get $kept) (i32.const 2))) (i32.add (local.get $j) (i32.const 3)))
      (local.set $kept (i32.add (local.get $kept) (f64.gt (f64.promote_f32 (f32.abs (local.get $a))) (local.get $threshold))))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $next)))
    (local.get $kept))

  ;; The predictor's scores: low = x·A (A: [d][r]), then scores = bias + low·B (B: [r][n]).
  (func (export "predict")
    (param $x i32) (param $a i32) (param $b i32) (param $bias i32)
    (param $d i32) (param $r i32) (param $n i32) (param $low i32) (param $scores i32)
    (call $fill (local.get $low) (local.get $r))
    (call $vecmatAdd (local.get $x) (local.get $a) (local.get $d) (local.get $r) (local.get $low))
    (call $copy (local.get $scores) (local.get $bias) (local.get $n))
    (call $vecmatAdd (local.get $low) (local.get $b) (local.get $r) (local.get $n) (local.get $scores)))

  ;; ── 8-bit kernels (format v2, models/FORMAT.md §Q: q8_32 matrices, quants [rows][d] int8 then
  ;; scales [rows][d/32] f32). Activations are quantized per block of 32 to 16 bits (i16, scale
  ;; max|x| / 32767), the products are i32x4.dot_i16x8_s (a block's sum stays far inside i32:
  ;; 32 × 127 × 32767 < 2^31), and each block's integer sum is scaled once. 16-bit activations cost
  ;; nothing over 8-bit ones here (the kernel widens to i16 either way) and keep the logits within
  ;; the weights' own quantization error. d must be a multiple of 32.

  ;; qx[0…n) (i16) and sx[0…n/32) (f32) from x[0…n) f32: per block of 32, scale = max|x| / 32767,
  ;; q = round-half-even(x · 32767 / max|x|) (a block of zeros: scale 0, q 0).
  ;; Cheap on x64, as downQ8 does it 28 times per activation at 0.5B: the max as the integer max of
  ;; the |x| bit patterns (a non-negative float orders as its bits; f32x4.max's NaN rules cost V8
  ;; about six instructions each), and the rounding by adding 1.5·2^23, whose float addition rounds
  ;; half to even to an integer held in the low bits (|q| ≤ 32767 ≪ 2^22), instead of
  ;; f32x4.nearest and i32x4.trunc_sat_f32x4_s (the same q for every finite x).
  (func $quantizeI16 (export "quantizeI16") (param $x i32) (param $n i32) (param $qx i32) (param $sx i32)
    (local $end i32) (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $v4 v128) (local $v5 v128) (local $v6 v128) (local $v7 v128) (local $m v128) (local $amax f32) (local $inv v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $v0 (v128.load (local.get $x)))
      (local.set $v1 (v128.load offset=16 (local.get $x)))
      (local.set $v2 (v128.load offset=32 (local.get $x)))
      (local.set $v3 (v128.load offset=48 (local.get $x)))
      (local.set $v4 (v128.load offset=64 (local.get $x)))
      (local.set $v5 (v128.load offset=80 (local.get $x)))
      (local.set $v6 (v128.load offset=96 (local.get $x)))
      (local.set $v7 (v128.load offset=112 (local.get $x)))
      (local.set $m (i32x4.max_s
        (i32x4.max_s (i32x4.max_s (f32x4.abs (local.get $v0)) (f32x4.abs (local.get $v1))) (i32x4.max_s (f32x4.abs (local.get $v2)) (f32x4.abs (local.get $v3))))
        (i32x4.max_s (i32x4.max_s (f32x4.abs (local.get $v4)) (f32x4.abs (local.get $v5))) (i32x4.max_s (f32x4.abs (local.get $v6)) (f32x4.abs (local.get $v7))))))
      (local.set $m (i32x4.max_s (local.get $m) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $m) (local.get $m))))
      (local.set $amax (f32x4.extract_lane 0 (i32x4.max_s (local.get $m) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $m) (local.get $m)))))
      (f32.store (local.get $sx) (f32.div (local.get $amax) (f32.const 32767)))
      (local.set $inv (f32x4.splat (if (result f32) (f32.gt (local.get $amax) (f32.const 0))
        (then (f32.div (f32.const 32767) (local.get $amax))) (else (f32.const 0)))))
      (v128.store (local.get $qx) (i16x8.narrow_i32x4_s
        (i32x4.sub (f32x4.add (f32x4.mul (local.get $v0) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))
        (i32x4.sub (f32x4.add (f32x4.mul (local.get $v1) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))))
      (v128.store offset=16 (local.get $qx) (i16x8.narrow_i32x4_s
        (i32x4.sub (f32x4.add (f32x4.mul (local.get $v2) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))
        (i32x4.sub (f32x4.add (f32x4.mul (local.get $v3) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))))
      (v128.store offset=32 (local.get $qx) (i16x8.narrow_i32x4_s
        (i32x4.sub (f32x4.add (f32x4.mul (local.get $v4) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))
        (i32x4.sub (f32x4.add (f32x4.mul (local.get $v5) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))))
      (v128.store offset=48 (local.get $qx) (i16x8.narrow_i32x4_s
        (i32x4.sub (f32x4.add (f32x4.mul (local.get $v6) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))
        (i32x4.sub (f32x4.add (f32x4.mul (local.get $v7) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))))
      (local.set $x (i32.add (local.get $x) (i32.const 128)))
      (local.set $qx (i32.add (local.get $qx) (i32.const 64)))
      (local.set $sx (i32.add (local.get $sx) (i32.const 4)))
      (br $next))))

  ;; The integer sum of one block: 32 int8 weights at $w against 32 i16 activations at $qx.
  (func $blockQ8 (param $w i32) (param $qx i32) (result v128)
    (i32x4.add
      (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $w)) (v128.load (local.get $qx)))
                 (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $w)) (v128.load offset=16 (local.get $qx))))
      (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $w)) (v128.load offset=32 (local.get $qx)))
                 (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $w)) (v128.load offset=48 (local.get $qx))))))

;; A q8 scale (models/FORMAT.md §Q: an f16 value, stored as f32 in the files) as the panels and the
  ;; down projection's transposed scales hold it in memory: its f16 bits (2 bytes instead of 4: a
  ;; decoded token reads 34 bytes per 32 weights instead of 36). Exact for every f16 value, subnormals
  ;; and 0 included: scaling by 2^−112 moves f16's exponent range onto f32's lowest, where the top 19
  ;; bits are the f16 encoding; the loader refuses a scale that is not an f16 value.
  (func $f16Bits (param $v f32) (result i32)
    (i32.shr_u (i32.reinterpret_f32 (f32.mul (local.get $v) (f32.const 0x1p-112))) (i32.const 13)))

  ;; The f32 value of f16 bits (the inverse of $f16Bits; kernels do it four lanes at a time the same way).
  (func $f16Value (param $h i32) (result f32)
    (f32.mul (f32.reinterpret_i32 (i32.shl (local.get $h) (i32.const 13))) (f32.const 0x1p112)))

  ;; The scale at $at: f16 bits ($f16 1: panels) or an f32 (the row layout).
  (func $scaleAt (param $at i32) (param $f16 i32) (result f32)
    (if (result f32) (local.get $f16)
      (then (call $f16Value (i32.load16_u (local.get $at))))
      (else (f32.load (local.get $at)))))

  ;; The four lanes of an i32x4 added (exact: a block's sum is far inside i32).
  (func $sumI32 (param $v v128) (result i32)
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 1 (local.get $v)))
      (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 3 (local.get $v)))))

  ;; One q8 row · one quantized activation row over nb blocks: the row's block b has its quants at
  ;; $w + b·$wStep and its scale at $ws + b·$sStep (row layout: 32 and 4, f32 scales; panels: 136 and
  ;; 136, f16 scales: $f16 1).
  ;; Every layout's kernel does a row's arithmetic in this order — per block the exact integer
  ;; sum, then acc += f32(sum) · (scale · x scale) — so a row gives the same bits wherever it lives
  ;; (the flash cache and the resident panels must decode alike).
  (func $dotQ8 (param $w i32) (param $ws i32) (param $qx i32) (param $sx i32) (param $nb i32) (param $wStep i32) (param $sStep i32) (param $f16 i32) (result f32)
    (local $acc f32) (local $end i32)
    (local.set $end (i32.add (local.get $sx) (i32.shl (local.get $nb) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $sx) (local.get $end)))
      (local.set $acc (f32.add (local.get $acc) (f32.mul
        (f32.convert_i32_s (call $sumI32 (call $blockQ8 (local.get $w) (local.get $qx))))
        (f32.mul (call $scaleAt (local.get $ws) (local.get $f16)) (f32.load (local.get $sx))))))
      (local.set $w (i32.add (local.get $w) (local.get $wStep)))
      (local.set $qx (i32.add (local.get $qx) (i32.const 64)))
      (local.set $ws (i32.add (local.get $ws) (local.get $sStep)))
      (local.set $sx (i32.add (local.get $sx) (i32.const 4)))
      (br $next)))
    (local.get $acc))

  ;; out[t][r] = W[r] · x[t] for rows r < n and tokens t < T: W q8 [n][d] (quants $w, scales $ws),
  ;; x quantized [T][d] (qx i16, sx f32 [T][d/32]), out [T][n] f32. Four rows at a time share the
  ;; activation loads and stay in the cache across the T tokens; the last n mod 4 rows one by one.
  (func (export "matmulQ8") (param $w i32) (param $ws i32) (param $n i32) (param $d i32)
    (param $qx i32) (param $sx i32) (param $T i32) (param $out i32)
    (local $r i32) (local $t i32) (local $nb i32) (local $b i32) (local $rowBytes i32) (local $sRow i32)
    (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $q i32) (local $qs i32) (local $o i32) (local $xs f32)
    (local $a0 v128) (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local.set $nb (i32.shr_u (local.get $d) (i32.const 5)))
    (local.set $sRow (i32.shl (local.get $nb) (i32.const 2)))
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 1)))
    (block $done4 (loop $four
      (br_if $done4 (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $n)))
      (local.set $t (i32.const 0))
      (block $tokens (loop $token
        (br_if $tokens (i32.ge_u (local.get $t) (local.get $T)))
        (local.set $w0 (i32.add (local.get $w) (i32.mul (local.get $r) (local.get $d))))
        (local.set $w1 (i32.add (local.get $w0) (local.get $d)))
        (local.set $w2 (i32.add (local.get $w1) (local.get $d)))
        (local.set $w3 (i32.add (local.get $w2) (local.get $d)))
        (local.set $s0 (i32.add (local.get $ws) (i32.mul (local.get $r) (local.get $sRow))))
        (local.set $s1 (i32.add (local.get $s0) (local.get $sRow)))
        (local.set $s2 (i32.add (local.get $s1) (local.get $sRow)))
        (local.set $s3 (i32.add (local.get $s2) (local.get $sRow)))
        (local.set $q (i32.add (local.get $qx) (i32.mul (local.get $t) (local.get $rowBytes))))
        (local.set $qs (i32.add (local.get $sx) (i32.mul (local.get $t) (local.get $sRow))))
        (local.set $a0 (f32x4.splat (f32.const 0)))
        (local.set $b (i32.const 0))
        (block $blocks (loop $block
          (br_if $blocks (i32.ge_u (local.get $b) (local.get $nb)))
          (local.set $xs (f32.load (local.get $qs)))
          (local.set $x0 (v128.load (local.get $q)))
          (local.set $x1 (v128.load offset=16 (local.get $q)))
          (local.set $x2 (v128.load offset=32 (local.get $q)))
          (local.set $x3 (v128.load offset=48 (local.get $q)))
          (local.set $r0 (i32x4.add
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $w0)) (local.get $x0))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $w0)) (local.get $x1)))
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $w0)) (local.get $x2))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $w0)) (local.get $x3)))))
          (local.set $r1 (i32x4.add
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $w1)) (local.get $x0))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $w1)) (local.get $x1)))
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $w1)) (local.get $x2))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $w1)) (local.get $x3)))))
          (local.set $r2 (i32x4.add
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $w2)) (local.get $x0))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $w2)) (local.get $x1)))
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $w2)) (local.get $x2))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $w2)) (local.get $x3)))))
          (local.set $r3 (i32x4.add
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $w3)) (local.get $x0))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $w3)) (local.get $x1)))
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $w3)) (local.get $x2))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $w3)) (local.get $x3)))))
          ;; the four rows' block sums in one vector, scaled as matmulQ8P does (same bits)
          (local.set $r0 (i32x4.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $r0) (local.get $r1))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $r0) (local.get $r1))))
          (local.set $r2 (i32x4.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $r2) (local.get $r3))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $r2) (local.get $r3))))
          (local.set $r0 (i32x4.add
            (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $r0) (local.get $r2))
            (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $r0) (local.get $r2))))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (f32x4.convert_i32x4_s (local.get $r0))
            (f32x4.mul
              (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1 (f32x4.splat (f32.load (local.get $s0)))
                (f32.load (local.get $s1))) (f32.load (local.get $s2))) (f32.load (local.get $s3)))
              (f32x4.splat (local.get $xs))))))
          (local.set $w0 (i32.add (local.get $w0) (i32.const 32)))
          (local.set $w1 (i32.add (local.get $w1) (i32.const 32)))
          (local.set $w2 (i32.add (local.get $w2) (i32.const 32)))
          (local.set $w3 (i32.add (local.get $w3) (i32.const 32)))
          (local.set $s0 (i32.add (local.get $s0) (i32.const 4)))
          (local.set $s1 (i32.add (local.get $s1) (i32.const 4)))
          (local.set $s2 (i32.add (local.get $s2) (i32.const 4)))
          (local.set $s3 (i32.add (local.get $s3) (i32.const 4)))
          (local.set $q (i32.add (local.get $q) (i32.const 64)))
          (local.set $qs (i32.add (local.get $qs) (i32.const 4)))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br $block)))
        (v128.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $n)) (local.get $r)) (i32.const 2)))
          (local.get $a0))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $token)))
      (local.set $r (i32.add (local.get $r) (i32.const 4)))
      (br $four)))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $r) (local.get $n)))
      (local.set $t (i32.const 0))
      (block $tokens (loop $token
        (br_if $tokens (i32.ge_u (local.get $t) (local.get $T)))
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $n)) (local.get $r)) (i32.const 2)))
          (call $dotQ8 (i32.add (local.get $w) (i32.mul (local.get $r) (local.get $d))) (i32.add (local.get $ws) (i32.mul (local.get $r) (local.get $sRow)))
            (i32.add (local.get $qx) (i32.mul (local.get $t) (local.get $rowBytes))) (i32.add (local.get $sx) (i32.mul (local.get $t) (local.get $sRow))) (local.get $nb) (i32.const 32) (i32.const 4) (i32.const 0)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $token)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $row))))

  ;; The panel layout of a q8_32 matrix (what the loader makes of every dense matrix): rows in
  ;; panels of four, a panel block by block, each block 136 bytes: the four rows' 32 int8 quants
  ;; (128 bytes), then their four scales as f16 bits ($f16Bits: 34 bytes per 32 weights, as llama.cpp's
  ;; Q8_0; f32 scales made 144). A panel is one sequential stream (the prefetcher's
  ;; best case: the row-major layout's four row streams plus a scale stream ran at a third of the
  ;; memory bandwidth once the matrix left the cache), and a block's four integer sums are
  ;; transposed into one vector, scaled by one load of the four scales (widened to f32 as $f16Value does). A last partial panel's
  ;; missing rows are zeros.
  ;; The row-layout matrix at $ptr ([rows][cols] quants, then [rows][cols/32] scales) rewritten as
  ;; panels from the same address (panels.ts' rowsToPanels, here for the load's speed): the scales
  ;; are copied to $tmp first, then panels go last to first, each panel's rows through $tmp too
  ;; (a panel lands at or after its own rows and only over bytes already moved). $tmp: rows·cols/8
  ;; + 4·cols bytes.
  (func (export "toPanels") (param $ptr i32) (param $rows i32) (param $cols i32) (param $tmp i32)
    (local $nb i32) (local $i i32) (local $end i32) (local $q i32) (local $p i32) (local $b i32) (local $r i32)
    (local $present i32) (local $dst i32) (local $src i32)
    (local.set $nb (i32.shr_u (local.get $cols) (i32.const 5)))
    (local.set $end (i32.shl (i32.mul (local.get $rows) (local.get $nb)) (i32.const 2)))
    (local.set $src (i32.add (local.get $ptr) (i32.mul (local.get $rows) (local.get $cols))))
    (block $done (loop $copy
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (i32.store (i32.add (local.get $tmp) (local.get $i)) (i32.load (i32.add (local.get $src) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $copy)))
    (local.set $q (i32.add (local.get $tmp) (local.get $end)))
    (local.set $p (i32.shr_u (i32.add (local.get $rows) (i32.const 3)) (i32.const 2)))
    (block $panels (loop $panel
      (br_if $panels (i32.eqz (local.get $p)))
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (local.set $present (i32.sub (local.get $rows) (i32.shl (local.get $p) (i32.const 2))))
      (if (i32.gt_u (local.get $present) (i32.const 4)) (then (local.set $present (i32.const 4))))
      (local.set $src (i32.add (local.get $ptr) (i32.mul (i32.shl (local.get $p) (i32.const 2)) (local.get $cols))))
      (local.set $end (i32.mul (local.get $present) (local.get $cols)))
      (local.set $i (i32.const 0))
      (block $done (loop $rowsIn
        (br_if $done (i32.ge_u (local.get $i) (i32.shl (local.get $cols) (i32.const 2))))
        (v128.store (i32.add (local.get $q) (local.get $i))
          (if (result v128) (i32.lt_u (local.get $i) (local.get $end))
            (then (v128.load (i32.add (local.get $src) (local.get $i))))
            (else (v128.const i32x4 0 0 0 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $rowsIn)))
      (local.set $b (i32.const 0))
      (block $blocks (loop $block
        (br_if $blocks (i32.ge_u (local.get $b) (local.get $nb)))
        (local.set $dst (i32.add (local.get $ptr) (i32.mul (i32.add (i32.mul (local.get $p) (local.get $nb)) (local.get $b)) (i32.const 136))))
        (local.set $r (i32.const 0))
        (block $done (loop $row
          (br_if $done (i32.ge_u (local.get $r) (i32.const 4)))
          (local.set $src (i32.add (local.get $q) (i32.add (i32.mul (local.get $r) (local.get $cols)) (i32.shl (local.get $b) (i32.const 5)))))
          (v128.store (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 5))) (v128.load (local.get $src)))
          (v128.store offset=16 (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 5))) (v128.load offset=16 (local.get $src)))
          (i32.store16 offset=128 (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 1)))
            (if (result i32) (i32.lt_u (local.get $r) (local.get $present))
              (then (call $f16Bits (f32.load (i32.add (local.get $tmp) (i32.shl (i32.add (i32.mul (i32.add (i32.shl (local.get $p) (i32.const 2)) (local.get $r)) (local.get $nb)) (local.get $b)) (i32.const 2))))))
              (else (i32.const 0))))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $row)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $block)))
      (br $panel))))

  ;; out[t][r] = W[r] · x[t] for rows r < n and tokens t < T: W q8_32 in panels at $w, x quantized
  ;; [T][d] (qx i16, sx f32 [T][d/32]), out [T][n] f32. A panel (d·9/2 bytes) stays in the cache
  ;; across the T tokens. Tokens go two at a time: each weight vector is widened to i16 once for
  ;; both (the widening was a quarter of the instructions), the block's 32 columns eight at a time
  ;; into 4 rows × 2 tokens integer sums. A last odd token goes alone. Integer sums are exact in any
  ;; order, and each lane's f32 arithmetic is the same, so both paths give the same bits.
  (func (export "matmulQ8P") (param $w i32) (param $n i32) (param $d i32)
    (param $qx i32) (param $sx i32) (param $T i32) (param $out i32)
    (local $r i32) (local $t i32) (local $nb i32) (local $panelBytes i32) (local $p i32) (local $end i32)
    (local $q i32) (local $qs i32) (local $acc v128) (local $accB v128) (local $rowBytes i32) (local $c i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $xa v128) (local $xb v128) (local $wv v128) (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128) (local $sc v128)
    (local.set $nb (i32.shr_u (local.get $d) (i32.const 5)))
    (local.set $panelBytes (i32.mul (local.get $nb) (i32.const 136)))
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 1)))
    (block $panels (loop $panel
      (br_if $panels (i32.ge_u (local.get $r) (local.get $n)))
      (local.set $t (i32.const 0))
      (block $pairs (loop $pair
        (br_if $pairs (i32.ge_u (i32.add (local.get $t) (i32.const 1)) (local.get $T)))
        (local.set $p (local.get $w))
        (local.set $end (i32.add (local.get $w) (local.get $panelBytes)))
        (local.set $q (i32.add (local.get $qx) (i32.mul (local.get $t) (local.get $rowBytes))))
        (local.set $qs (i32.add (local.get $sx) (i32.mul (local.get $t) (i32.shl (local.get $nb) (i32.const 2)))))
        (local.set $acc (f32x4.splat (f32.const 0)))
        (local.set $accB (f32x4.splat (f32.const 0)))
        (block $blocks (loop $block
          (br_if $blocks (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $r0 (v128.const i32x4 0 0 0 0)) (local.set $r1 (v128.const i32x4 0 0 0 0))
          (local.set $r2 (v128.const i32x4 0 0 0 0)) (local.set $r3 (v128.const i32x4 0 0 0 0))
          (local.set $b0 (v128.const i32x4 0 0 0 0)) (local.set $b1 (v128.const i32x4 0 0 0 0))
          (local.set $b2 (v128.const i32x4 0 0 0 0)) (local.set $b3 (v128.const i32x4 0 0 0 0))
          (local.set $c (i32.const 0))
          (block $cols (loop $col ;; columns 8c … 8c + 8 of the block: both tokens' activations, each row's quants
            (br_if $cols (i32.ge_u (local.get $c) (i32.const 32)))
            (local.set $xa (v128.load (i32.add (local.get $q) (i32.shl (local.get $c) (i32.const 1)))))
            (local.set $xb (v128.load (i32.add (i32.add (local.get $q) (local.get $rowBytes)) (i32.shl (local.get $c) (i32.const 1)))))
            (local.set $wv (v128.load8x8_s (i32.add (local.get $p) (local.get $c))))
            (local.set $r0 (i32x4.add (local.get $r0) (i32x4.dot_i16x8_s (local.get $wv) (local.get $xa))))
            (local.set $b0 (i32x4.add (local.get $b0) (i32x4.dot_i16x8_s (local.get $wv) (local.get $xb))))
            (local.set $wv (v128.load8x8_s offset=32 (i32.add (local.get $p) (local.get $c))))
            (local.set $r1 (i32x4.add (local.get $r1) (i32x4.dot_i16x8_s (local.get $wv) (local.get $xa))))
            (local.set $b1 (i32x4.add (local.get $b1) (i32x4.dot_i16x8_s (local.get $wv) (local.get $xb))))
            (local.set $wv (v128.load8x8_s offset=64 (i32.add (local.get $p) (local.get $c))))
            (local.set $r2 (i32x4.add (local.get $r2) (i32x4.dot_i16x8_s (local.get $wv) (local.get $xa))))
            (local.set $b2 (i32x4.add (local.get $b2) (i32x4.dot_i16x8_s (local.get $wv) (local.get $xb))))
            (local.set $wv (v128.load8x8_s offset=96 (i32.add (local.get $p) (local.get $c))))
            (local.set $r3 (i32x4.add (local.get $r3) (i32x4.dot_i16x8_s (local.get $wv) (local.get $xa))))
            (local.set $b3 (i32x4.add (local.get $b3) (i32x4.dot_i16x8_s (local.get $wv) (local.get $xb))))
            (local.set $c (i32.add (local.get $c) (i32.const 8)))
            (br $col)))
          (local.set $sc (f32x4.mul (i32x4.shl (v128.load16x4_u offset=128 (local.get $p)) (i32.const 13)) (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112)))
          ;; [Σr0, Σr1, Σr2, Σr3]: pairs of lanes added within two vectors, then odd to even
          (local.set $r0 (i32x4.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $r0) (local.get $r1))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $r0) (local.get $r1))))
          (local.set $r2 (i32x4.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $r2) (local.get $r3))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $r2) (local.get $r3))))
          (local.set $r0 (i32x4.add
            (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $r0) (local.get $r2))
            (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $r0) (local.get $r2))))
          (local.set $b0 (i32x4.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $b0) (local.get $b1))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $b0) (local.get $b1))))
          (local.set $b2 (i32x4.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $b2) (local.get $b3))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $b2) (local.get $b3))))
          (local.set $b0 (i32x4.add
            (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $b0) (local.get $b2))
            (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $b0) (local.get $b2))))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (f32x4.convert_i32x4_s (local.get $r0))
            (f32x4.mul (local.get $sc) (v128.load32_splat (local.get $qs))))))
          (local.set $accB (f32x4.add (local.get $accB) (f32x4.mul (f32x4.convert_i32x4_s (local.get $b0))
            (f32x4.mul (local.get $sc) (v128.load32_splat (i32.add (local.get $qs) (i32.shl (local.get $nb) (i32.const 2))))))))
          (local.set $p (i32.add (local.get $p) (i32.const 136)))
          (local.set $q (i32.add (local.get $q) (i32.const 64)))
          (local.set $qs (i32.add (local.get $qs) (i32.const 4)))
          (br $block)))
        (call $storePanelRow (local.get $out) (local.get $t) (local.get $n) (local.get $r) (local.get $acc))
        (call $storePanelRow (local.get $out) (i32.add (local.get $t) (i32.const 1)) (local.get $n) (local.get $r) (local.get $accB))
        (local.set $t (i32.add (local.get $t) (i32.const 2)))
        (br $pair)))
      (if (i32.lt_u (local.get $t) (local.get $T)) (then ;; the last, odd token
        (local.set $p (local.get $w))
        (local.set $end (i32.add (local.get $w) (local.get $panelBytes)))
        (local.set $q (i32.add (local.get $qx) (i32.mul (local.get $t) (local.get $rowBytes))))
        (local.set $qs (i32.add (local.get $sx) (i32.mul (local.get $t) (i32.shl (local.get $nb) (i32.const 2)))))
        (local.set $acc (f32x4.splat (f32.const 0)))
        (block $blocks (loop $block
          (br_if $blocks (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $x0 (v128.load (local.get $q)))
          (local.set $x1 (v128.load offset=16 (local.get $q)))
          (local.set $x2 (v128.load offset=32 (local.get $q)))
          (local.set $x3 (v128.load offset=48 (local.get $q)))
            (local.set $r0 (i32x4.add
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $p)) (local.get $x0))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $p)) (local.get $x1)))
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $p)) (local.get $x2))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $p)) (local.get $x3)))))
            (local.set $r1 (i32x4.add
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=32 (local.get $p)) (local.get $x0))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=40 (local.get $p)) (local.get $x1)))
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=48 (local.get $p)) (local.get $x2))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=56 (local.get $p)) (local.get $x3)))))
            (local.set $r2 (i32x4.add
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=64 (local.get $p)) (local.get $x0))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=72 (local.get $p)) (local.get $x1)))
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=80 (local.get $p)) (local.get $x2))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=88 (local.get $p)) (local.get $x3)))))
            (local.set $r3 (i32x4.add
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=96 (local.get $p)) (local.get $x0))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=104 (local.get $p)) (local.get $x1)))
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=112 (local.get $p)) (local.get $x2))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=120 (local.get $p)) (local.get $x3)))))
          (local.set $r0 (i32x4.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $r0) (local.get $r1))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $r0) (local.get $r1))))
          (local.set $r2 (i32x4.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $r2) (local.get $r3))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $r2) (local.get $r3))))
          (local.set $r0 (i32x4.add
            (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $r0) (local.get $r2))
            (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $r0) (local.get $r2))))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (f32x4.convert_i32x4_s (local.get $r0))
            (f32x4.mul (f32x4.mul (i32x4.shl (v128.load16x4_u offset=128 (local.get $p)) (i32.const 13)) (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112)) (v128.load32_splat (local.get $qs))))))
          (local.set $p (i32.add (local.get $p) (i32.const 136)))
          (local.set $q (i32.add (local.get $q) (i32.const 64)))
          (local.set $qs (i32.add (local.get $qs) (i32.const 4)))
          (br $block)))
        (call $storePanelRow (local.get $out) (local.get $t) (local.get $n) (local.get $r) (local.get $acc))))
      (local.set $w (i32.add (local.get $w) (local.get $panelBytes)))
      (local.set $r (i32.add (local.get $r) (i32.const 4)))
      (br $panel))))

  ;; out[t][r…r + 4) = acc's lanes, only those of rows below n (a last partial panel).
  (func $storePanelRow (param $out i32) (param $t i32) (param $n i32) (param $r i32) (param $acc v128)
    (local $o i32)
    (local.set $o (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $n)) (local.get $r)) (i32.const 2))))
    (if (i32.le_u (i32.add (local.get $r) (i32.const 4)) (local.get $n))
      (then (v128.store (local.get $o) (local.get $acc)))
      (else
        (f32.store (local.get $o) (f32x4.extract_lane 0 (local.get $acc)))
        (if (i32.gt_u (i32.sub (local.get $n) (local.get $r)) (i32.const 1)) (then (f32.store offset=4 (local.get $o) (f32x4.extract_lane 1 (local.get $acc)))))
        (if (i32.gt_u (i32.sub (local.get $n) (local.get $r)) (i32.const 2)) (then (f32.store offset=8 (local.get $o) (f32x4.extract_lane 2 (local.get $acc))))))))

  ;; out[i] = (W[rows[i]] · x) · g[i] for i < k (rows: i32 row numbers), x quantized (qx, sx): the
  ;; up rows that the sparse FFN keeps, times their gate. W in panels at $w ($panels 1: row j is lane
  ;; j mod 4 of panel j / 4; $ws unused) or in the row layout (quants $w, scales $ws). Four rows at a
  ;; time share the activation loads; each row's arithmetic is $dotQ8's (so matmulQ8P's bits).
  (func (export "gatherUpQ8") (param $w i32) (param $ws i32) (param $panels i32) (param $rows i32) (param $k i32) (param $d i32)
    (param $qx i32) (param $sx i32) (param $g i32) (param $out i32)
    (local $i i32) (local $nb i32) (local $step i32) (local $sStep i32) (local $b i32) (local $q i32) (local $qs i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $acc v128) (local $sc v128) (local $j i32) (local $sh i32) (local $m i32) (local $A i32) (local $C i32) (local $sBase i32) (local $A2 i32) (local $C2 i32)
    (local.set $nb (i32.shr_u (local.get $d) (i32.const 5)))
    (local.set $step (select (i32.const 136) (i32.const 32) (local.get $panels)))
    (local.set $sStep (select (i32.const 136) (i32.const 4) (local.get $panels)))
    ;; row j's first quant at w + (j >> sh)·A + (j & m)·C, its first scale at sBase + (j >> sh)·A2 + (j & m)·C2
    (if (local.get $panels)
      (then (local.set $sh (i32.const 2)) (local.set $m (i32.const 3)) (local.set $A (i32.mul (local.get $nb) (i32.const 136))) (local.set $C (i32.const 32))
        (local.set $sBase (i32.add (local.get $w) (i32.const 128))) (local.set $A2 (local.get $A)) (local.set $C2 (i32.const 2)))
      (else (local.set $A (local.get $d)) (local.set $sBase (local.get $ws)) (local.set $A2 (i32.shl (local.get $nb) (i32.const 2)))))
    (block $fours (loop $four
      (br_if $fours (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $k)))
      (local.set $j (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $p0 (i32.add (local.get $w) (i32.add (i32.mul (i32.shr_u (local.get $j) (local.get $sh)) (local.get $A)) (i32.mul (i32.and (local.get $j) (local.get $m)) (local.get $C)))))
      (local.set $s0 (i32.add (local.get $sBase) (i32.add (i32.mul (i32.shr_u (local.get $j) (local.get $sh)) (local.get $A2)) (i32.mul (i32.and (local.get $j) (local.get $m)) (local.get $C2)))))
      (local.set $j (i32.load offset=4 (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $p1 (i32.add (local.get $w) (i32.add (i32.mul (i32.shr_u (local.get $j) (local.get $sh)) (local.get $A)) (i32.mul (i32.and (local.get $j) (local.get $m)) (local.get $C)))))
      (local.set $s1 (i32.add (local.get $sBase) (i32.add (i32.mul (i32.shr_u (local.get $j) (local.get $sh)) (local.get $A2)) (i32.mul (i32.and (local.get $j) (local.get $m)) (local.get $C2)))))
      (local.set $j (i32.load offset=8 (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $p2 (i32.add (local.get $w) (i32.add (i32.mul (i32.shr_u (local.get $j) (local.get $sh)) (local.get $A)) (i32.mul (i32.and (local.get $j) (local.get $m)) (local.get $C)))))
      (local.set $s2 (i32.add (local.get $sBase) (i32.add (i32.mul (i32.shr_u (local.get $j) (local.get $sh)) (local.get $A2)) (i32.mul (i32.and (local.get $j) (local.get $m)) (local.get $C2)))))
      (local.set $j (i32.load offset=12 (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $p3 (i32.add (local.get $w) (i32.add (i32.mul (i32.shr_u (local.get $j) (local.get $sh)) (local.get $A)) (i32.mul (i32.and (local.get $j) (local.get $m)) (local.get $C)))))
      (local.set $s3 (i32.add (local.get $sBase) (i32.add (i32.mul (i32.shr_u (local.get $j) (local.get $sh)) (local.get $A2)) (i32.mul (i32.and (local.get $j) (local.get $m)) (local.get $C2)))))
      (local.set $q (local.get $qx))
      (local.set $qs (local.get $sx))
      (local.set $acc (f32x4.splat (f32.const 0)))
      (local.set $b (i32.const 0))
      (block $blocks (loop $block
        (br_if $blocks (i32.ge_u (local.get $b) (local.get $nb)))
        (local.set $x0 (v128.load (local.get $q)))
        (local.set $x1 (v128.load offset=16 (local.get $q)))
        (local.set $x2 (v128.load offset=32 (local.get $q)))
        (local.set $x3 (v128.load offset=48 (local.get $q)))
        (local.set $r0 (i32x4.add
          (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $p0)) (local.get $x0))
                     (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $p0)) (local.get $x1)))
          (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $p0)) (local.get $x2))
                     (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $p0)) (local.get $x3)))))
        (local.set $r1 (i32x4.add
          (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $p1)) (local.get $x0))
                     (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $p1)) (local.get $x1)))
          (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $p1)) (local.get $x2))
                     (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $p1)) (local.get $x3)))))
        (local.set $r2 (i32x4.add
          (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $p2)) (local.get $x0))
                     (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $p2)) (local.get $x1)))
          (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $p2)) (local.get $x2))
                     (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $p2)) (local.get $x3)))))
        (local.set $r3 (i32x4.add
          (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $p3)) (local.get $x0))
                     (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $p3)) (local.get $x1)))
          (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $p3)) (local.get $x2))
                     (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $p3)) (local.get $x3)))))
        ;; [Σr0, Σr1, Σr2, Σr3] as matmulQ8P adds them
        (local.set $r0 (i32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $r0) (local.get $r1))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $r0) (local.get $r1))))
        (local.set $r2 (i32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $r2) (local.get $r3))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $r2) (local.get $r3))))
        (local.set $r0 (i32x4.add
          (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $r0) (local.get $r2))
          (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $r0) (local.get $r2))))
        ;; the four rows' scales ($scaleAt's values, inline: a call per row and block cost more than the block's dots)
        (local.set $sc (if (result v128) (local.get $panels)
          (then (f32x4.mul (i32x4.shl (i32x4.replace_lane 3 (i32x4.replace_lane 2 (i32x4.replace_lane 1 (i32x4.splat (i32.load16_u (local.get $s0)))
            (i32.load16_u (local.get $s1))) (i32.load16_u (local.get $s2))) (i32.load16_u (local.get $s3))) (i32.const 13)) (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112)))
          (else (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1 (f32x4.splat (f32.load (local.get $s0)))
            (f32.load (local.get $s1))) (f32.load (local.get $s2))) (f32.load (local.get $s3))))))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (f32x4.convert_i32x4_s (local.get $r0))
          (f32x4.mul (local.get $sc) (v128.load32_splat (local.get $qs))))))
        (local.set $p0 (i32.add (local.get $p0) (local.get $step)))
        (local.set $p1 (i32.add (local.get $p1) (local.get $step)))
        (local.set $p2 (i32.add (local.get $p2) (local.get $step)))
        (local.set $p3 (i32.add (local.get $p3) (local.get $step)))
        (local.set $s0 (i32.add (local.get $s0) (local.get $sStep)))
        (local.set $s1 (i32.add (local.get $s1) (local.get $sStep)))
        (local.set $s2 (i32.add (local.get $s2) (local.get $sStep)))
        (local.set $s3 (i32.add (local.get $s3) (local.get $sStep)))
        (local.set $q (i32.add (local.get $q) (i32.const 64)))
        (local.set $qs (i32.add (local.get $qs) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $block)))
      (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (f32x4.mul (local.get $acc) (v128.load (i32.add (local.get $g) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $four)))
    (block $done (loop $one ;; the last k mod 4 rows
      (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
      (local.set $j (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (f32.mul (call $dotQ8
            (i32.add (local.get $w) (i32.add (i32.mul (i32.shr_u (local.get $j) (local.get $sh)) (local.get $A)) (i32.mul (i32.and (local.get $j) (local.get $m)) (local.get $C))))
            (i32.add (local.get $sBase) (i32.add (i32.mul (i32.shr_u (local.get $j) (local.get $sh)) (local.get $A2)) (i32.mul (i32.and (local.get $j) (local.get $m)) (local.get $C2))))
            (local.get $qx) (local.get $sx) (local.get $nb) (local.get $step) (local.get $sStep) (local.get $panels))
          (f32.load (i32.add (local.get $g) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $one))))

  ;; out [T][b0·32 … b1·32) f32 = h [T][F] · D (output blocks b0 … b1 of d/32; the rest of out untouched):
  ;; the FFN's down projection with D as ffn.bin holds it, a column
  ;; per neuron — quants [F][d] int8 at $w in the down-block layout (toDownBlocks: per 32 neurons and
  ;; 32 outputs, the 32 neurons' 32 bytes in one run of 1 KiB, so decode reads D in order instead of
  ;; 32 rows at a stride) — and its scales transposed, sT [d/32][F] f16 ($f16Bits). Blocks of 32 outputs share a scale along a neuron's column, not along the sum, so the
  ;; scale goes into the activation: per output block b, z[j] = h[j]·sT[b][j], quantized to i16 per
  ;; 32 neurons, one group of 32 neurons at a time (zq [T][d/32][32] i16, zs [T][d/32] f32, scratch). Then per 32
  ;; neurons × 32 outputs, two neurons' bytes are interleaved so that i32x4.dot_i16x8_s adds both
  ;; neurons' terms of four outputs: the dense down projection at matmulQ8's rate per MAC, with the
  ;; weights exactly as stored (a requantized [d][F] copy would cost memory and agreement).
  ;; F must be a multiple of 32.
  (func (export "downQ8") (param $w i32) (param $sT i32) (param $h i32) (param $T i32) (param $F i32) (param $d i32)
    (param $zq i32) (param $zs i32) (param $out i32) (param $b0 i32) (param $b1 i32)
    (local $nb i32) (local $t i32) (local $b i32) (local $j i32) (local $jb i32) (local $p i32) (local $row i32)
    (local $z i32) (local $rw i32) (local $o i32) (local $hp i32) (local $sp i32) (local $fb i32) (local $rows i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $v4 v128) (local $v5 v128) (local $v6 v128) (local $v7 v128)
    (local $m v128) (local $amax f32) (local $inv v128)
    (local $zz v128) (local $va v128) (local $vb v128) (local $lo v128) (local $hi v128) (local $sc v128)
    (local $i0 v128) (local $i1 v128) (local $i2 v128) (local $i3 v128) (local $i4 v128) (local $i5 v128) (local $i6 v128) (local $i7 v128)
    (local $zb v128) (local $e v128) (local $half i32)
    (local.set $nb (i32.shr_u (local.get $d) (i32.const 5)))
    (local.set $fb (i32.shr_u (local.get $F) (i32.const 5)))
    (local.set $rows (i32.mul (local.get $T) (local.get $nb)))
    (local.set $t (i32.const 0))
    (block $zeroed (loop $zero
      (br_if $zeroed (i32.ge_u (local.get $t) (local.get $T)))
      (call $fill (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $d)) (i32.shl (local.get $b0) (i32.const 5))) (i32.const 2)))
        (i32.shl (i32.sub (local.get $b1) (local.get $b0)) (i32.const 5)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $zero)))
    (local.set $jb (i32.const 0))
    ;; 32 neurons' columns (32·d bytes) stay in the cache across the tokens and output blocks
    (block $neurons (loop $neuron
      (br_if $neurons (i32.ge_u (local.get $jb) (local.get $fb)))
      ;; z of these 32 neurons for every token and output block (row t·nb + b), quantized as
      ;; quantizeI16 does, at zq [row] (64 bytes) and zs [row]: made just before use, so that z
      ;; stays in the cache (every group's z made first was 8.7 MB a chunk at 0.5B)
      (local.set $row (i32.const 0))
      (block $prepped (loop $prep
        (br_if $prepped (i32.ge_u (local.get $row) (local.get $rows)))
        (local.set $b (i32.rem_u (local.get $row) (local.get $nb)))
        (if (i32.or (i32.lt_u (local.get $b) (local.get $b0)) (i32.ge_u (local.get $b) (local.get $b1))) (then
          (local.set $row (i32.add (local.get $row) (i32.const 1)))
          (br $prep)))
        (local.set $hp (i32.add (local.get $h) (i32.shl (i32.add (i32.mul (i32.div_u (local.get $row) (local.get $nb)) (local.get $F)) (i32.shl (local.get $jb) (i32.const 5))) (i32.const 2))))
        (local.set $sp (i32.add (local.get $sT) (i32.shl (i32.add (i32.mul (local.get $b) (local.get $F)) (i32.shl (local.get $jb) (i32.const 5))) (i32.const 1))))
        (local.set $v0 (f32x4.mul (v128.load offset=0 (local.get $hp)) (f32x4.mul (i32x4.shl (v128.load16x4_u offset=0 (local.get $sp)) (i32.const 13)) (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))))
        (local.set $v1 (f32x4.mul (v128.load offset=16 (local.get $hp)) (f32x4.mul (i32x4.shl (v128.load16x4_u offset=8 (local.get $sp)) (i32.const 13)) (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))))
        (local.set $v2 (f32x4.mul (v128.load offset=32 (local.get $hp)) (f32x4.mul (i32x4.shl (v128.load16x4_u offset=16 (local.get $sp)) (i32.const 13)) (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))))
        (local.set $v3 (f32x4.mul (v128.load offset=48 (local.get $hp)) (f32x4.mul (i32x4.shl (v128.load16x4_u offset=24 (local.get $sp)) (i32.const 13)) (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))))
        (local.set $v4 (f32x4.mul (v128.load offset=64 (local.get $hp)) (f32x4.mul (i32x4.shl (v128.load16x4_u offset=32 (local.get $sp)) (i32.const 13)) (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))))
        (local.set $v5 (f32x4.mul (v128.load offset=80 (local.get $hp)) (f32x4.mul (i32x4.shl (v128.load16x4_u offset=40 (local.get $sp)) (i32.const 13)) (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))))
        (local.set $v6 (f32x4.mul (v128.load offset=96 (local.get $hp)) (f32x4.mul (i32x4.shl (v128.load16x4_u offset=48 (local.get $sp)) (i32.const 13)) (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))))
        (local.set $v7 (f32x4.mul (v128.load offset=112 (local.get $hp)) (f32x4.mul (i32x4.shl (v128.load16x4_u offset=56 (local.get $sp)) (i32.const 13)) (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))))
        (local.set $m (i32x4.max_s
          (i32x4.max_s (i32x4.max_s (f32x4.abs (local.get $v0)) (f32x4.abs (local.get $v1))) (i32x4.max_s (f32x4.abs (local.get $v2)) (f32x4.abs (local.get $v3))))
          (i32x4.max_s (i32x4.max_s (f32x4.abs (local.get $v4)) (f32x4.abs (local.get $v5))) (i32x4.max_s (f32x4.abs (local.get $v6)) (f32x4.abs (local.get $v7))))))
        (local.set $m (i32x4.max_s (local.get $m) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $m) (local.get $m))))
        (local.set $amax (f32x4.extract_lane 0 (i32x4.max_s (local.get $m) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $m) (local.get $m)))))
        (f32.store (i32.add (local.get $zs) (i32.shl (local.get $row) (i32.const 2))) (f32.div (local.get $amax) (f32.const 32767)))
        (local.set $z (i32.add (local.get $zq) (i32.shl (local.get $row) (i32.const 6))))
        (local.set $inv (f32x4.splat (if (result f32) (f32.gt (local.get $amax) (f32.const 0))
          (then (f32.div (f32.const 32767) (local.get $amax))) (else (f32.const 0)))))
        (v128.store offset=0 (local.get $z) (i16x8.narrow_i32x4_s
          (i32x4.sub (f32x4.add (f32x4.mul (local.get $v0) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))
          (i32x4.sub (f32x4.add (f32x4.mul (local.get $v1) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))))
        (v128.store offset=16 (local.get $z) (i16x8.narrow_i32x4_s
          (i32x4.sub (f32x4.add (f32x4.mul (local.get $v2) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))
          (i32x4.sub (f32x4.add (f32x4.mul (local.get $v3) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))))
        (v128.store offset=32 (local.get $z) (i16x8.narrow_i32x4_s
          (i32x4.sub (f32x4.add (f32x4.mul (local.get $v4) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))
          (i32x4.sub (f32x4.add (f32x4.mul (local.get $v5) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))))
        (v128.store offset=48 (local.get $z) (i16x8.narrow_i32x4_s
          (i32x4.sub (f32x4.add (f32x4.mul (local.get $v6) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))
          (i32x4.sub (f32x4.add (f32x4.mul (local.get $v7) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $prep)))
      (local.set $t (i32.const 0))
      ;; tokens two at a time, each neuron pair's bytes interleaved and widened once for both, half
      ;; a block (16 outputs) per pass to keep the 2 × 4 sums in registers: the same integer sums
      ;; and the same f32 steps as one token at a time below, so the same bits
      (block $pairs (loop $pairT
        (br_if $pairs (i32.ge_u (i32.add (local.get $t) (i32.const 1)) (local.get $T)))
        (local.set $b (local.get $b0))
        (block $blocks (loop $block
          (br_if $blocks (i32.ge_u (local.get $b) (local.get $b1)))
          (local.set $row (i32.add (i32.mul (local.get $t) (local.get $nb)) (local.get $b)))
          (local.set $half (i32.const 0))
          (block $halves (loop $halfBlock
            (br_if $halves (i32.ge_u (local.get $half) (i32.const 32)))
            (local.set $z (i32.add (local.get $zq) (i32.shl (local.get $row) (i32.const 6))))
            (local.set $rw (i32.add (i32.add (local.get $w) (i32.mul (i32.shl (local.get $jb) (i32.const 5)) (local.get $d)))
              (i32.add (i32.shl (local.get $b) (i32.const 10)) (local.get $half))))
            (local.set $i0 (v128.const i32x4 0 0 0 0))
            (local.set $i1 (v128.const i32x4 0 0 0 0))
            (local.set $i2 (v128.const i32x4 0 0 0 0))
            (local.set $i3 (v128.const i32x4 0 0 0 0))
            (local.set $i4 (v128.const i32x4 0 0 0 0))
            (local.set $i5 (v128.const i32x4 0 0 0 0))
            (local.set $i6 (v128.const i32x4 0 0 0 0))
            (local.set $i7 (v128.const i32x4 0 0 0 0))
            (local.set $p (i32.const 0))
            (block $done (loop $pair
              (br_if $done (i32.ge_u (local.get $p) (i32.const 16)))
              (local.set $zz (v128.load32_splat (local.get $z)))
              (local.set $zb (v128.load32_splat (i32.add (local.get $z) (i32.shl (local.get $nb) (i32.const 6)))))
              (local.set $va (v128.load (local.get $rw)))
              (local.set $vb (v128.load offset=32 (local.get $rw)))
              (local.set $lo (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $va) (local.get $vb)))
              (local.set $hi (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $va) (local.get $vb)))
              (local.set $e (i16x8.extend_low_i8x16_s (local.get $lo)))
              (local.set $i0 (i32x4.add (local.get $i0) (i32x4.dot_i16x8_s (local.get $e) (local.get $zz))))
              (local.set $i4 (i32x4.add (local.get $i4) (i32x4.dot_i16x8_s (local.get $e) (local.get $zb))))
              (local.set $e (i16x8.extend_high_i8x16_s (local.get $lo)))
              (local.set $i1 (i32x4.add (local.get $i1) (i32x4.dot_i16x8_s (local.get $e) (local.get $zz))))
              (local.set $i5 (i32x4.add (local.get $i5) (i32x4.dot_i16x8_s (local.get $e) (local.get $zb))))
              (local.set $e (i16x8.extend_low_i8x16_s (local.get $hi)))
              (local.set $i2 (i32x4.add (local.get $i2) (i32x4.dot_i16x8_s (local.get $e) (local.get $zz))))
              (local.set $i6 (i32x4.add (local.get $i6) (i32x4.dot_i16x8_s (local.get $e) (local.get $zb))))
              (local.set $e (i16x8.extend_high_i8x16_s (local.get $hi)))
              (local.set $i3 (i32x4.add (local.get $i3) (i32x4.dot_i16x8_s (local.get $e) (local.get $zz))))
              (local.set $i7 (i32x4.add (local.get $i7) (i32x4.dot_i16x8_s (local.get $e) (local.get $zb))))
              (local.set $z (i32.add (local.get $z) (i32.const 4)))
              (local.set $rw (i32.add (local.get $rw) (i32.const 64)))
              (local.set $p (i32.add (local.get $p) (i32.const 1)))
              (br $pair)))
            (local.set $z (i32.add (local.get $zs) (i32.shl (local.get $row) (i32.const 2))))
            (local.set $sc (v128.load32_splat (local.get $z)))
            (local.set $o (i32.add (local.get $out) (i32.shl (i32.add (i32.add (i32.mul (local.get $t) (local.get $d)) (i32.shl (local.get $b) (i32.const 5))) (local.get $half)) (i32.const 2))))
            (v128.store offset=0 (local.get $o) (f32x4.add (v128.load offset=0 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i0)) (local.get $sc))))
            (v128.store offset=16 (local.get $o) (f32x4.add (v128.load offset=16 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i1)) (local.get $sc))))
            (v128.store offset=32 (local.get $o) (f32x4.add (v128.load offset=32 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i2)) (local.get $sc))))
            (v128.store offset=48 (local.get $o) (f32x4.add (v128.load offset=48 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i3)) (local.get $sc))))
            (local.set $sc (v128.load32_splat (i32.add (local.get $z) (i32.shl (local.get $nb) (i32.const 2)))))
            (local.set $o (i32.add (local.get $o) (i32.shl (local.get $d) (i32.const 2))))
            (v128.store offset=0 (local.get $o) (f32x4.add (v128.load offset=0 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i4)) (local.get $sc))))
            (v128.store offset=16 (local.get $o) (f32x4.add (v128.load offset=16 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i5)) (local.get $sc))))
            (v128.store offset=32 (local.get $o) (f32x4.add (v128.load offset=32 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i6)) (local.get $sc))))
            (v128.store offset=48 (local.get $o) (f32x4.add (v128.load offset=48 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i7)) (local.get $sc))))
            (local.set $half (i32.add (local.get $half) (i32.const 16)))
            (br $halfBlock)))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br $block)))
        (local.set $t (i32.add (local.get $t) (i32.const 2)))
        (br $pairT)))
      ;; a last odd token (decode's one), a whole block per pass
      (block $tokens (loop $token
        (br_if $tokens (i32.ge_u (local.get $t) (local.get $T)))
        (local.set $b (local.get $b0))
        (block $blocks (loop $block
          (br_if $blocks (i32.ge_u (local.get $b) (local.get $b1)))
          (local.set $row (i32.add (i32.mul (local.get $t) (local.get $nb)) (local.get $b)))
          (local.set $z (i32.add (local.get $zq) (i32.shl (local.get $row) (i32.const 6))))
          (local.set $rw (i32.add (i32.add (local.get $w) (i32.mul (i32.shl (local.get $jb) (i32.const 5)) (local.get $d))) (i32.shl (local.get $b) (i32.const 10))))
        (local.set $i0 (v128.const i32x4 0 0 0 0))
        (local.set $i1 (v128.const i32x4 0 0 0 0))
        (local.set $i2 (v128.const i32x4 0 0 0 0))
        (local.set $i3 (v128.const i32x4 0 0 0 0))
        (local.set $i4 (v128.const i32x4 0 0 0 0))
        (local.set $i5 (v128.const i32x4 0 0 0 0))
        (local.set $i6 (v128.const i32x4 0 0 0 0))
        (local.set $i7 (v128.const i32x4 0 0 0 0))
          (local.set $p (i32.const 0))
          (block $pairs (loop $pair
            (br_if $pairs (i32.ge_u (local.get $p) (i32.const 16)))
            (local.set $zz (v128.load32_splat (local.get $z)))
            (local.set $va (v128.load (local.get $rw)))
            (local.set $vb (v128.load offset=32 (local.get $rw)))
            (local.set $lo (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $va) (local.get $vb)))
            (local.set $hi (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $va) (local.get $vb)))
            (local.set $i0 (i32x4.add (local.get $i0) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $lo)) (local.get $zz))))
            (local.set $i1 (i32x4.add (local.get $i1) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $lo)) (local.get $zz))))
            (local.set $i2 (i32x4.add (local.get $i2) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $hi)) (local.get $zz))))
            (local.set $i3 (i32x4.add (local.get $i3) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $hi)) (local.get $zz))))
            (local.set $va (v128.load offset=16 (local.get $rw)))
            (local.set $vb (v128.load offset=48 (local.get $rw)))
            (local.set $lo (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $va) (local.get $vb)))
            (local.set $hi (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $va) (local.get $vb)))
            (local.set $i4 (i32x4.add (local.get $i4) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $lo)) (local.get $zz))))
            (local.set $i5 (i32x4.add (local.get $i5) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $lo)) (local.get $zz))))
            (local.set $i6 (i32x4.add (local.get $i6) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $hi)) (local.get $zz))))
            (local.set $i7 (i32x4.add (local.get $i7) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $hi)) (local.get $zz))))
            (local.set $z (i32.add (local.get $z) (i32.const 4)))
            (local.set $rw (i32.add (local.get $rw) (i32.const 64)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $pair)))
          (local.set $sc (v128.load32_splat (i32.add (local.get $zs) (i32.shl (local.get $row) (i32.const 2)))))
          (local.set $o (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $d)) (i32.shl (local.get $b) (i32.const 5))) (i32.const 2))))
          (v128.store offset=0 (local.get $o) (f32x4.add (v128.load offset=0 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i0)) (local.get $sc))))
          (v128.store offset=16 (local.get $o) (f32x4.add (v128.load offset=16 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i1)) (local.get $sc))))
          (v128.store offset=32 (local.get $o) (f32x4.add (v128.load offset=32 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i2)) (local.get $sc))))
          (v128.store offset=48 (local.get $o) (f32x4.add (v128.load offset=48 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i3)) (local.get $sc))))
          (v128.store offset=64 (local.get $o) (f32x4.add (v128.load offset=64 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i4)) (local.get $sc))))
          (v128.store offset=80 (local.get $o) (f32x4.add (v128.load offset=80 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i5)) (local.get $sc))))
          (v128.store offset=96 (local.get $o) (f32x4.add (v128.load offset=96 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i6)) (local.get $sc))))
          (v128.store offset=112 (local.get $o) (f32x4.add (v128.load offset=112 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i7)) (local.get $sc))))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br $block)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $token)))
      (local.set $jb (i32.add (local.get $jb) (i32.const 1)))
      (br $neuron))))

  ;; y [b0·32 … b1·32) += the down projection of the kept neurons — k entries: neuron ids[i], its
  ;; column at row rows[i] of D, its h[i] — with downQ8's arithmetic: entries grouped as downQ8 groups
  ;; neurons (consecutive entries of one ids / 32), per group and output block b z = h · scale
  ;; quantized to i16 over the group's entries, the exact integer sums of two entries at a time, then
  ;; y += f32(sum) · zs. A skipped neuron is a zero z to downQ8, so over ids ascending this is downQ8
  ;; on h with the skipped neurons' h = 0, bit for bit, reading only the kept neurons' bytes.
  ;; Row j's block b of quants is at $w + (j / 32)·32·d + (j mod 32)·$R + b·$B: the row layout ($R d,
  ;; $B 32) or the down-block layout ($R 32, $B 1024); its scales [*][d/32] f32 at $ws.
  ;; $tmp: this call's own scratch (sparseDownScratch bytes): per group its entries' z (4 blocks at a
  ;; time) [32] v128, row addresses [32] i32, zs [nb + 4] f32, the pairs' z words [16][nb + 4] i32.
  (func (export "sparseDownQ8") (param $y i32) (param $w i32) (param $ws i32) (param $h i32) (param $rows i32) (param $ids i32)
    (param $k i32) (param $d i32) (param $R i32) (param $B i32) (param $b0 i32) (param $b1 i32) (param $tmp i32)
    (local $i i32) (local $e i32) (local $n i32) (local $m i32) (local $j i32) (local $g i32) (local $nb i32) (local $stride i32)
    (local $b i32) (local $one i32) (local $p i32) (local $pairs i32) (local $addr i32) (local $zsv i32) (local $a0 i32) (local $a1 i32) (local $o i32) (local $pz i32)
    (local $s v128) (local $v v128) (local $amax v128) (local $inv v128) (local $q0 v128) (local $q1 v128)
    (local $zz v128) (local $va v128) (local $vb v128) (local $lo v128) (local $hi v128) (local $sc v128)
    (local $i0 v128) (local $i1 v128) (local $i2 v128) (local $i3 v128) (local $i4 v128) (local $i5 v128) (local $i6 v128) (local $i7 v128)
    (local.set $nb (i32.shr_u (local.get $d) (i32.const 5)))
    (local.set $stride (i32.shl (i32.add (local.get $nb) (i32.const 4)) (i32.const 2)))
    (local.set $addr (i32.add (local.get $tmp) (i32.const 512)))
    (local.set $zsv (i32.add (local.get $tmp) (i32.const 640)))
    (local.set $pairs (i32.add (local.get $zsv) (local.get $stride)))
    (block $groups (loop $group
      (br_if $groups (i32.ge_u (local.get $i) (local.get $k)))
      ;; the group: entries i … e of one ids / 32 (at most 32), and their row addresses
      (local.set $g (i32.shr_u (i32.load (i32.add (local.get $ids) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 5)))
      (local.set $e (local.get $i))
      (block $found (loop $scan
        (br_if $found (i32.ge_u (local.get $e) (local.get $k)))
        (br_if $found (i32.ne (i32.shr_u (i32.load (i32.add (local.get $ids) (i32.shl (local.get $e) (i32.const 2)))) (i32.const 5)) (local.get $g)))
        (br_if $found (i32.eq (i32.sub (local.get $e) (local.get $i)) (i32.const 32))) ;; ids not ascending: never past the scratch
        (local.set $j (i32.load (i32.add (local.get $rows) (i32.shl (local.get $e) (i32.const 2)))))
        (i32.store (i32.add (local.get $addr) (i32.shl (i32.sub (local.get $e) (local.get $i)) (i32.const 2)))
          (i32.add (local.get $w) (i32.add (i32.mul (i32.shl (i32.shr_u (local.get $j) (i32.const 5)) (i32.const 5)) (local.get $d))
            (i32.mul (i32.and (local.get $j) (i32.const 31)) (local.get $R)))))
        (local.set $e (i32.add (local.get $e) (i32.const 1)))
        (br $scan)))
      (local.set $n (i32.sub (local.get $e) (local.get $i)))
      (if (i32.and (local.get $n) (i32.const 1)) (then ;; an odd count: the last pair's second is the first again, with z 0
        (i32.store (i32.add (local.get $addr) (i32.shl (local.get $n) (i32.const 2))) (i32.load (i32.add (local.get $addr) (i32.shl (i32.sub (local.get $n) (i32.const 1)) (i32.const 2)))))))
      ;; z of every entry for blocks b … b + 4 (the last b1 − b0 mod 4 blocks one at a time), each
      ;; block's amax over the entries, zs, and the pairs' z words (entry 2p's i16 low, 2p + 1's high)
      (local.set $b (local.get $b0))
      (block $zdone (loop $zblocks
        (br_if $zdone (i32.ge_u (local.get $b) (local.get $b1)))
        (local.set $one (i32.gt_u (i32.add (local.get $b) (i32.const 4)) (local.get $b1)))
        (local.set $amax (v128.const i32x4 0 0 0 0))
        (local.set $m (i32.const 0))
        (block $vdone (loop $vloop
          (br_if $vdone (i32.ge_u (local.get $m) (local.get $n)))
          (local.set $j (i32.add (local.get $ws) (i32.shl (i32.add (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (i32.add (local.get $i) (local.get $m)) (i32.const 2)))) (local.get $nb)) (local.get $b)) (i32.const 2))))
          (local.set $s (if (result v128) (local.get $one) (then (v128.load32_zero (local.get $j))) (else (v128.load (local.get $j)))))
          (local.set $v (f32x4.mul (v128.load32_splat (i32.add (local.get $h) (i32.shl (i32.add (local.get $i) (local.get $m)) (i32.const 2)))) (local.get $s)))
          (v128.store (i32.add (local.get $tmp) (i32.shl (local.get $m) (i32.const 4))) (local.get $v))
          (local.set $amax (i32x4.max_s (local.get $amax) (f32x4.abs (local.get $v))))
          (local.set $m (i32.add (local.get $m) (i32.const 1)))
          (br $vloop)))
        (v128.store (i32.add (local.get $zsv) (i32.shl (local.get $b) (i32.const 2))) (f32x4.div (local.get $amax) (v128.const f32x4 32767 32767 32767 32767)))
        (local.set $inv (v128.bitselect (f32x4.div (v128.const f32x4 32767 32767 32767 32767) (local.get $amax)) (v128.const i32x4 0 0 0 0)
          (f32x4.gt (local.get $amax) (v128.const f32x4 0 0 0 0))))
        (local.set $m (i32.const 0))
        (block $qdone (loop $qloop
          (br_if $qdone (i32.ge_u (local.get $m) (local.get $n)))
          (local.set $q0 (i32x4.sub (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $tmp) (i32.shl (local.get $m) (i32.const 4)))) (local.get $inv))
            (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000)))
          (local.set $q1 (if (result v128) (i32.lt_u (i32.add (local.get $m) (i32.const 1)) (local.get $n))
            (then (i32x4.sub (f32x4.add (f32x4.mul (v128.load offset=16 (i32.add (local.get $tmp) (i32.shl (local.get $m) (i32.const 4)))) (local.get $inv))
              (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000)))
            (else (v128.const i32x4 0 0 0 0))))
          (v128.store (i32.add (i32.add (local.get $pairs) (i32.mul (i32.shr_u (local.get $m) (i32.const 1)) (local.get $stride))) (i32.shl (local.get $b) (i32.const 2)))
            (i8x16.shuffle 0 1 16 17 4 5 20 21 8 9 24 25 12 13 28 29 (local.get $q0) (local.get $q1)))
          (local.set $m (i32.add (local.get $m) (i32.const 2)))
          (br $qloop)))
        (local.set $b (i32.add (local.get $b) (select (i32.const 1) (i32.const 4) (local.get $one))))
        (br $zblocks)))
      ;; per output block, the pairs' integer sums (downQ8's single-token pass), then y += f32(sum) · zs
      (local.set $b (local.get $b0))
      (block $blocks (loop $block
        (br_if $blocks (i32.ge_u (local.get $b) (local.get $b1)))
        (local.set $i0 (v128.const i32x4 0 0 0 0)) (local.set $i1 (v128.const i32x4 0 0 0 0))
        (local.set $i2 (v128.const i32x4 0 0 0 0)) (local.set $i3 (v128.const i32x4 0 0 0 0))
        (local.set $i4 (v128.const i32x4 0 0 0 0)) (local.set $i5 (v128.const i32x4 0 0 0 0))
        (local.set $i6 (v128.const i32x4 0 0 0 0)) (local.set $i7 (v128.const i32x4 0 0 0 0))
        (local.set $pz (i32.add (local.get $pairs) (i32.shl (local.get $b) (i32.const 2))))
        (local.set $o (i32.mul (local.get $b) (local.get $B)))
        (local.set $p (i32.const 0))
        (block $pdone (loop $pair
          (br_if $pdone (i32.ge_u (local.get $p) (local.get $n)))
          (local.set $zz (v128.load32_splat (local.get $pz)))
          (local.set $a0 (i32.add (i32.load (i32.add (local.get $addr) (i32.shl (local.get $p) (i32.const 2)))) (local.get $o)))
          (local.set $a1 (i32.add (i32.load offset=4 (i32.add (local.get $addr) (i32.shl (local.get $p) (i32.const 2)))) (local.get $o)))
          (local.set $va (v128.load (local.get $a0)))
          (local.set $vb (v128.load (local.get $a1)))
          (local.set $lo (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $va) (local.get $vb)))
          (local.set $hi (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $va) (local.get $vb)))
          (local.set $i0 (i32x4.add (local.get $i0) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $lo)) (local.get $zz))))
          (local.set $i1 (i32x4.add (local.get $i1) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $lo)) (local.get $zz))))
          (local.set $i2 (i32x4.add (local.get $i2) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $hi)) (local.get $zz))))
          (local.set $i3 (i32x4.add (local.get $i3) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $hi)) (local.get $zz))))
          (local.set $va (v128.load offset=16 (local.get $a0)))
          (local.set $vb (v128.load offset=16 (local.get $a1)))
          (local.set $lo (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $va) (local.get $vb)))
          (local.set $hi (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $va) (local.get $vb)))
          (local.set $i4 (i32x4.add (local.get $i4) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $lo)) (local.get $zz))))
          (local.set $i5 (i32x4.add (local.get $i5) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $lo)) (local.get $zz))))
          (local.set $i6 (i32x4.add (local.get $i6) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $hi)) (local.get $zz))))
          (local.set $i7 (i32x4.add (local.get $i7) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $hi)) (local.get $zz))))
          (local.set $pz (i32.add (local.get $pz) (local.get $stride)))
          (local.set $p (i32.add (local.get $p) (i32.const 2)))
          (br $pair)))
        (local.set $sc (v128.load32_splat (i32.add (local.get $zsv) (i32.shl (local.get $b) (i32.const 2)))))
        (local.set $o (i32.add (local.get $y) (i32.shl (local.get $b) (i32.const 7))))
        (v128.store offset=0 (local.get $o) (f32x4.add (v128.load offset=0 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i0)) (local.get $sc))))
        (v128.store offset=16 (local.get $o) (f32x4.add (v128.load offset=16 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i1)) (local.get $sc))))
        (v128.store offset=32 (local.get $o) (f32x4.add (v128.load offset=32 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i2)) (local.get $sc))))
        (v128.store offset=48 (local.get $o) (f32x4.add (v128.load offset=48 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i3)) (local.get $sc))))
        (v128.store offset=64 (local.get $o) (f32x4.add (v128.load offset=64 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i4)) (local.get $sc))))
        (v128.store offset=80 (local.get $o) (f32x4.add (v128.load offset=80 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i5)) (local.get $sc))))
        (v128.store offset=96 (local.get $o) (f32x4.add (v128.load offset=96 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i6)) (local.get $sc))))
        (v128.store offset=112 (local.get $o) (f32x4.add (v128.load offset=112 (local.get $o)) (f32x4.mul (f32x4.convert_i32x4_s (local.get $i7)) (local.get $sc))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $block)))
      (local.set $i (local.get $e))
      (br $group))))

  ;; ── The steps around the matmuls, per token, so the threads run them too and JavaScript does not
  ;; (norm.ts, rope.ts and the KV cache's JavaScript did them, in f64 as JavaScript computes; these give
  ;; the same bits: the same f64 operations in the same order, rounded to f32 where it stored).

  ;; out[t] = x[t] · w / rms(x[t]) for tokens t < T, rows of d f32 (norm.ts' rmsNorm): the squares
  ;; summed in f64 in order, inv = 1 / √(sum / d + eps), each value (x · inv) · w in f64.
  ;; $eps: the address of eps as an f64.
  (func (export "rmsNorm") (param $x i32) (param $w i32) (param $eps i32) (param $out i32) (param $T i32) (param $d i32)
    (local $end i32) (local $i i32) (local $sum f64) (local $inv f64) (local $v f64)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.mul (local.get $T) (local.get $d)) (i32.const 2))))
    (block $done (loop $token
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $sum (f64.const 0))
      (local.set $i (i32.const 0))
      (block $summed (loop $square
        (br_if $summed (i32.ge_u (local.get $i) (local.get $d)))
        (local.set $v (f64.promote_f32 (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $sum (f64.add (local.get $sum) (f64.mul (local.get $v) (local.get $v))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $square)))
      (local.set $inv (f64.div (f64.const 1) (f64.sqrt (f64.add (f64.div (local.get $sum) (f64.convert_i32_u (local.get $d))) (f64.load (local.get $eps))))))
      (local.set $i (i32.const 0))
      (block $scaled (loop $scale
        (br_if $scaled (i32.ge_u (local.get $i) (local.get $d)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (f32.demote_f64 (f64.mul
            (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))) (local.get $inv))
            (f64.promote_f32 (f32.load (i32.add (local.get $w) (i32.shl (local.get $i) (i32.const 2))))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scale)))
      (local.set $x (i32.add (local.get $x) (i32.shl (local.get $d) (i32.const 2))))
      (local.set $out (i32.add (local.get $out) (i32.shl (local.get $d) (i32.const 2))))
      (br $token))))

  ;; y[0…n) += x[0…n) (f32; n a multiple of 4): the residual adds.
  (func (export "addInto") (param $y i32) (param $x i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $y) (f32x4.add (v128.load (local.get $y)) (v128.load (local.get $x))))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (br $next))))

  ;; JavaScript's Math.round of an f64: the nearest integer, halves toward +∞.
  (func $roundHalfUp (param $v f64) (result f64)
    (local $f f64)
    (local.set $f (f64.floor (local.get $v)))
    (if (result f64) (f64.ge (f64.sub (local.get $v) (local.get $f)) (f64.const 0.5))
      (then (f64.add (local.get $f) (f64.const 1))) (else (local.get $f))))

  ;; After the qkv projection of T tokens (rows of n = (H + 2·Hkv)·hd f32 at $q, the queries, keys,
  ;; values of each head in turn): + bias ($bias 0: none); RoPE on the queries and keys, rotating
  ;; value i with i + hd/2 by the angle whose f32 cosine and sine are $trig [T][hd/2][2]; queries ·=
  ;; the f32 at $scale; then each key and value row written into the 8-bit KV cache as
  ;; the KV cache's JavaScript did (scale max|row| / 127, quants Math.round(v · 127 / max)): quants at
  ;; $kq, scales at $ks, row ((kind·Hkv + g)·$cap) + $row0 + t for token t (row0: the layer's first
  ;; row plus the first token's position).
  (func (export "qkvPost") (param $q i32) (param $n i32) (param $T i32) (param $H i32) (param $Hkv i32) (param $hd i32)
    (param $trig i32) (param $scale i32) (param $bias i32) (param $kq i32) (param $ks i32) (param $row0 i32) (param $cap i32)
    (local $t i32) (local $i i32) (local $h i32) (local $half i32) (local $a i32) (local $b i32) (local $c f64) (local $s f64)
    (local $first f64) (local $second f64) (local $sc v128) (local $g i32) (local $src i32) (local $row i32)
    (local $max f32) (local $inv f64) (local $qend i32)
    (local.set $half (i32.shr_u (local.get $hd) (i32.const 1)))
    (local.set $sc (v128.load32_splat (local.get $scale)))
    (block $tokens (loop $token
      (br_if $tokens (i32.ge_u (local.get $t) (local.get $T)))
      (if (local.get $bias) (then
        (local.set $i (i32.const 0))
        (block $biased (loop $addBias
          (br_if $biased (i32.ge_u (local.get $i) (local.get $n)))
          (v128.store (i32.add (local.get $q) (i32.shl (local.get $i) (i32.const 2)))
            (f32x4.add (v128.load (i32.add (local.get $q) (i32.shl (local.get $i) (i32.const 2))))
                       (v128.load (i32.add (local.get $bias) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $addBias)))))
      (local.set $i (i32.const 0))
      (block $rotated (loop $freq
        (br_if $rotated (i32.ge_u (local.get $i) (local.get $half)))
        (local.set $c (f64.promote_f32 (f32.load (local.get $trig))))
        (local.set $s (f64.promote_f32 (f32.load offset=4 (local.get $trig))))
        (local.set $h (i32.const 0))
        (block $heads (loop $head
          (br_if $heads (i32.ge_u (local.get $h) (i32.add (local.get $H) (local.get $Hkv))))
          (local.set $a (i32.add (local.get $q) (i32.shl (i32.add (i32.mul (local.get $h) (local.get $hd)) (local.get $i)) (i32.const 2))))
          (local.set $b (i32.add (local.get $a) (i32.shl (local.get $half) (i32.const 2))))
          (local.set $first (f64.promote_f32 (f32.load (local.get $a))))
          (local.set $second (f64.promote_f32 (f32.load (local.get $b))))
          (f32.store (local.get $a) (f32.demote_f64 (f64.sub (f64.mul (local.get $first) (local.get $c)) (f64.mul (local.get $second) (local.get $s)))))
          (f32.store (local.get $b) (f32.demote_f64 (f64.add (f64.mul (local.get $second) (local.get $c)) (f64.mul (local.get $first) (local.get $s)))))
          (local.set $h (i32.add (local.get $h) (i32.const 1)))
          (br $head)))
        (local.set $trig (i32.add (local.get $trig) (i32.const 8)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $freq)))
      (local.set $i (i32.const 0))
      (block $scaled (loop $scaleQ
        (br_if $scaled (i32.ge_u (local.get $i) (i32.mul (local.get $H) (local.get $hd))))
        (v128.store (i32.add (local.get $q) (i32.shl (local.get $i) (i32.const 2)))
          (f32x4.mul (v128.load (i32.add (local.get $q) (i32.shl (local.get $i) (i32.const 2)))) (local.get $sc)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $scaleQ)))
      (local.set $g (i32.const 0)) ;; key rows (g < Hkv), then value rows
      (block $written (loop $kvRow
        (br_if $written (i32.ge_u (local.get $g) (i32.shl (local.get $Hkv) (i32.const 1))))
        (local.set $src (i32.add (local.get $q) (i32.shl (i32.mul (i32.add (local.get $H) (local.get $g)) (local.get $hd)) (i32.const 2))))
        (local.set $row (i32.add (i32.add (i32.mul (local.get $g) (local.get $cap)) (local.get $row0)) (local.get $t)))
        (local.set $max (f32.const 0))
        (local.set $i (i32.const 0))
        (block $m (loop $maxAbs
          (br_if $m (i32.ge_u (local.get $i) (local.get $hd)))
          (local.set $max (f32.max (local.get $max) (f32.abs (f32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $maxAbs)))
        (f32.store (i32.add (local.get $ks) (i32.shl (local.get $row) (i32.const 2))) (f32.div (local.get $max) (f32.const 127)))
        (local.set $inv (if (result f64) (f32.gt (local.get $max) (f32.const 0))
          (then (f64.div (f64.const 127) (f64.promote_f32 (local.get $max)))) (else (f64.const 0))))
        (local.set $i (i32.const 0))
        (block $q8 (loop $quant
          (br_if $q8 (i32.ge_u (local.get $i) (local.get $hd)))
          (i32.store8 (i32.add (i32.add (local.get $kq) (i32.mul (local.get $row) (local.get $hd))) (local.get $i))
            (i32.trunc_sat_f64_s (call $roundHalfUp (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))) (local.get $inv)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $quant)))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br $kvRow)))
      (local.set $q (i32.add (local.get $q) (i32.shl (local.get $n) (i32.const 2))))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $token))))

  ;; ── The KV cache in 8 bits: keys and values stored per (layer, kind, KV head, position) row of hd
  ;; int8 quants with one f32 scale (max|row| / 127), a quarter of f32's bytes. hd: a multiple of 8,
  ;; at most 256 (a row's integer dot, hd × 127 × 32767, stays inside i32).
  ;; Causal attention of a chunk of T tokens for the heads of one KV group: token t (position
  ;; S0 + t) of head h attends to positions 0…S0+t, already stored. Queries f32 at $q + t·$qStride
  ;; + h·hd·4 (scaled, rotated); keys and values int8 [S][hd] at $k and $v, their row scales f32 [S]
  ;; at $ks and $vs; results f32 at $out + t·$outStride + h·hd·4. Scratch: $scores (S0 + T floats),
  ;; $qx (hd·2 bytes: the query in i16). A score is an exact integer dot of the query quantized to
  ;; 16 bits (one scale per head) with the key's int8 row, scaled once; the weighted values convert
  ;; int8 to f32. One call per group and chunk.
  (func (export "attendQ8") (param $q i32) (param $qStride i32) (param $k i32) (param $ks i32) (param $v i32) (param $vs i32)
    (param $S0 i32) (param $T i32) (param $heads i32) (param $hd i32) (param $scores i32) (param $qx i32) (param $out i32) (param $outStride i32)
    (local $t i32) (local $h i32) (local $S i32) (local $s i32) (local $qp i32) (local $op i32) (local $sq f32)
    (local $row i32) (local $c i32) (local $acc v128)
    (block $tokens (loop $token
      (br_if $tokens (i32.ge_u (local.get $t) (local.get $T)))
      (local.set $S (i32.add (i32.add (local.get $S0) (local.get $t)) (i32.const 1)))
      (local.set $h (i32.const 0))
      (block $done (loop $head
        (br_if $done (i32.ge_u (local.get $h) (local.get $heads)))
        (local.set $qp (i32.add (i32.add (local.get $q) (i32.mul (local.get $t) (local.get $qStride))) (i32.shl (i32.mul (local.get $h) (local.get $hd)) (i32.const 2))))
        (local.set $op (i32.add (i32.add (local.get $out) (i32.mul (local.get $t) (local.get $outStride))) (i32.shl (i32.mul (local.get $h) (local.get $hd)) (i32.const 2))))
        (local.set $sq (call $quantizeRowI16 (local.get $qp) (local.get $hd) (local.get $qx)))
        (local.set $s (i32.const 0))
        (local.set $row (local.get $k))
        (block $scored (loop $score
          (br_if $scored (i32.ge_u (local.get $s) (local.get $S)))
          (local.set $acc (v128.const i32x4 0 0 0 0))
          (local.set $c (i32.const 0))
          (loop $eight
            (local.set $acc (i32x4.add (local.get $acc) (i32x4.dot_i16x8_s
              (v128.load8x8_s (i32.add (local.get $row) (local.get $c)))
              (v128.load (i32.add (local.get $qx) (i32.shl (local.get $c) (i32.const 1)))))))
            (local.set $c (i32.add (local.get $c) (i32.const 8)))
            (br_if $eight (i32.lt_u (local.get $c) (local.get $hd))))
          (f32.store (i32.add (local.get $scores) (i32.shl (local.get $s) (i32.const 2)))
            (f32.mul (f32.convert_i32_s (call $sumI32 (local.get $acc)))
              (f32.mul (local.get $sq) (f32.load (i32.add (local.get $ks) (i32.shl (local.get $s) (i32.const 2)))))))
          (local.set $row (i32.add (local.get $row) (local.get $hd)))
          (local.set $s (i32.add (local.get $s) (i32.const 1)))
          (br $score)))
        (call $softmax (local.get $scores) (local.get $S))
        (call $weightedRowsQ8 (local.get $scores) (local.get $v) (local.get $vs) (local.get $S) (local.get $hd) (local.get $op))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $head)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $token))))

  ;; qx[0…n) i16 = x[0…n) f32 quantized with one scale, max|x| / 32767 (returned; 0 for a row of
  ;; zeros); n a multiple of 8.
  (func $quantizeRowI16 (param $x i32) (param $n i32) (param $qx i32) (result f32)
    (local $i i32) (local $m v128) (local $amax f32) (local $inv v128)
    (local.set $m (v128.const i32x4 0 0 0 0))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $m (f32x4.max (local.get $m) (f32x4.abs (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $next)))
    (local.set $m (i32x4.max_s (local.get $m) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $m) (local.get $m))))
    (local.set $amax (f32x4.extract_lane 0 (i32x4.max_s (local.get $m) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $m) (local.get $m)))))
    (local.set $inv (f32x4.splat (if (result f32) (f32.gt (local.get $amax) (f32.const 0))
      (then (f32.div (f32.const 32767) (local.get $amax))) (else (f32.const 0)))))
    (local.set $i (i32.const 0))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (v128.store (i32.add (local.get $qx) (i32.shl (local.get $i) (i32.const 1))) (i16x8.narrow_i32x4_s
        (i32x4.sub (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))
        (i32x4.sub (f32x4.add (f32x4.mul (v128.load offset=16 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))) (local.get $inv)) (v128.const f32x4 12582912 12582912 12582912 12582912)) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000))))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br $next)))
    (f32.div (local.get $amax) (f32.const 32767)))

  ;; y[0…hd) = Σ_s p[s] · vs[s] · v[s][·] over s < S: int8 rows [S][hd] at $v with row scales $vs.
  ;; 32 outputs at a time stay in eight accumulators across every row; then 8 at a time.
  (func $weightedRowsQ8 (param $p i32) (param $v i32) (param $vs i32) (param $S i32) (param $hd i32) (param $y i32)
    (local $c i32) (local $s i32) (local $w v128) (local $x v128) (local $row i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (block $cols (loop $col
      (br_if $cols (i32.gt_u (i32.add (local.get $c) (i32.const 32)) (local.get $hd)))
      (local.set $a0 (v128.const i32x4 0 0 0 0)) (local.set $a1 (v128.const i32x4 0 0 0 0))
      (local.set $a2 (v128.const i32x4 0 0 0 0)) (local.set $a3 (v128.const i32x4 0 0 0 0))
      (local.set $a4 (v128.const i32x4 0 0 0 0)) (local.set $a5 (v128.const i32x4 0 0 0 0))
      (local.set $a6 (v128.const i32x4 0 0 0 0)) (local.set $a7 (v128.const i32x4 0 0 0 0))
      (local.set $s (i32.const 0))
      (local.set $row (i32.add (local.get $v) (local.get $c)))
      (block $rows (loop $next
        (br_if $rows (i32.ge_u (local.get $s) (local.get $S)))
        (local.set $w (f32x4.splat (f32.mul
          (f32.load (i32.add (local.get $p) (i32.shl (local.get $s) (i32.const 2))))
          (f32.load (i32.add (local.get $vs) (i32.shl (local.get $s) (i32.const 2)))))))
        (local.set $x (v128.load8x8_s (local.get $row)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $w) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $x))))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $w) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $x))))))
        (local.set $x (v128.load8x8_s offset=8 (local.get $row)))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $w) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $x))))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $w) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $x))))))
        (local.set $x (v128.load8x8_s offset=16 (local.get $row)))
        (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $w) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $x))))))
        (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $w) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $x))))))
        (local.set $x (v128.load8x8_s offset=24 (local.get $row)))
        (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $w) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $x))))))
        (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $w) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $x))))))
        (local.set $row (i32.add (local.get $row) (local.get $hd)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $next)))
      (local.set $row (i32.add (local.get $y) (i32.shl (local.get $c) (i32.const 2))))
      (v128.store (local.get $row) (local.get $a0))
      (v128.store offset=16 (local.get $row) (local.get $a1))
      (v128.store offset=32 (local.get $row) (local.get $a2))
      (v128.store offset=48 (local.get $row) (local.get $a3))
      (v128.store offset=64 (local.get $row) (local.get $a4))
      (v128.store offset=80 (local.get $row) (local.get $a5))
      (v128.store offset=96 (local.get $row) (local.get $a6))
      (v128.store offset=112 (local.get $row) (local.get $a7))
      (local.set $c (i32.add (local.get $c) (i32.const 32)))
      (br $col)))
    (block $cols (loop $col
      (br_if $cols (i32.ge_u (local.get $c) (local.get $hd)))
      (local.set $a0 (v128.const i32x4 0 0 0 0)) (local.set $a1 (v128.const i32x4 0 0 0 0))
      (local.set $s (i32.const 0))
      (local.set $row (i32.add (local.get $v) (local.get $c)))
      (block $rows (loop $next
        (br_if $rows (i32.ge_u (local.get $s) (local.get $S)))
        (local.set $w (f32x4.splat (f32.mul
          (f32.load (i32.add (local.get $p) (i32.shl (local.get $s) (i32.const 2))))
          (f32.load (i32.add (local.get $vs) (i32.shl (local.get $s) (i32.const 2)))))))
        (local.set $x (v128.load8x8_s (local.get $row)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $w) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $x))))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $w) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $x))))))
        (local.set $row (i32.add (local.get $row) (local.get $hd)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $next)))
      (local.set $row (i32.add (local.get $y) (i32.shl (local.get $c) (i32.const 2))))
      (v128.store (local.get $row) (local.get $a0))
      (v128.store offset=16 (local.get $row) (local.get $a1))
      (local.set $c (i32.add (local.get $c) (i32.const 8)))
      (br $col))))

  ;; The quants of D [F][d] int8 (row layout, F a multiple of 32) at $ptr rewritten in place in the
  ;; down-block layout downQ8 reads: per 32 neurons, per output block b, the 32 neurons' bytes of
  ;; block b in neuron order (1 KiB). Each 32 neurons go through $tmp (32·d bytes).
  (func (export "toDownBlocks") (param $ptr i32) (param $F i32) (param $d i32) (param $tmp i32)
    (local $g i32) (local $i i32) (local $r i32) (local $b i32) (local $src i32) (local $dst i32) (local $groupBytes i32)
    (local.set $groupBytes (i32.shl (local.get $d) (i32.const 5)))
    (block $groups (loop $group
      (br_if $groups (i32.ge_u (local.get $g) (local.get $F)))
      (local.set $i (i32.const 0))
      (loop $save
        (v128.store (i32.add (local.get $tmp) (local.get $i)) (v128.load (i32.add (local.get $ptr) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br_if $save (i32.lt_u (local.get $i) (local.get $groupBytes))))
      (local.set $r (i32.const 0))
      (loop $row
        (local.set $src (i32.add (local.get $tmp) (i32.mul (local.get $r) (local.get $d))))
        (local.set $dst (i32.add (local.get $ptr) (i32.shl (local.get $r) (i32.const 5))))
        (local.set $b (i32.const 0))
        (loop $block
          (v128.store (local.get $dst) (v128.load (local.get $src)))
          (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
          (local.set $src (i32.add (local.get $src) (i32.const 32)))
          (local.set $dst (i32.add (local.get $dst) (i32.const 1024)))
          (local.set $b (i32.add (local.get $b) (i32.const 32)))
          (br_if $block (i32.lt_u (local.get $b) (local.get $d))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $row (i32.lt_u (local.get $r) (i32.const 32))))
      (local.set $ptr (i32.add (local.get $ptr) (local.get $groupBytes)))
      (local.set $g (i32.add (local.get $g) (i32.const 32)))
      (br $group))))

  ;; ffn.bin's records of a silu model's layer (FORMAT.md §F: per neuron [up quants d | down quants d
  ;; | up scales d/32 | down scales d/32]) at $src split into what the dense FFN runs on: up rows
  ;; [F][d] at $up with scales [F][d/32] at $us (row layout), down columns [F][d] at $down in the
  ;; down-block layout (toDownBlocks) with scales transposed [d/32][F] f16 at $dsT (downQ8). A streamed layer is split on each use, so here
  ;; rather than in JavaScript. d a multiple of 32.
  (func (export "splitRecordsQ8") (param $src i32) (param $F i32) (param $d i32) (param $up i32) (param $us i32) (param $down i32) (param $dsT i32)
    (local $j i32) (local $i i32) (local $nb i32) (local $scales i32) (local $dj i32)
    (local.set $nb (i32.shr_u (local.get $d) (i32.const 5)))
    (block $done (loop $record
      (br_if $done (i32.ge_u (local.get $j) (local.get $F)))
      (local.set $i (i32.const 0))
      (loop $copy
        (v128.store (i32.add (local.get $up) (local.get $i)) (v128.load (i32.add (local.get $src) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br_if $copy (i32.lt_u (local.get $i) (local.get $d))))
      ;; down in the down-block layout: block b of neuron j at (j / 32)·32·d + b·1024 + (j mod 32)·32
      (local.set $dj (i32.add (local.get $down) (i32.add (i32.mul (i32.shl (i32.shr_u (local.get $j) (i32.const 5)) (i32.const 5)) (local.get $d))
        (i32.shl (i32.and (local.get $j) (i32.const 31)) (i32.const 5)))))
      (local.set $i (i32.const 0))
      (loop $copyDown
        (v128.store (local.get $dj) (v128.load (i32.add (i32.add (local.get $src) (local.get $d)) (local.get $i))))
        (v128.store offset=16 (local.get $dj) (v128.load offset=16 (i32.add (i32.add (local.get $src) (local.get $d)) (local.get $i))))
        (local.set $dj (i32.add (local.get $dj) (i32.const 1024)))
        (local.set $i (i32.add (local.get $i) (i32.const 32)))
        (br_if $copyDown (i32.lt_u (local.get $i) (local.get $d))))
      (local.set $scales (i32.add (local.get $src) (i32.shl (local.get $d) (i32.const 1))))
      (local.set $i (i32.const 0))
      (loop $scale
        (f32.store (i32.add (local.get $us) (i32.shl (local.get $i) (i32.const 2))) (f32.load (i32.add (local.get $scales) (i32.shl (local.get $i) (i32.const 2)))))
        (i32.store16 (i32.add (local.get $dsT) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $F)) (local.get $j)) (i32.const 1)))
          (call $f16Bits (f32.load (i32.add (local.get $scales) (i32.shl (i32.add (local.get $nb) (local.get $i)) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $scale (i32.lt_u (local.get $i) (local.get $nb))))
      (local.set $src (i32.add (local.get $scales) (i32.shl (local.get $nb) (i32.const 3))))
      (local.set $up (i32.add (local.get $up) (local.get $d)))
      (local.set $us (i32.add (local.get $us) (i32.shl (local.get $nb) (i32.const 2))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $record))))

  ;; ── 4-bit kernels (format v2, models/FORMAT.md §Q4: q4_32 matrices, nibbles [rows][d/2] u8, then
  ;; scales and mins [rows][d/32] f32; byte k of a block holds value k in its low 4 bits and value
  ;; k + 16 in its high 4 bits, as GGUF's Q4_0/Q4_1). A block's value is q·scale + min, so its dot
  ;; with a quantized activation block is scale·Σ q·qx + min·Σ qx, both scaled by the block's sx:
  ;; the activation sum is computed once per block and token and shared by the four rows.

  ;; out[t][r] = W[r] · x[t] for rows r < n and tokens t < T: W q4 [n][d] (nibbles $w, scales $ws,
  ;; mins $wm), x quantized [T][d] (qx i16, sx f32 [T][d/32]), out [T][n] f32. Four rows at a time
  ;; share each activation block and its sum (as matmulQ8); the last n mod 4 rows one by one. Per
  ;; row and block: nibbles masked (low: values 0–15) and shifted (high: 16–31), widened to i16,
  ;; dotted with the activations; acc += dot·scale·xs + Σqx·min·xs.
  (func (export "matmulQ4") (param $w i32) (param $ws i32) (param $wm i32) (param $n i32) (param $d i32)
    (param $qx i32) (param $sx i32) (param $T i32) (param $out i32)
    (local $r i32) (local $t i32) (local $nb i32) (local $b i32) (local $sRow i32) (local $nRow i32)
    (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $m0 i32) (local $m1 i32) (local $m2 i32) (local $m3 i32) (local $q i32) (local $qs i32) (local $xs f32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $s01 v128) (local $s23 v128) (local $isum v128)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $v v128) (local $lo v128) (local $hi v128) (local $mask v128)
    (local $xsum f32) (local $c0 f32) (local $c1 f32) (local $c2 f32) (local $c3 f32)
    (local.set $mask (i8x16.splat (i32.const 15)))
    (local.set $nb (i32.shr_u (local.get $d) (i32.const 5)))
    (local.set $sRow (i32.shl (local.get $nb) (i32.const 2)))
    (local.set $nRow (i32.shr_u (local.get $d) (i32.const 1)))
    (block $done4 (loop $four
      (br_if $done4 (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $n)))
      (local.set $t (i32.const 0))
      (block $tokens (loop $token
        (br_if $tokens (i32.ge_u (local.get $t) (local.get $T)))
        (local.set $w0 (i32.add (local.get $w) (i32.mul (local.get $r) (local.get $nRow))))
        (local.set $s0 (i32.add (local.get $ws) (i32.mul (local.get $r) (local.get $sRow))))
        (local.set $m0 (i32.add (local.get $wm) (i32.mul (local.get $r) (local.get $sRow))))
        (local.set $w1 (i32.add (local.get $w0) (local.get $nRow)))
        (local.set $s1 (i32.add (local.get $s0) (local.get $sRow)))
        (local.set $m1 (i32.add (local.get $m0) (local.get $sRow)))
        (local.set $w2 (i32.add (local.get $w1) (local.get $nRow)))
        (local.set $s2 (i32.add (local.get $s1) (local.get $sRow)))
        (local.set $m2 (i32.add (local.get $m1) (local.get $sRow)))
        (local.set $w3 (i32.add (local.get $w2) (local.get $nRow)))
        (local.set $s3 (i32.add (local.get $s2) (local.get $sRow)))
        (local.set $m3 (i32.add (local.get $m2) (local.get $sRow)))
        (local.set $q (i32.add (local.get $qx) (i32.mul (local.get $t) (i32.shl (local.get $d) (i32.const 1)))))
        (local.set $qs (i32.add (local.get $sx) (i32.mul (local.get $t) (local.get $sRow))))
        (local.set $a0 (f32x4.splat (f32.const 0)))
        (local.set $a1 (f32x4.splat (f32.const 0)))
        (local.set $a2 (f32x4.splat (f32.const 0)))
        (local.set $a3 (f32x4.splat (f32.const 0)))
        (local.set $c0 (f32.const 0))
        (local.set $c1 (f32.const 0))
        (local.set $c2 (f32.const 0))
        (local.set $c3 (f32.const 0))
        (local.set $b (i32.const 0))
        (block $blocks (loop $block
          (br_if $blocks (i32.ge_u (local.get $b) (local.get $nb)))
          (local.set $xs (f32.load (local.get $qs)))
          (local.set $x0 (v128.load (local.get $q)))
          (local.set $x1 (v128.load offset=16 (local.get $q)))
          (local.set $x2 (v128.load offset=32 (local.get $q)))
          (local.set $x3 (v128.load offset=48 (local.get $q)))
          (local.set $isum (i32x4.add
            (i32x4.add (i32x4.extadd_pairwise_i16x8_s (local.get $x0)) (i32x4.extadd_pairwise_i16x8_s (local.get $x1)))
            (i32x4.add (i32x4.extadd_pairwise_i16x8_s (local.get $x2)) (i32x4.extadd_pairwise_i16x8_s (local.get $x3)))))
          (local.set $xsum (f32.mul (local.get $xs) (f32.convert_i32_s (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $isum)) (i32x4.extract_lane 1 (local.get $isum)))
            (i32.add (i32x4.extract_lane 2 (local.get $isum)) (i32x4.extract_lane 3 (local.get $isum)))))))
          (local.set $v (v128.load (local.get $w0)))
          (local.set $lo (v128.and (local.get $v) (local.get $mask)))
          (local.set $hi (i8x16.shr_u (local.get $v) (i32.const 4)))
          (local.set $a0 (f32x4.add (local.get $a0)
            (f32x4.mul (f32x4.convert_i32x4_s (i32x4.add
              (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $lo)) (local.get $x0))
                         (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $lo)) (local.get $x1)))
              (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $hi)) (local.get $x2))
                         (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $hi)) (local.get $x3)))))
              (f32x4.splat (f32.mul (f32.load (local.get $s0)) (local.get $xs))))))
          (local.set $c0 (f32.add (local.get $c0) (f32.mul (f32.load (local.get $m0)) (local.get $xsum))))
          (local.set $v (v128.load (local.get $w1)))
          (local.set $lo (v128.and (local.get $v) (local.get $mask)))
          (local.set $hi (i8x16.shr_u (local.get $v) (i32.const 4)))
          (local.set $a1 (f32x4.add (local.get $a1)
            (f32x4.mul (f32x4.convert_i32x4_s (i32x4.add
              (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $lo)) (local.get $x0))
                         (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $lo)) (local.get $x1)))
              (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $hi)) (local.get $x2))
                         (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $hi)) (local.get $x3)))))
              (f32x4.splat (f32.mul (f32.load (local.get $s1)) (local.get $xs))))))
          (local.set $c1 (f32.add (local.get $c1) (f32.mul (f32.load (local.get $m1)) (local.get $xsum))))
          (local.set $v (v128.load (local.get $w2)))
          (local.set $lo (v128.and (local.get $v) (local.get $mask)))
          (local.set $hi (i8x16.shr_u (local.get $v) (i32.const 4)))
          (local.set $a2 (f32x4.add (local.get $a2)
            (f32x4.mul (f32x4.convert_i32x4_s (i32x4.add
              (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $lo)) (local.get $x0))
                         (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $lo)) (local.get $x1)))
              (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $hi)) (local.get $x2))
                         (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $hi)) (local.get $x3)))))
              (f32x4.splat (f32.mul (f32.load (local.get $s2)) (local.get $xs))))))
          (local.set $c2 (f32.add (local.get $c2) (f32.mul (f32.load (local.get $m2)) (local.get $xsum))))
          (local.set $v (v128.load (local.get $w3)))
          (local.set $lo (v128.and (local.get $v) (local.get $mask)))
          (local.set $hi (i8x16.shr_u (local.get $v) (i32.const 4)))
          (local.set $a3 (f32x4.add (local.get $a3)
            (f32x4.mul (f32x4.convert_i32x4_s (i32x4.add
              (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $lo)) (local.get $x0))
                         (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $lo)) (local.get $x1)))
              (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $hi)) (local.get $x2))
                         (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $hi)) (local.get $x3)))))
              (f32x4.splat (f32.mul (f32.load (local.get $s3)) (local.get $xs))))))
          (local.set $c3 (f32.add (local.get $c3) (f32.mul (f32.load (local.get $m3)) (local.get $xsum))))
          (local.set $w0 (i32.add (local.get $w0) (i32.const 16)))
          (local.set $s0 (i32.add (local.get $s0) (i32.const 4)))
          (local.set $m0 (i32.add (local.get $m0) (i32.const 4)))
          (local.set $w1 (i32.add (local.get $w1) (i32.const 16)))
          (local.set $s1 (i32.add (local.get $s1) (i32.const 4)))
          (local.set $m1 (i32.add (local.get $m1) (i32.const 4)))
          (local.set $w2 (i32.add (local.get $w2) (i32.const 16)))
          (local.set $s2 (i32.add (local.get $s2) (i32.const 4)))
          (local.set $m2 (i32.add (local.get $m2) (i32.const 4)))
          (local.set $w3 (i32.add (local.get $w3) (i32.const 16)))
          (local.set $s3 (i32.add (local.get $s3) (i32.const 4)))
          (local.set $m3 (i32.add (local.get $m3) (i32.const 4)))
          (local.set $q (i32.add (local.get $q) (i32.const 64)))
          (local.set $qs (i32.add (local.get $qs) (i32.const 4)))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br $block)))
        ;; [Σa0, Σa1, Σa2, Σa3], as in matmulQ8
        (local.set $s01 (f32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a0) (local.get $a1))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a0) (local.get $a1))))
        (local.set $s23 (f32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a2) (local.get $a3))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a2) (local.get $a3))))
        (v128.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $n)) (local.get $r)) (i32.const 2)))
          (f32x4.add
            (f32x4.add
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $s01) (local.get $s23))
              (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $s01) (local.get $s23)))
            (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1 (f32x4.splat (local.get $c0)) (local.get $c1)) (local.get $c2)) (local.get $c3))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $token)))
      (local.set $r (i32.add (local.get $r) (i32.const 4)))
      (br $four)))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $r) (local.get $n)))
      (local.set $t (i32.const 0))
      (block $tokens (loop $token
        (br_if $tokens (i32.ge_u (local.get $t) (local.get $T)))
        (local.set $w0 (i32.add (local.get $w) (i32.mul (local.get $r) (local.get $nRow))))
        (local.set $s0 (i32.add (local.get $ws) (i32.mul (local.get $r) (local.get $sRow))))
        (local.set $m0 (i32.add (local.get $wm) (i32.mul (local.get $r) (local.get $sRow))))
        (local.set $q (i32.add (local.get $qx) (i32.mul (local.get $t) (i32.shl (local.get $d) (i32.const 1)))))
        (local.set $qs (i32.add (local.get $sx) (i32.mul (local.get $t) (local.get $sRow))))
        (local.set $a0 (f32x4.splat (f32.const 0)))
        (local.set $c0 (f32.const 0))
        (local.set $b (i32.const 0))
        (block $blocks (loop $block
          (br_if $blocks (i32.ge_u (local.get $b) (local.get $nb)))
          (local.set $xs (f32.load (local.get $qs)))
          (local.set $x0 (v128.load (local.get $q)))
          (local.set $x1 (v128.load offset=16 (local.get $q)))
          (local.set $x2 (v128.load offset=32 (local.get $q)))
          (local.set $x3 (v128.load offset=48 (local.get $q)))
          (local.set $isum (i32x4.add
            (i32x4.add (i32x4.extadd_pairwise_i16x8_s (local.get $x0)) (i32x4.extadd_pairwise_i16x8_s (local.get $x1)))
            (i32x4.add (i32x4.extadd_pairwise_i16x8_s (local.get $x2)) (i32x4.extadd_pairwise_i16x8_s (local.get $x3)))))
          (local.set $xsum (f32.mul (local.get $xs) (f32.convert_i32_s (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $isum)) (i32x4.extract_lane 1 (local.get $isum)))
            (i32.add (i32x4.extract_lane 2 (local.get $isum)) (i32x4.extract_lane 3 (local.get $isum)))))))
          (local.set $v (v128.load (local.get $w0)))
          (local.set $lo (v128.and (local.get $v) (local.get $mask)))
          (local.set $hi (i8x16.shr_u (local.get $v) (i32.const 4)))
          (local.set $a0 (f32x4.add (local.get $a0)
            (f32x4.mul (f32x4.convert_i32x4_s (i32x4.add
              (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $lo)) (local.get $x0))
                         (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $lo)) (local.get $x1)))
              (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $hi)) (local.get $x2))
                         (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $hi)) (local.get $x3)))))
              (f32x4.splat (f32.mul (f32.load (local.get $s0)) (local.get $xs))))))
          (local.set $c0 (f32.add (local.get $c0) (f32.mul (f32.load (local.get $m0)) (local.get $xsum))))
          (local.set $w0 (i32.add (local.get $w0) (i32.const 16)))
          (local.set $s0 (i32.add (local.get $s0) (i32.const 4)))
          (local.set $m0 (i32.add (local.get $m0) (i32.const 4)))
          (local.set $q (i32.add (local.get $q) (i32.const 64)))
          (local.set $qs (i32.add (local.get $qs) (i32.const 4)))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br $block)))
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $n)) (local.get $r)) (i32.const 2)))
          (f32.add (local.get $c0) (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
            (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0))))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $token)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $row))))
)
