//! Bakes the corpus modules (`wasmbake_test_support::corpus`:
//! `WASMBAKE_CORPUS`, default `../shared/corpus` beside the workspace) with
//! wasmbake-build.
fn main() {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = wasmbake_test_support::corpus::dir_from(here);
    println!("cargo::rerun-if-env-changed={}", wasmbake_test_support::corpus::VARIABLE);
    let mut builder = wasmbake_build::Builder::new();
    for module in ["hello-c", "avr-as", "qjs-reactor", "splicer", "flite"] {
        builder = builder.module(corpus.join(format!("{module}.wasm")));
    }
    if let Err(e) = builder.compile() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
