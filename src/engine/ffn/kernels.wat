;; The flash path's two hot loops in WebAssembly SIMD (f32x4), reading the neuron cache and the
;; predictors in place in the memory the engine gives (all addresses are byte offsets into it).
;; Sizes d, r and n must be multiples of 4; the engine uses the JavaScript kernels otherwise.
;; `npm run build:kernels` compiles this file into kernelsWasm.ts (a test checks they agree).
(module
  (import "env" "memory" (memory 1))

  ;; Σ a[i]·b[i] over n floats.
  (func $dot (param $a i32) (param $b i32) (param $n i32) (result f32)
    (local $acc v128) (local $end i32)
    (local.set $acc (f32x4.splat (f32.const 0)))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $next)))
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

  ;; The predictor's scores: low = x·A (A: [d][r]), then scores = bias + low·B (B: [r][n]).
  (func (export "predict")
    (param $x i32) (param $a i32) (param $b i32) (param $bias i32)
    (param $d i32) (param $r i32) (param $n i32) (param $low i32) (param $scores i32)
    (local $i i32) (local $zero v128)
    (local.set $zero (f32x4.splat (f32.const 0)))
    (local.set $i (i32.const 0))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $r)))
      (v128.store (i32.add (local.get $low) (i32.shl (local.get $i) (i32.const 2))) (local.get $zero))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $next)))
    (local.set $i (i32.const 0))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $d)))
      (call $axpy (local.get $low)
        (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $r)) (i32.const 2)))
        (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))
        (local.get $r))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.set $i (i32.const 0))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (v128.store (i32.add (local.get $scores) (i32.shl (local.get $i) (i32.const 2)))
        (v128.load (i32.add (local.get $bias) (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $next)))
    (local.set $i (i32.const 0))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $r)))
      (call $axpy (local.get $scores)
        (i32.add (local.get $b) (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 2)))
        (f32.load (i32.add (local.get $low) (i32.shl (local.get $i) (i32.const 2))))
        (local.get $n))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))))
)
