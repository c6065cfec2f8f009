;; The engine's hot loops in WebAssembly SIMD (f32x4): the flash path's FFN rows and predictors, and
;; decode attention (projections, scores, weighted values). They read weights, neuron caches and
;; the KV cache in place in the memory the engine gives (all addresses are byte offsets into it).
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
  ;; act squaring when squared ≠ 0, and y += h·down. Rows are d floats. Returns the non-zero count.
  (func (export "ffnRows")
    (param $gate i32) (param $up i32) (param $down i32) (param $slots i32) (param $k i32)
    (param $d i32) (param $x i32) (param $y i32) (param $squared i32) (result i32)
    (local $i i32) (local $off i32) (local $g f32) (local $h f32) (local $nonZero i32)
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
        (call $axpy (local.get $y) (i32.add (local.get $down) (local.get $off)) (local.get $h) (local.get $d))
        (br $next)))
    (local.get $nonZero))

;; y[0…m) += Σ_i x[i]·w[i·m …] over i < n: a vector times a matrix [n][m], row by row.
  (func $vecmatAdd (param $x i32) (param $w i32) (param $n i32) (param $m i32) (param $y i32)
    (local $end i32) (local $step i32)
    (local.set $step (i32.shl (local.get $m) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
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
  ;; projections with weights stored [out][in], and its scores against the key rows).
  (func (export "rowDots") (param $rows i32) (param $x i32) (param $n i32) (param $d i32) (param $out i32)
    (local $end i32) (local $step i32)
    (local.set $step (i32.shl (local.get $d) (i32.const 2)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
      (f32.store (local.get $out) (call $dot (local.get $rows) (local.get $x) (local.get $d)))
      (local.set $rows (i32.add (local.get $rows) (local.get $step)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $next))))

  ;; The predictor's scores: low = x·A (A: [d][r]), then scores = bias + low·B (B: [r][n]).
  (func (export "predict")
    (param $x i32) (param $a i32) (param $b i32) (param $bias i32)
    (param $d i32) (param $r i32) (param $n i32) (param $low i32) (param $scores i32)
    (call $fill (local.get $low) (local.get $r))
    (call $vecmatAdd (local.get $x) (local.get $a) (local.get $d) (local.get $r) (local.get $low))
    (call $copy (local.get $scores) (local.get $bias) (local.get $n))
    (call $vecmatAdd (local.get $low) (local.get $b) (local.get $r) (local.get $n) (local.get $scores)))
)
