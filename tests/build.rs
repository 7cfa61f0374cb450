//! Bakes `plugins/` with wasmbake-build (a real consumer of the helper; see
//! `tests/build_helper.rs` and `tests/cross.rs`): for this target, as link
//! objects, cross-compiled for aarch64 and riscv64, and for a foreign
//! architecture with a Pulley fallback. Also detects the shared corpus
//! (`../../shared/corpus` from this crate), so tests and benches that embed its
//! modules compile only when it is there and say they were skipped otherwise.

use std::path::Path;

use wasmbake_build::Builder;

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
    ];
    for set in sets {
        if let Err(e) = set.compile() {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
    println!("cargo::rustc-check-cfg=cfg(wasmbake_corpus)");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    println!("cargo::rerun-if-changed={}", corpus.display());
    let needed = ["splicer.wasm", "hello-c.wasm", "avr-as.wasm"];
    if needed.iter().all(|f| corpus.join(f).is_file()) {
        println!("cargo::rustc-cfg=wasmbake_corpus");
    } else {
        println!(
            "cargo::warning=shared corpus not found at {}: corpus tests and benches are skipped",
            corpus.display()
        );
    }
}
