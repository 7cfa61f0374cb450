//! The examples' build script: bakes `plugins/` with wasmbake-build (for
//! `folder`), the toolbox's programs (for `toolbox`: its own `cat`, and
//! `avr-as`, `flite` and `hello-c` from `../shared/corpus` when it is there),
//! and makes `include_module!` (in `hello`) compile for the target Cargo
//! builds for, which matters when cross-compiling.

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    wasmbake_build::configure();
    wasmbake_build::Builder::new().dir("plugins").fallback_pulley(true).compile()?;

    let mut toolbox = wasmbake_build::Builder::new().dir("toolbox/plugins").out_file("toolbox.rs");
    println!("cargo::rustc-check-cfg=cfg(wasmbake_corpus)");
    // Relative to this crate, as plugin paths are (absolute paths would end
    // up in the binary, in `Embedded::source`).
    let corpus = Path::new("../../shared/corpus");
    println!("cargo::rerun-if-changed={}", corpus.display());
    let tools = ["avr-as.wasm", "flite.wasm", "hello-c.wasm"];
    if tools.iter().all(|tool| corpus.join(tool).is_file()) {
        for tool in tools {
            toolbox = toolbox.module(corpus.join(tool));
        }
        println!("cargo::rustc-cfg=wasmbake_corpus");
    }
    toolbox.compile()?;
    Ok(())
}
