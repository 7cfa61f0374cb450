//! Bakes the corpus modules (`../../../../shared/corpus`) with wasmbake-build.
fn main() {
    let corpus = std::path::Path::new("../../../../shared/corpus");
    let mut builder = wasmbake_build::Builder::new();
    for module in ["hello-c", "avr-as", "qjs-reactor", "splicer", "flite"] {
        builder = builder.module(corpus.join(format!("{module}.wasm")));
    }
    if let Err(e) = builder.compile() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
