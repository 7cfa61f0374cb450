//! Builds the runner `wasmbake exe` copies, once, when `wasmbake` itself is
//! built or installed, so that `exe` compiles no Rust: the `wasmbake-runner`
//! package, with `wasmbake`'s own profile (release for `cargo install`), for
//! this host (dynamic) and static (musl when that Rust target is installed,
//! else glibc with `+crt-static`), from wherever its sources are (this
//! repository's workspace, or the registry), in `<target>/wasmbake-runner`.
//! The binaries are embedded in `wasmbake` (`OUT_DIR/runner-*`); a variant
//! that cannot be built is left out, and `exe` says so when asked for it.
//!
//! Which runners: `WASMBAKE_RUNNERS` = `all`, `host` (the dynamic one),
//! `static` (the static one) or `none`. Unset, a release build (`cargo install`) embeds all of them and
//! any other build (tests, clippy, docs) none: each runner is a build of
//! Wasmtime of its own, and a development `wasmbake` uses the runner Cargo
//! built beside it (`target/debug/wasmbake-runner`) instead.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let host = std::env::var("TARGET").unwrap();
    // The runner's sources: its manifest, from its build script (`links`).
    // In this repository (`cargo install --path wasmbake-cli`, tests) it is a member
    // of the workspace, built with the workspace's lock file; installed from
    // crates.io it is a package of its own, with the lock file packaged
    // with it (it has a binary).
    let runner_manifest = PathBuf::from(
        std::env::var("DEP_WASMBAKE_RUNNER_MANIFEST")
            .expect("wasmbake-runner's build script names its manifest"),
    );
    let runner_dir = runner_manifest.parent().unwrap().to_owned();
    let workspace = runner_dir
        .parent()
        .filter(|w| {
            std::fs::read_to_string(w.join("Cargo.toml")).is_ok_and(|t| t.contains("\"wasmbake-runner\""))
        })
        .map(|w| w.join("Cargo.toml"));
    let manifest = workspace.clone().unwrap_or(runner_manifest);
    let source = Source { locked: manifest.with_file_name("Cargo.lock").is_file(), manifest };

    // OUT_DIR is <target>/<profile>/build/<pkg>/out, or
    // <target>/<triple>/<profile>/build/<pkg>/out. The runner builds in a
    // directory of its own there: Cargo locks `<target>/<profile>` for the
    // outer build, and the runner's build scripts would wait on it.
    let target_dir = out_dir.ancestors().find(|d| d.join("CACHEDIR.TAG").is_file()).unwrap_or(&out_dir);
    let runner_target = target_dir.join("wasmbake-runner");
    println!("cargo::rerun-if-env-changed=WASMBAKE_RUNNERS");
    println!("cargo::rustc-check-cfg=cfg(wasmbake_static_runner)");
    // The runner is built like `wasmbake` itself: release for `cargo
    // install`, debug for a development build that asks for one.
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let runners =
        std::env::var("WASMBAKE_RUNNERS").unwrap_or_else(|_| if release { "all" } else { "none" }.into());
    let (want_dynamic, want_static) = match runners.as_str() {
        "all" => (true, true),
        "host" => (true, false),
        "static" => (false, true),
        "none" => (false, false),
        other => panic!("WASMBAKE_RUNNERS={other:?}: expected `all`, `host`, `static` or `none`"),
    };
    println!("cargo::rerun-if-changed={}", runner_dir.join("src").display());
    if let Some(workspace) = &workspace {
        let root = workspace.parent().unwrap();
        for dir in ["src", "wasmbake-runtime/src", "Cargo.lock"] {
            println!("cargo::rerun-if-changed={}", root.join(dir).display());
        }
    }

    let dynamic = match want_dynamic {
        true => build(&source, &runner_target, release, None, None)
            .map_err(|why| println!("cargo::warning=wasmbake-cli: no runner for {host}: {why}"))
            .ok(),
        false => None,
    };
    // Static runners are not position-independent: nothing to relocate at
    // start (the static-pie musl runner applies some 16,000 relocations,
    // and writes the pages they are in) for about 0.2 ms of a tool's start
    // (guide, "Commands"). The runner's own image then has a fixed address;
    // everything Wasmtime maps (code, memories, stacks) is still placed at
    // random, and `--runner` brings a position-independent one.
    let statics: Vec<(String, Option<&str>)> = if want_static && host.starts_with("x86_64-unknown-linux") {
        vec![
            ("x86_64-unknown-linux-musl".into(), Some("-C relocation-model=static")),
            (host.replace("musl", "gnu"), Some("-C target-feature=+crt-static -C relocation-model=static")),
        ]
    } else {
        Vec::new()
    };
    let mut static_runner = None;
    let mut failures = Vec::new();
    for (triple, flags) in &statics {
        match build(&source, &runner_target, release, Some(triple), *flags) {
            Ok(path) => {
                static_runner = Some((triple.clone(), path));
                break;
            }
            Err(why) => failures.push(format!("{triple}: {why}")),
        }
    }
    // Warnings are for what needs attention: a missing variant.
    if static_runner.is_some() {
        println!("cargo::rustc-cfg=wasmbake_static_runner");
    }
    if static_runner.is_none() && !statics.is_empty() {
        println!(
            "cargo::warning=wasmbake-cli: no static runner (`exe --static` will say so): {}",
            failures.join("; ")
        );
    }
    let mut rs = String::new();
    for (name, runner) in [("DYNAMIC", dynamic.map(|p| (host.clone(), p))), ("STATIC", static_runner)] {
        match runner {
            Some((triple, path)) => {
                let copy = out_dir.join(format!("runner-{}", name.to_lowercase()));
                std::fs::copy(&path, &copy).unwrap();
                rs.push_str(&format!(
                    "pub const {name}: Option<(&str, &[u8])> = Some(({triple:?}, include_bytes!({:?})));\n",
                    copy.display()
                ));
            }
            None => rs.push_str(&format!("pub const {name}: Option<(&str, &[u8])> = None;\n")),
        }
    }
    std::fs::write(out_dir.join("runners.rs"), rs).unwrap();
}

/// Where the runner is built from: a manifest (the workspace's, or the
/// runner package's own), and whether a lock file comes with it.
struct Source {
    manifest: PathBuf,
    locked: bool,
}

/// Builds the runner for `triple` (`None`: the host, without `--target`, so
/// that its output cannot be a static variant's for the same triple), with
/// the release profile or the dev one: its path, or cargo's first error line.
fn build(
    source: &Source,
    target_dir: &Path,
    release: bool,
    triple: Option<&str>,
    rustflags: Option<&str>,
) -> Result<PathBuf, String> {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .args(["build", "--quiet", "-p", "wasmbake-runner", "--bin", "wasmbake-runner"])
        .args(release.then_some("--release"))
        .args(source.locked.then_some("--locked"))
        .arg("--manifest-path")
        .arg(&source.manifest)
        .arg("--target-dir")
        .arg(target_dir);
    // The outer build's settings are not the runner's (clippy's driver
    // neither: a lint in the runner is for clippy's run over the runner's
    // package to report, not a reason to build no runner).
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CLIPPY_ARGS",
    ] {
        cargo.env_remove(var);
    }
    for (key, _) in std::env::vars() {
        if key.starts_with("CARGO_PROFILE_")
            || key.starts_with("CARGO_CFG_")
            || key.starts_with("CARGO_FEATURE_")
        {
            cargo.env_remove(key);
        }
    }
    if let Some(triple) = triple {
        cargo.args(["--target", triple]);
    }
    if let Some(flags) = rustflags {
        cargo.env("RUSTFLAGS", flags);
    }
    let out = cargo.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(why.lines().find(|l| l.starts_with("error")).unwrap_or("cargo failed").to_owned());
    }
    let profile = if release { "release" } else { "debug" };
    Ok(match triple {
        Some(triple) => target_dir.join(triple).join(profile).join("wasmbake-runner"),
        None => target_dir.join(profile).join("wasmbake-runner"),
    })
}
