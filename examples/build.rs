//! The examples' build script: bakes `plugins/` with wasmbake-build (for
//! `folder`), and makes `include_module!` (in `hello`) compile for the target
//! Cargo builds for, which matters when cross-compiling.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    wasmbake_build::configure();
    wasmbake_build::Builder::new().dir("plugins").fallback_pulley(true).compile()?;
    Ok(())
}
