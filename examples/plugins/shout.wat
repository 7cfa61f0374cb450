;; A plugin of the `folder` example: upper-cases ASCII text in its memory.
(module $shout
  (memory (export "memory") 1)
  (func $shout (export "shout") (param $ptr i32) (param $len i32)
    (local $end i32) (local $c i32)
    local.get $ptr
    local.get $len
    i32.add
    local.set $end
    block $done
      loop $next
        local.get $ptr
        local.get $end
        i32.ge_u
        br_if $done
        local.get $ptr
        i32.load8_u
        local.tee $c
        i32.const 97
        i32.sub
        i32.const 26
        i32.lt_u
        if
          local.get $ptr
          local.get $c
          i32.const 32
          i32.sub
          i32.store8
        end
        local.get $ptr
        i32.const 1
        i32.add
        local.set $ptr
        br $next
      end
    end))
