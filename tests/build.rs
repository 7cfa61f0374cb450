//! Bakes `plugins/` with wasmbake-build (a real consumer of the helper; see
//! `tests/build_helper.rs`), and detects the shared corpus
//! (`../../shared/corpus` from this crate), so tests and benches that embed its
//! modules compile only when it is there and say they were skipped otherwise.

use std::path::Path;

fn main() {
    if let Err(e) = wasmbake_build::Builder::new().dir("plugins").compile() {
        eprintln!("{e}");
        std::process::exit(1);
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
