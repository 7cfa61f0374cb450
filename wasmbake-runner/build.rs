//! Tells the build script of `wasmbake-cli` (which depends on this package,
//! through `links`) where this package's manifest is, so that it can build
//! the runner binary wherever the sources are: this repository, or the
//! registry when `wasmbake-cli` is installed from crates.io.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo::metadata=manifest={}", std::path::Path::new(&dir).join("Cargo.toml").display());
}
