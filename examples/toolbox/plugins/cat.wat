;; cat [FILE]...: the toolbox's own WASI preview-1 program, in WebAssembly
;; text so that the toolbox builds and runs without a C toolchain or the
;; shared corpus. Copies each FILE (opened in the first preopened directory,
;; file descriptor 3), or stdin when there is no FILE or FILE is `-`, to
;; stdout. A FILE that cannot be opened is reported on stderr and makes the
;; exit status 1.
(module $cat
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))

  ;; 0: iovec (ptr, len)   8: bytes read or written   16: argc
  ;; 20: size of the argument strings   24: an opened file descriptor
  ;; 32, 40: message text   65536: copy buffer (64 KiB)
  ;; 131072: argv pointers, then the argument strings (memory grows to fit)
  (memory (export "memory") 2)
  (data (i32.const 32) "cat: ")
  (data (i32.const 40) ": cannot open\n")
  (global $buffer i32 (i32.const 65536))
  (global $argv i32 (i32.const 131072))

  ;; Writes all `len` bytes at `ptr` to `fd`; returns the WASI errno.
  (func $write_all (param $fd i32) (param $ptr i32) (param $len i32) (result i32)
    (local $errno i32)
    (block $done
      (loop $more
        (br_if $done (i32.eqz (local.get $len)))
        (i32.store (i32.const 0) (local.get $ptr))
        (i32.store (i32.const 4) (local.get $len))
        (local.set $errno (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br_if $done (local.get $errno))
        (local.set $ptr (i32.add (local.get $ptr) (i32.load (i32.const 8))))
        (local.set $len (i32.sub (local.get $len) (i32.load (i32.const 8))))
        (br $more)))
    (local.get $errno))

  ;; Copies `fd` to stdout until end-of-file; returns the WASI errno.
  (func $copy (param $fd i32) (result i32)
    (local $errno i32)
    (block $done
      (loop $more
        (i32.store (i32.const 0) (global.get $buffer))
        (i32.store (i32.const 4) (i32.const 65536))
        (local.set $errno (call $fd_read (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br_if $done (local.get $errno))
        (br_if $done (i32.eqz (i32.load (i32.const 8))))
        (local.set $errno (call $write_all (i32.const 1) (global.get $buffer) (i32.load (i32.const 8))))
        (br_if $done (local.get $errno))
        (br $more)))
    (local.get $errno))

  (func $strlen (param $s i32) (result i32)
    (local $p i32)
    (local.set $p (local.get $s))
    (block $end
      (loop $next
        (br_if $end (i32.eqz (i32.load8_u (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (i32.sub (local.get $p) (local.get $s)))

  ;; Copies one FILE (or stdin for `-`) to stdout; returns 1 on failure.
  (func $cat_file (param $path i32) (result i32)
    (local $len i32) (local $errno i32) (local $fd i32)
    (if (i32.and (i32.eq (i32.load8_u (local.get $path)) (i32.const 45))
                 (i32.eqz (i32.load8_u offset=1 (local.get $path))))
      (then (return (i32.ne (call $copy (i32.const 0)) (i32.const 0)))))
    (local.set $len (call $strlen (local.get $path)))
    ;; dirflags: follow symlinks; no oflags; rights: fd_read.
    (local.set $errno
      (call $path_open (i32.const 3) (i32.const 1) (local.get $path) (local.get $len)
        (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 24)))
    (if (local.get $errno)
      (then
        (drop (call $write_all (i32.const 2) (i32.const 32) (i32.const 5)))
        (drop (call $write_all (i32.const 2) (local.get $path) (local.get $len)))
        (drop (call $write_all (i32.const 2) (i32.const 40) (i32.const 14)))
        (return (i32.const 1))))
    (local.set $fd (i32.load (i32.const 24)))
    (local.set $errno (call $copy (local.get $fd)))
    (drop (call $fd_close (local.get $fd)))
    (i32.ne (local.get $errno) (i32.const 0)))

  (func $start (export "_start")
    (local $argc i32) (local $strings i32) (local $need i32) (local $i i32) (local $status i32)
    (drop (call $args_sizes_get (i32.const 16) (i32.const 20)))
    (local.set $argc (i32.load (i32.const 16)))
    (local.set $strings (i32.add (global.get $argv) (i32.shl (local.get $argc) (i32.const 2))))
    (local.set $need (i32.add (local.get $strings) (i32.load (i32.const 20))))
    (if (i32.gt_u (local.get $need) (i32.shl (memory.size) (i32.const 16)))
      (then
        (drop (memory.grow
          (i32.sub (i32.shr_u (i32.add (local.get $need) (i32.const 65535)) (i32.const 16)) (memory.size))))))
    (drop (call $args_get (global.get $argv) (local.get $strings)))
    (if (i32.le_u (local.get $argc) (i32.const 1))
      (then (local.set $status (i32.ne (call $copy (i32.const 0)) (i32.const 0)))))
    (local.set $i (i32.const 1))
    (block $end
      (loop $each
        (br_if $end (i32.ge_u (local.get $i) (local.get $argc)))
        (local.set $status
          (i32.or (local.get $status)
            (call $cat_file (i32.load (i32.add (global.get $argv) (i32.shl (local.get $i) (i32.const 2)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (if (local.get $status) (then (call $proc_exit (local.get $status))))))
