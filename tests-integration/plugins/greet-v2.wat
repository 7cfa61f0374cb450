;; Baked by tests/build.rs through wasmbake-build: static GREET_V2.
(module $greet_v2
  (func $greet (export "greet") (result i32) i32.const 2))
