//! Bakes `plugins/` with wasmbake-build (a real consumer of the helper; see
//! `tests/build_helper.rs` and `tests/cross.rs`): for this target, as link
//! objects, cross-compiled for aarch64 and riscv64, and for a foreign
//! architecture with a Pulley fallback (modules and components). Also bakes
//! the shared corpus modules the tests use (`corpus.rs`) when the corpus is there
//! (`wasmbake_test_support::corpus`), so that corpus tests compile only then
//! and say they were skipped otherwise, and a QuickJS plugin from it.

use wasmbake_build::Builder;
use wasmbake_test_support::corpus;

fn main() {
    let target = std::env::var("TARGET").unwrap();
    // An architecture this host is not: its artifacts cannot run here.
    let foreign =
        if target.starts_with("x86_64") { "aarch64-unknown-linux-gnu" } else { "x86_64-unknown-linux-gnu" };
    let sets = [
        Builder::new().dir("plugins"),
        Builder::new().dir("plugins").link_object(true).out_file("linked.rs"),
        Builder::new().module("plugins/math.wat").target("aarch64-unknown-linux-gnu").out_file("aarch64.rs"),
        Builder::new()
            .module("plugins/math.wat")
            .target("riscv64gc-unknown-linux-gnu")
            .out_file("riscv64.rs"),
        Builder::new()
            .module("plugins/math.wat")
            .target(foreign)
            .fallback_pulley(true)
            .out_file("fallback.rs"),
        // Components fall back the same way, as commands too.
        Builder::new()
            .module("fixtures/guest.wat")
            .module("fixtures/wasi/p2-trap.wat")
            .target(foreign)
            .fallback_pulley(true)
            .out_file("fallback_components.rs"),
        // In the binary's executable segment, through a link object (the
        // macro's `executable_segment` covers the `#[link_section]` form).
        Builder::new()
            .module("plugins/math.wat")
            .executable_segment(true)
            .link_object(true)
            .out_file("executable.rs"),
        // Epoch interruption and fuel (tests/settings.rs).
        Builder::new()
            .module("plugins/math.wat")
            .epoch_interruption(true)
            .consume_fuel(true)
            .out_file("instrumented.rs"),
        // Names the crate through a re-export (tests/build_helper.rs).
        Builder::new()
            .module("plugins/math.wat")
            .crate_path("crate::reexported::wasmbake")
            .out_file("reexported.rs"),
    ];
    // A module with 192 KiB of initial memory data (above the runtime's
    // EAGER_MIN), generated rather than committed: the memory-image tests.
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let bigdata = out_dir.join("bigdata.wat");
    // (Written only when it changes: a newer file would make Cargo rerun
    // this script on every build, through the helper's rerun-if-changed.)
    let wat = bigdata_wat();
    if std::fs::read_to_string(&bigdata).ok().as_deref() != Some(wat.as_str()) {
        std::fs::write(&bigdata, wat).unwrap();
    }
    let sets = sets.into_iter().chain([Builder::new().module(&bigdata).out_file("bigdata.rs")]);
    for set in sets {
        if let Err(e) = set.compile() {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
    corpus::bake(&["splicer.wasm", "hello-c.wasm", "avr-as.wasm"], "corpus.rs");
    corpus::bake(&["hello-c.component.wasm", "pygreet.component.wasm"], "corpus_components.rs");
    // A QuickJS plugin, as it is and pre-initialised (tests/preinit.rs).
    wasmbake_test_support::quickjs::bake();
}

/// Byte `i` of the big data segment (the tests check it).
fn pattern(i: usize) -> u8 {
    (i * 7 % 251) as u8
}

/// `(module $bigdata)`: one memory whose bytes 4096.. are 192 KiB of
/// `pattern`, and `byte(i)` reading byte `4096 + i`.
fn bigdata_wat() -> String {
    use std::fmt::Write as _;
    let mut data = String::with_capacity(3 * 192 * 1024);
    for i in 0..192 * 1024 {
        let _ = write!(data, "\\{:02x}", pattern(i));
    }
    format!(
        "(module $bigdata\n  (memory (export \"memory\") 4)\n  (data (i32.const 4096) \"{data}\")\n  \
         (func $byte (export \"byte\") (param i32) (result i32)\n    \
         (i32.load8_u offset=4096 (local.get 0))))\n"
    )
}
