;; The 8-bit -> float32 affine map of the image pipeline (`out[i] = src[i] * mul[c] + add[c]`) in
;; WebAssembly SIMD, for `affine-simd.ts`. The bytes it assembles to are embedded there (base64); a
;; test assembles this file with wabt and checks that they are equal.
;;
;; Memory, laid out by the caller:
;;   [0, 96)    12 f64 multipliers, one per element of a 12-element period (the channel pattern
;;              repeated: 12 is a multiple of 1, 3 and 4 channels)
;;   [96, 192)  12 f64 addends, likewise
;;   $src       `12 * $groups` source bytes, followed by 4 readable bytes (each load reads 16)
;;   $dst       `12 * $groups` float32 results
;;
;; Arithmetic is the JavaScript kernel's exactly: a float64 multiply and add, then rounding to float32.
(module
  (memory (export "memory") 1)
  (func (export "affine12") (param $src i32) (param $dst i32) (param $groups i32)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128) (local $m4 v128) (local $m5 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128)
    (local $bytes v128) (local $low8 v128) (local $quad v128)
    ;; pairs of multipliers and addends: elements (0, 1), (2, 3), ... (10, 11) of the period
    (local.set $m0 (v128.load offset=0 (i32.const 0)))
    (local.set $m1 (v128.load offset=16 (i32.const 0)))
    (local.set $m2 (v128.load offset=32 (i32.const 0)))
    (local.set $m3 (v128.load offset=48 (i32.const 0)))
    (local.set $m4 (v128.load offset=64 (i32.const 0)))
    (local.set $m5 (v128.load offset=80 (i32.const 0)))
    (local.set $a0 (v128.load offset=96 (i32.const 0)))
    (local.set $a1 (v128.load offset=112 (i32.const 0)))
    (local.set $a2 (v128.load offset=128 (i32.const 0)))
    (local.set $a3 (v128.load offset=144 (i32.const 0)))
    (local.set $a4 (v128.load offset=160 (i32.const 0)))
    (local.set $a5 (v128.load offset=176 (i32.const 0)))
    (block $done
      (loop $group
        (br_if $done (i32.eqz (local.get $groups)))
        (local.set $bytes (v128.load (local.get $src)))
        (local.set $low8 (i16x8.extend_low_i8x16_u (local.get $bytes)))
        ;; elements 0-3
        (local.set $quad (i32x4.extend_low_i16x8_u (local.get $low8)))
        (v128.store offset=0 (local.get $dst)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.convert_low_i32x4_u (local.get $quad)) (local.get $m0)) (local.get $a0)))
            (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.convert_low_i32x4_u
              (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $quad) (local.get $quad))) (local.get $m1)) (local.get $a1)))))
        ;; elements 4-7
        (local.set $quad (i32x4.extend_high_i16x8_u (local.get $low8)))
        (v128.store offset=16 (local.get $dst)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.convert_low_i32x4_u (local.get $quad)) (local.get $m2)) (local.get $a2)))
            (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.convert_low_i32x4_u
              (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $quad) (local.get $quad))) (local.get $m3)) (local.get $a3)))))
        ;; elements 8-11
        (local.set $quad (i32x4.extend_low_i16x8_u (i16x8.extend_high_i8x16_u (local.get $bytes))))
        (v128.store offset=32 (local.get $dst)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.convert_low_i32x4_u (local.get $quad)) (local.get $m4)) (local.get $a4)))
            (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.convert_low_i32x4_u
              (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $quad) (local.get $quad))) (local.get $m5)) (local.get $a5)))))
        (local.set $src (i32.add (local.get $src) (i32.const 12)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 48)))
        (local.set $groups (i32.sub (local.get $groups) (i32.const 1)))
        (br $group)))))
