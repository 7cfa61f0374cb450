//! Records the optimisation level this crate is compiled at: Cargo gives a
//! build script the level of the unit it builds, which for the compiler
//! inside a proc-macro or a build script is the `build-override` one
//! (`profile::build_override_warning`).

fn main() {
    let level = std::env::var("OPT_LEVEL").unwrap_or_default();
    println!("cargo::rustc-env=WASMBAKE_COMPILER_OPT_LEVEL={level}");
}
