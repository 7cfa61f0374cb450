//! What a large plugin costs the host crate's build, with and without
//! `Builder::link_object`: wall time and peak memory (the largest process of
//! the build: rustc or the linker) of rebuilding the host crate after touching
//! its `main.rs`, the edit-compile loop a developer lives in.
//!
//! ```sh
//! cargo run --release -p wasmbake-benches --example link_object_cost -- [runs] [modules…]
//! ```
//!
//! Defaults: 5 runs; `splicer.wasm`, `qjs-reactor.wasm` and
//! `starlingmonkey.debug.wasm` from the shared corpus. For each module and
//! mode it writes a small host crate under `target/link-object-cost/`, builds
//! it once (warming wasmbake's cache and Cargo's), then times `runs` rebuilds
//! after touching `main.rs`, and runs the binary to check that the plugin is
//! there and loads. Reports medians. Uses the workspace's `Cargo.lock` and
//! `target/` (release profile), so Wasmtime is not rebuilt.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().map_or(5, |r| r.parse().expect("runs: a number"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned();
    let corpus = wasmbake_test_support::corpus::dir();
    let mut modules: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if modules.is_empty() {
        modules = ["splicer.wasm", "qjs-reactor.wasm", "starlingmonkey.debug.wasm"]
            .iter()
            .map(|m| corpus.join(m))
            .collect();
    }
    if let Some(missing) = modules.iter().find(|m| !m.is_file()) {
        eprintln!("skipped: {} not found (set WASMBAKE_CORPUS to the corpus folder)", missing.display());
        return;
    }
    println!(
        "| module | artifact | mode | rebuild after touching main.rs (median of {runs}) | peak RSS of a build process |"
    );
    println!("|---|---|---|---|---|");
    for module in &modules {
        for link in [false, true] {
            let (artifact, time, rss) = measure(&root, module, link, runs);
            println!(
                "| {} | {:.1} MB | {} | {:.2} s | {} MB |",
                module.file_name().unwrap().to_string_lossy(),
                artifact as f64 / 1e6,
                if link { "link_object(true)" } else { "include_bytes!" },
                time.as_secs_f64(),
                rss / 1024,
            );
        }
    }
}

/// Returns (artifact bytes, median rebuild time, max peak RSS in KiB).
fn measure(root: &Path, module: &Path, link: bool, runs: usize) -> (u64, Duration, u64) {
    let stem = module.file_stem().unwrap().to_string_lossy().replace(['.', '-'], "_");
    // One package per module and mode: Cargo keys its fingerprints by package
    // name, so two modes sharing a name would reuse each other's builds.
    let package = format!("cost-{stem}-{}", if link { "object" } else { "bytes" });
    let dir = root.join("target/link-object-cost").join(&package);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{package}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nwasmbake = {{ path = {root:?}, features = [\"pulley\"] }}\n\
             [build-dependencies]\nwasmbake-build = {{ path = {build:?} }}\n[workspace]\n",
            root = root.to_string_lossy(),
            build = root.join("wasmbake-build").to_string_lossy(),
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("build.rs"),
        format!(
            "fn main() {{ wasmbake_build::Builder::new().module({:?}).link_object({link}).compile().unwrap(); }}\n",
            module.to_string_lossy()
        ),
    )
    .unwrap();
    let name = wasmbake_build::static_name(module);
    std::fs::write(
        dir.join("src/main.rs"),
        format!(
            "wasmbake::include_plugins!();\n\
             fn main() {{\n    let module = {name}.load_detailed(&wasmbake::engine().unwrap()).unwrap();\n    \
             println!(\"{{}} {{:?}}\", {name}.artifact().len(), module.kind());\n}}\n"
        ),
    )
    .unwrap();

    let build = || {
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args(["build", "--release", "--quiet", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", root.join("target"))
            .env("WASMBAKE_CACHE_DIR", root.join("target/wasmbake"));
        let start = Instant::now();
        let (status, rss) = run(cargo);
        assert!(status, "building {} failed", dir.display());
        (start.elapsed(), rss)
    };
    build(); // warm: precompiles into the cache (once for both modes), builds dependencies
    let binary = root.join(format!("target/release/{package}"));
    // The mode took effect: only a linked artifact leaves its namespaced
    // symbol (`wasmbake_<crate>_<hash>_<NAME>`) in the binary's symbol table.
    let symbol = format!("wasmbake_{}_", package.replace('-', "_"));
    let linked = std::fs::read(&binary).unwrap().windows(symbol.len()).any(|w| w == symbol.as_bytes());
    assert_eq!(linked, link, "{}: symbol {symbol}… present: {linked}", binary.display());
    let out = Command::new(&binary).output().unwrap();
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(out.trim_end().ends_with("InPlace"), "{} printed {out:?}", binary.display());
    let artifact: u64 = out.split_whitespace().next().unwrap().parse().unwrap();

    let mut times = Vec::new();
    let mut peak = 0;
    for _ in 0..runs {
        let main = dir.join("src/main.rs");
        let text = std::fs::read(&main).unwrap();
        std::fs::write(&main, text).unwrap(); // touch: a new mtime
        let before = std::fs::metadata(&binary).unwrap().modified().unwrap();
        let (time, rss) = build();
        let after = std::fs::metadata(&binary).unwrap().modified().unwrap();
        assert!(after > before, "{}: the rebuild did not relink", binary.display());
        times.push(time);
        peak = peak.max(rss);
    }
    times.sort();
    (artifact, times[times.len() / 2], peak)
}

/// Runs `command` and returns (success, peak RSS in KiB of the largest
/// process it waited for, itself included), from `wait4`'s resource usage.
fn run(mut command: Command) -> (bool, u64) {
    let child = command.spawn().unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it in for our child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `child.id()` is our unwaited child; the pointers are valid.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    // wait4 reaps the child, so `child` must not be waited again: forget it.
    std::mem::forget(child);
    (libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, usage.ru_maxrss as u64)
}
