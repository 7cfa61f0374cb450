;; The plugin bundled with the `hello` example.
(module $greet
  (memory (export "memory") 1)
  (data (i32.const 16) "Hello from a baked plugin")

  ;; Returns (pointer, length) of the greeting in linear memory.
  (func $greet (export "greet") (result i32 i32)
    i32.const 16
    i32.const 25)

  ;; Recursive Fibonacci: something for the host to call with an argument.
  (func $fib (export "fib") (param $n i32) (result i32)
    local.get $n
    i32.const 2
    i32.lt_u
    if (result i32)
      local.get $n
    else
      local.get $n
      i32.const 1
      i32.sub
      call $fib
      local.get $n
      i32.const 2
      i32.sub
      call $fib
      i32.add
    end)

  ;; Traps, so the example can show a backtrace with names.
  (func $check_positive (param $x i32)
    local.get $x
    i32.const 0
    i32.lt_s
    if unreachable end)
  (func $validate (export "validate") (param $x i32)
    local.get $x
    call $check_positive))
