//! Compile-error tests of `include_module!`: one `tests/ui/<case>.rs` and its
//! expected `<case>.stderr` per diagnostic, and `tests/ui/pass/<case>.rs`
//! cases that must compile, with the warnings the harness expects of them,
//! and pass their own tests.
//!
//! The cases are binaries of the unpublished package in `tests/ui/`
//! (`wasmbake-ui`), built only with its `cases` feature. The harness builds
//! them with the test command's own Cargo invocation (`cargo test
//! --workspace`, so every feature unifies as in that build) into the same
//! target directory: nothing but the cases is compiled, and the harness
//! fails if Wasmtime would be. (trybuild builds a project of its own with its
//! own flags, which rebuilt Wasmtime and Cranelift twice.)
//!
//! `WASMBAKE_BLESS=1 cargo test --workspace --test ui` rewrites the `.stderr`
//! files (`--workspace`, as everywhere here: a build of fewer packages
//! unifies other features and builds Wasmtime again).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What Cargo reported for one case: its diagnostics, rendered as rustc
/// prints them, and its test binary if it built.
#[derive(Default)]
struct Built {
    rendered: Vec<String>,
    executable: Option<PathBuf>,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the cases with `cargo_args` (a build of the workspace's tests, so
/// that features unify as in `cargo test --workspace`) and returns, for each
/// of `bins`, what Cargo said.
fn build(bins: &[String], cargo_args: &[&str]) -> BTreeMap<String, Built> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root()).args(cargo_args).args([
        "--workspace",
        "--message-format=json",
        "--features",
        "wasmbake-ui/cases",
    ]);
    let output = command.output().expect("cargo runs");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("\"reason\":\"compiler-"),
        "cargo {cargo_args:?} built nothing:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut built: BTreeMap<String, Built> = bins.iter().map(|b| (b.clone(), Built::default())).collect();
    let mut rebuilt = Vec::new();
    for line in stdout.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let target = message["target"]["name"].as_str().unwrap_or_default();
        let package = message["package_id"].as_str().unwrap_or_default();
        match message["reason"].as_str() {
            Some("compiler-message") if package.contains("#wasmbake-ui@") => {
                let text = message["message"]["message"].as_str().unwrap_or_default();
                // rustc's closing summary lines say nothing about the case.
                if text.starts_with("aborting due to")
                    || text.ends_with("warnings emitted")
                    || text.ends_with("warning emitted")
                {
                    continue;
                }
                if let (Some(case), Some(rendered)) =
                    (built.get_mut(target), message["message"]["rendered"].as_str())
                {
                    case.rendered.push(rendered.to_owned());
                }
            }
            Some("compiler-artifact") => {
                if package.contains("#wasmbake-ui@") {
                    if let Some(case) = built.get_mut(target) {
                        case.executable = message["executable"].as_str().map(PathBuf::from);
                    }
                } else if message["fresh"] == false
                    && (package.contains("#wasmtime") || package.contains("#cranelift"))
                {
                    rebuilt.push(target.to_owned());
                }
            }
            _ => {}
        }
    }
    assert!(
        rebuilt.is_empty(),
        "the UI cases rebuilt {rebuilt:?}: their build no longer unifies features as the test command does\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    built
}

/// The diagnostics as a `.stderr` file holds them: the workspace's path
/// written `$WORKSPACE`.
fn normalise(rendered: &[String]) -> String {
    let root = root().to_string_lossy();
    rendered.concat().replace(root.as_ref(), "$WORKSPACE").trim_end().to_owned() + "\n"
}

fn stems(dir: &str) -> Vec<String> {
    let mut stems: Vec<String> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            (path.extension()? == "rs").then(|| path.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    stems.sort();
    stems
}

#[test]
fn ui() {
    let bless = std::env::var_os("WASMBAKE_BLESS").is_some_and(|v| v == "1");
    let fail_cases = stems("tests/ui");
    let pass_cases: Vec<String> =
        stems("tests/ui/pass").into_iter().filter(|c| c != "unoptimised_build_override").collect();
    let all: Vec<String> = fail_cases.iter().chain(&pass_cases).cloned().collect();
    // Every case at once, whatever fails (`cargo test` stops at the first
    // case that does not compile; `cargo build --tests` builds the same
    // test-mode units and can keep going).
    let mut built = build(&all, &["build", "--tests", "--keep-going"]);
    let mut failures = Vec::new();

    for case in &fail_cases {
        let Built { rendered, executable } = built.remove(case).unwrap();
        if executable.is_some() {
            failures.push(format!("{case}: compiled, but must fail"));
            continue;
        }
        let actual = normalise(&rendered);
        let expected_path = root().join("tests/ui").join(format!("{case}.stderr"));
        if bless {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            failures.push(format!("{case}: expected\n{expected}\ngot\n{actual}"));
        }
    }

    // Pass cases compile, say what they must, and pass their own tests.
    let warns = |case: &str, rendered: &[String], needle: &str, times: usize, failures: &mut Vec<String>| {
        let found = rendered.iter().filter(|r| r.contains(needle)).count();
        if found != times {
            failures.push(format!(
                "{case}: {found} diagnostics with {needle:?}, expected {times}:\n{}",
                rendered.concat()
            ));
        }
    };
    let run = |case: &str, executable: Option<PathBuf>, failures: &mut Vec<String>| match executable {
        None => failures.push(format!("{case}: did not compile")),
        Some(exe) => {
            let out = Command::new(&exe).output().unwrap();
            if !out.status.success() {
                failures.push(format!("{case}: its tests failed:\n{}", String::from_utf8_lossy(&out.stdout)));
            }
        }
    };
    let Built { rendered, executable } = built.remove("malformed_names").unwrap();
    warns("malformed_names", &rendered, "malformed name section", 1, &mut failures);
    warns("malformed_names", &rendered, "unoptimised", 0, &mut failures);
    run("malformed_names", executable, &mut failures);

    // An unoptimised compiler (only the compiler crate: Cranelift and
    // Wasmtime are not rebuilt) warns once for the crate, naming the lines.
    let case = "unoptimised_build_override".to_owned();
    let unoptimised = ["--config", "profile.dev.package.wasmbake-compiler.opt-level=0"];
    let mut built = build(
        std::slice::from_ref(&case),
        &[&["test", "--no-run", "--bin", &case][..], &unoptimised].concat(),
    );
    let Built { rendered, executable } = built.remove(&case).unwrap();
    warns(&case, &rendered, "unoptimised compiler (opt-level 0)", 1, &mut failures);
    warns(&case, &rendered, "[profile.dev.build-override]", 1, &mut failures);
    warns(&case, &rendered, "[profile.release.build-override]", 1, &mut failures);
    run(&case, executable, &mut failures);

    assert!(failures.is_empty(), "{} UI cases failed:\n\n{}", failures.len(), failures.join("\n\n"));
}
