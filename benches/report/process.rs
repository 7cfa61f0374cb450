//! Whole processes and what plugins cost the build: small host crates
//! generated under `target/wasmbake-report/hosts/`, built with Cargo against
//! this workspace (its `Cargo.lock` and `target/`, release profile).
//!
//! * `wbr-host-<module>`: bakes the module with `wasmbake_build` (default
//!   settings) and loads it in place;
//! * `wbr-host-none`: the same program without plugins; it loads a `.cwasm`
//!   with `Module::deserialize_file`;
//! * compile at start: this report binary itself with `--host-compile`
//!   (it links Cranelift; the generated hosts do not).
//!
//! Every host then instantiates the module and makes its first call
//! (`host_run.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::stats::Samples;

include!("host_run.rs");

/// `--host-compile <wasm> [call]`: compile at start, then the same first call.
pub fn compile_child(args: &[String]) {
    let (wasm, call) = match args {
        [wasm] => (wasm, ""),
        [wasm, call] => (wasm, call.as_str()),
        _ => panic!("usage: --host-compile <wasm> [call]"),
    };
    let engine = wasmbake::wasmtime::Engine::new(&wasmbake::__private::wasm_config()).unwrap();
    let module = wasmbake::wasmtime::Module::from_file(&engine, wasm).unwrap();
    run(&engine, &module, call);
}

pub struct Host {
    pub binary: PathBuf,
    pub dir: PathBuf,
    /// Median wall time of a rebuild after touching `main.rs`.
    pub rebuild: Samples,
    pub size: u64,
}

/// Whether generated crates and the toolbox are built with `--release`: as
/// the report itself was. `cargo bench` builds it in release; CI's smoke run
/// (`--profile dev`) shares the test command's build, and its figures are
/// not for quoting.
pub const RELEASE: bool = !cfg!(debug_assertions);

/// Cargo's arguments for [`RELEASE`].
pub fn profile_args() -> &'static [&'static str] {
    if RELEASE { &["--release"] } else { &[] }
}

/// The folder of `target/` (or `target/<triple>/`) that [`RELEASE`] builds into.
pub fn profile_dir() -> &'static str {
    if RELEASE { "release" } else { "debug" }
}

/// A generated host crate's manifest: wasmbake with `pulley` and `features`,
/// wasmbake-build as a build dependency when `plugin`, and `extra`
/// dependency lines.
pub fn manifest(root: &Path, package: &str, plugin: bool, features: &[&str], extra: &str) -> String {
    let build_dep = if plugin {
        format!(
            "[build-dependencies]\nwasmbake-build = {{ path = {:?} }}\n",
            root.join("wasmbake-build").to_string_lossy()
        )
    } else {
        String::new()
    };
    let features: String = features.iter().map(|f| format!(", {f:?}")).collect();
    format!(
        "[package]\nname = \"{package}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nwasmbake = {{ path = {:?}, features = [\"pulley\"{features}] }}\n{extra}{build_dep}\n\
         # As in the wasmbake workspace, so its build artifacts are reused.\n\
         [profile.release.build-override]\nopt-level = 3\n\n\
         [profile.dev.build-override]\nopt-level = 3\n\n[workspace]\n",
        root.to_string_lossy()
    )
}

/// Generates and builds a host crate (a plugin host when `module` is given),
/// then rebuilds it `runs` times after touching `main.rs`.
pub fn build(root: &Path, module: Option<&Path>, runs: usize) -> Host {
    let stem = module.map_or("none".to_owned(), |m| {
        m.file_stem().unwrap().to_string_lossy().replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    });
    let package = format!("wbr-host-{stem}");
    let dir = root.join("target/wasmbake-report/hosts").join(&package);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), manifest(root, &package, module.is_some(), &[], "")).unwrap();
    let run_rs = Path::new(env!("CARGO_MANIFEST_DIR")).join("report/host_run.rs");
    let main = match module {
        Some(module) => {
            std::fs::write(
                dir.join("build.rs"),
                format!(
                    "fn main() {{\n    if let Err(e) = wasmbake_build::Builder::new().module({:?}).compile() {{\n        \
                     eprintln!(\"{{e}}\");\n        std::process::exit(1);\n    }}\n}}\n",
                    module.to_string_lossy()
                ),
            )
            .unwrap();
            let name = wasmbake_build::static_name(module);
            format!(
                "wasmbake::include_plugins!();\ninclude!({run_rs:?});\n\n\
                 fn main() {{\n    let call = std::env::args().nth(1).unwrap_or_default();\n    \
                 let engine = wasmbake::engine().unwrap();\n    \
                 let module = {name}.load(&engine).unwrap();\n    run(&engine, &module, &call);\n}}\n"
            )
        }
        None => format!(
            "include!({run_rs:?});\n\n\
             fn main() {{\n    let mut args = std::env::args().skip(1);\n    \
             let cwasm = args.next().expect(\"usage: host <cwasm> [call]\");\n    \
             let call = args.next().unwrap_or_default();\n    \
             let engine = wasmbake::wasmtime::Engine::new(&wasmbake::__private::wasm_config()).unwrap();\n    \
             // SAFETY: the report passes an unmodified artifact for this configuration.\n    \
             let module = unsafe {{ wasmbake::wasmtime::Module::deserialize_file(&engine, &cwasm) }}.unwrap();\n    \
             run(&engine, &module, &call);\n}}\n"
        ),
    };
    std::fs::write(dir.join("src/main.rs"), &main).unwrap();

    let cargo = || build_crate(root, &dir);
    cargo(); // warm: dependencies, wasmbake's cache
    let binary = root.join("target").join(profile_dir()).join(&package);
    let mut rebuild = Vec::new();
    for _ in 0..runs {
        std::fs::write(dir.join("src/main.rs"), &main).unwrap(); // touch: a new mtime
        let before = std::fs::metadata(&binary).unwrap().modified().unwrap();
        rebuild.push(cargo().as_secs_f64());
        let after = std::fs::metadata(&binary).unwrap().modified().unwrap();
        assert!(after > before, "{}: the rebuild did not relink", binary.display());
    }
    let size = std::fs::metadata(&binary).unwrap().len();
    Host { binary, dir, rebuild: Samples::new(rebuild), size }
}

/// Builds the generated host crate in `dir` ([`RELEASE`] or not, this workspace's
/// `target/` and wasmbake cache); panics with cargo's output if it fails.
/// Returns how long the build took.
pub fn build_crate(root: &Path, dir: &Path) -> Duration {
    let start = Instant::now();
    let out = Command::new(env!("CARGO"))
        .args(["build", "--quiet"])
        .args(profile_args())
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env("WASMBAKE_CACHE_DIR", root.join("target/wasmbake"))
        .stdout(Stdio::inherit())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "building {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    start.elapsed()
}

/// Exec → first call → exit, wall time per run, all commands interleaved;
/// checks each command's output once.
pub fn whole_process(commands: &[(Command, &str)], runs: usize) -> Vec<Samples> {
    let mut samples = vec![Vec::new(); commands.len()];
    let mut commands: Vec<(Command, &str)> = commands
        .iter()
        .map(|(c, expect)| {
            let mut c2 = Command::new(c.get_program());
            c2.args(c.get_args());
            c2.stdout(Stdio::piped()).stderr(Stdio::piped());
            (c2, *expect)
        })
        .collect();
    for round in 0..runs + 1 {
        for ((command, expect), out) in commands.iter_mut().zip(samples.iter_mut()) {
            let start = Instant::now();
            let output = command.output().unwrap();
            let time: Duration = start.elapsed();
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success() && stdout.contains(*expect),
                "{command:?} printed {stdout:?}, {}",
                String::from_utf8_lossy(&output.stderr)
            );
            if round > 0 {
                out.push(time.as_secs_f64()); // round 0 warms the page cache
            }
        }
    }
    samples.into_iter().map(Samples::new).collect()
}
