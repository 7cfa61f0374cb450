//! The examples' build script: bakes `plugins/` with wasmbake-build (for
//! `folder`) and the toolbox's programs (for `toolbox`: its own `cat`, and
//! `avr-as`, `flite`, `hello-c` and the components `hello-c.component` and
//! `avr-as.component` from the shared corpus when it is there).

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    wasmbake_build::Builder::new().dir("plugins").fallback_pulley(true).compile()?;

    let mut toolbox = wasmbake_build::Builder::new().dir("toolbox/plugins").out_file("toolbox.rs");
    println!("cargo::rustc-check-cfg=cfg(wasmbake_corpus)");
    // Relative to this crate, as plugin paths are (absolute paths would end
    // up in the binary, in `Embedded::source`).
    let corpus = wasmbake_test_support::corpus::dir_from(Path::new(env!("CARGO_MANIFEST_DIR")));
    println!("cargo::rerun-if-changed={}", corpus.display());
    println!("cargo::rerun-if-env-changed={}", wasmbake_test_support::corpus::VARIABLE);
    // (The .component.wasm files: the same programs as preview-2 commands.)
    let tools =
        ["avr-as.wasm", "flite.wasm", "hello-c.wasm", "hello-c.component.wasm", "avr-as.component.wasm"];
    if tools.iter().all(|tool| corpus.join(tool).is_file()) {
        for tool in tools {
            toolbox = toolbox.module(corpus.join(tool));
        }
        println!("cargo::rustc-cfg=wasmbake_corpus");
    }
    toolbox.compile()?;
    Ok(())
}
