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
  (func (export "vecmat") (param $x i32) (param $w i32) (param $n i32) (param $m i32) (param $y i32)
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
  (func (export "rowDots") (param $rows i32) (param $x i32) (param $n i32) (param $d i32) (param $out i32)
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
  (func (export "softmax") (param $s i32) (param $n i32)
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
  (func (export "quantizeI16") (param $x i32) (param $n i32) (param $qx i32) (param $sx i32)
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
      (local.set $m (f32x4.max
        (f32x4.max (f32x4.max (f32x4.abs (local.get $v0)) (f32x4.abs (local.get $v1))) (f32x4.max (f32x4.abs (local.get $v2)) (f32x4.abs (local.get $v3))))
        (f32x4.max (f32x4.max (f32x4.abs (local.get $v4)) (f32x4.abs (local.get $v5))) (f32x4.max (f32x4.abs (local.get $v6)) (f32x4.abs (local.get $v7))))))
      (local.set $amax (f32.max (f32.max (f32x4.extract_lane 0 (local.get $m)) (f32x4.extract_lane 1 (local.get $m)))
                                (f32.max (f32x4.extract_lane 2 (local.get $m)) (f32x4.extract_lane 3 (local.get $m)))))
      (f32.store (local.get $sx) (f32.div (local.get $amax) (f32.const 32767)))
      (local.set $inv (f32x4.splat (if (result f32) (f32.gt (local.get $amax) (f32.const 0))
        (then (f32.div (f32.const 32767) (local.get $amax))) (else (f32.const 0)))))
      (v128.store (local.get $qx) (i16x8.narrow_i32x4_s
        (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $v0) (local.get $inv))))
        (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $v1) (local.get $inv))))))
      (v128.store offset=16 (local.get $qx) (i16x8.narrow_i32x4_s
        (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $v2) (local.get $inv))))
        (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $v3) (local.get $inv))))))
      (v128.store offset=32 (local.get $qx) (i16x8.narrow_i32x4_s
        (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $v4) (local.get $inv))))
        (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $v5) (local.get $inv))))))
      (v128.store offset=48 (local.get $qx) (i16x8.narrow_i32x4_s
        (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $v6) (local.get $inv))))
        (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $v7) (local.get $inv))))))
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

  ;; One q8 row (quants at $w, scales at $ws) · one quantized activation row, over nb blocks.
  (func $dotQ8 (param $w i32) (param $ws i32) (param $qx i32) (param $sx i32) (param $nb i32) (result f32)
    (local $acc v128) (local $end i32)
    (local.set $end (i32.add (local.get $ws) (i32.shl (local.get $nb) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $ws) (local.get $end)))
      (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul
        (f32x4.convert_i32x4_s (call $blockQ8 (local.get $w) (local.get $qx)))
        (f32x4.splat (f32.mul (f32.load (local.get $ws)) (f32.load (local.get $sx)))))))
      (local.set $w (i32.add (local.get $w) (i32.const 32)))
      (local.set $qx (i32.add (local.get $qx) (i32.const 64)))
      (local.set $ws (i32.add (local.get $ws) (i32.const 4)))
      (local.set $sx (i32.add (local.get $sx) (i32.const 4)))
      (br $next)))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))

  ;; out[t][r] = W[r] · x[t] for rows r < n and tokens t < T: W q8 [n][d] (quants $w, scales $ws),
  ;; x quantized [T][d] (qx i16, sx f32 [T][d/32]), out [T][n] f32. Four rows at a time share the
  ;; activation loads and stay in the cache across the T tokens; the last n mod 4 rows one by one.
  (func (export "matmulQ8") (param $w i32) (param $ws i32) (param $n i32) (param $d i32)
    (param $qx i32) (param $sx i32) (param $T i32) (param $out i32)
    (local $r i32) (local $t i32) (local $nb i32) (local $b i32) (local $rowBytes i32) (local $sRow i32)
    (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $q i32) (local $qs i32) (local $o i32) (local $xs f32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $s01 v128) (local $s23 v128)
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
        (local.set $a1 (f32x4.splat (f32.const 0)))
        (local.set $a2 (f32x4.splat (f32.const 0)))
        (local.set $a3 (f32x4.splat (f32.const 0)))
        (local.set $b (i32.const 0))
        (block $blocks (loop $block
          (br_if $blocks (i32.ge_u (local.get $b) (local.get $nb)))
          (local.set $xs (f32.load (local.get $qs)))
          (local.set $x0 (v128.load (local.get $q)))
          (local.set $x1 (v128.load offset=16 (local.get $q)))
          (local.set $x2 (v128.load offset=32 (local.get $q)))
          (local.set $x3 (v128.load offset=48 (local.get $q)))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.add
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $w0)) (local.get $x0))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $w0)) (local.get $x1)))
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $w0)) (local.get $x2))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $w0)) (local.get $x3)))))
            (f32x4.splat (f32.mul (f32.load (local.get $s0)) (local.get $xs))))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.add
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $w1)) (local.get $x0))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $w1)) (local.get $x1)))
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $w1)) (local.get $x2))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $w1)) (local.get $x3)))))
            (f32x4.splat (f32.mul (f32.load (local.get $s1)) (local.get $xs))))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.add
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $w2)) (local.get $x0))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $w2)) (local.get $x1)))
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $w2)) (local.get $x2))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $w2)) (local.get $x3)))))
            (f32x4.splat (f32.mul (f32.load (local.get $s2)) (local.get $xs))))))
          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.add
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $w3)) (local.get $x0))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $w3)) (local.get $x1)))
              (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $w3)) (local.get $x2))
                         (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $w3)) (local.get $x3)))))
            (f32x4.splat (f32.mul (f32.load (local.get $s3)) (local.get $xs))))))
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
        (local.set $s01 (f32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a0) (local.get $a1))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a0) (local.get $a1))))
        (local.set $s23 (f32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a2) (local.get $a3))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a2) (local.get $a3))))
        (v128.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $n)) (local.get $r)) (i32.const 2)))
          (f32x4.add
            (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $s01) (local.get $s23))
            (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $s01) (local.get $s23))))
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
            (i32.add (local.get $qx) (i32.mul (local.get $t) (local.get $rowBytes))) (i32.add (local.get $sx) (i32.mul (local.get $t) (local.get $sRow))) (local.get $nb)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $token)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $row))))

  ;; out[i] = W[rows[i]] · x for i < k (rows: i32 row numbers): the rows the sparse FFN keeps.
  (func (export "gatherDotsQ8") (param $w i32) (param $ws i32) (param $rows i32) (param $k i32) (param $d i32)
    (param $qx i32) (param $sx i32) (param $out i32)
    (local $i i32) (local $j i32) (local $nb i32)
    (local.set $nb (i32.shr_u (local.get $d) (i32.const 5)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
      (local.set $j (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (call $dotQ8 (i32.add (local.get $w) (i32.mul (local.get $j) (local.get $d)))
          (i32.add (local.get $ws) (i32.shl (i32.mul (local.get $j) (local.get $nb)) (i32.const 2)))
          (local.get $qx) (local.get $sx) (local.get $nb)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))))

  ;; y[0…d) += Σ_i h[i] · W[rows[i]] for i < k, W q8 [*][d]: the FFN's down projection, a column
  ;; per neuron (row-column bundling). A zero h[i] is skipped.
  (func (export "axpyQ8") (param $y i32) (param $w i32) (param $ws i32) (param $h i32) (param $rows i32) (param $k i32) (param $d i32)
    (local $i i32) (local $j i32) (local $hv f32) (local $wp i32) (local $sp i32) (local $yp i32) (local $end i32)
    (local $c v128) (local $v v128)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
      (local.set $j (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $hv (f32.load (i32.add (local.get $h) (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (f32.eq (local.get $hv) (f32.const 0)))
      (local.set $wp (i32.add (local.get $w) (i32.mul (local.get $j) (local.get $d))))
      (local.set $sp (i32.add (local.get $ws) (i32.shl (i32.mul (local.get $j) (i32.shr_u (local.get $d) (i32.const 5))) (i32.const 2))))
      (local.set $yp (local.get $y))
      (local.set $end (i32.add (local.get $y) (i32.shl (local.get $d) (i32.const 2))))
      (block $row (loop $block
        (br_if $row (i32.ge_u (local.get $yp) (local.get $end)))
        (local.set $c (f32x4.splat (f32.mul (local.get $hv) (f32.load (local.get $sp)))))
        (local.set $v (v128.load8x8_s (local.get $wp)))
        (v128.store (local.get $yp) (f32x4.add (v128.load (local.get $yp)) (f32x4.mul (local.get $c) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $v))))))
        (v128.store offset=16 (local.get $yp) (f32x4.add (v128.load offset=16 (local.get $yp)) (f32x4.mul (local.get $c) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $v))))))
        (local.set $v (v128.load8x8_s offset=8 (local.get $wp)))
        (v128.store offset=32 (local.get $yp) (f32x4.add (v128.load offset=32 (local.get $yp)) (f32x4.mul (local.get $c) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $v))))))
        (v128.store offset=48 (local.get $yp) (f32x4.add (v128.load offset=48 (local.get $yp)) (f32x4.mul (local.get $c) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $v))))))
        (local.set $v (v128.load8x8_s offset=16 (local.get $wp)))
        (v128.store offset=64 (local.get $yp) (f32x4.add (v128.load offset=64 (local.get $yp)) (f32x4.mul (local.get $c) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $v))))))
        (v128.store offset=80 (local.get $yp) (f32x4.add (v128.load offset=80 (local.get $yp)) (f32x4.mul (local.get $c) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $v))))))
        (local.set $v (v128.load8x8_s offset=24 (local.get $wp)))
        (v128.store offset=96 (local.get $yp) (f32x4.add (v128.load offset=96 (local.get $yp)) (f32x4.mul (local.get $c) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $v))))))
        (v128.store offset=112 (local.get $yp) (f32x4.add (v128.load offset=112 (local.get $yp)) (f32x4.mul (local.get $c) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $v))))))
        (local.set $wp (i32.add (local.get $wp) (i32.const 32)))
        (local.set $sp (i32.add (local.get $sp) (i32.const 4)))
        (local.set $yp (i32.add (local.get $yp) (i32.const 128)))
        (br $block)))
      (br $next))))

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
