;; Baked by tests/build.rs through wasmbake-build: static MATH.
(module $math
  (func $square (export "square") (param i32) (result i32)
    local.get 0
    local.get 0
    i32.mul)
  (func $boom (export "boom") unreachable))
