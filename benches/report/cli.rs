//! Section 6: static CLI tools. What a person running a command-line tool
//! waits for, spawn to exit, for each bundled tool of `examples/toolbox`,
//! against Wasmtime's own CLI, WAMR's AOT runner and the native C program;
//! and, inside the process, where the static toolbox's time goes.
//!
//! Everything is built or installed here, once:
//!
//! * the toolbox, static (musl, when that target is installed; glibc with
//!   `+crt-static`) and dynamic, with the README's commands;
//! * `wasmtime-cli` 48.0.8 with `cargo install --locked` into
//!   `target/wasmtime-cli` (about 20 minutes, full runs only; `--quick`
//!   uses it when it is there and never installs it);
//! * `wamr-bin`/`wamrc-bin` 3.0.0.dev5 from PyPI into
//!   `target/wasmbake-report/wamr` (full runs only);
//! * the C program of `hello-c.wasm` with the system C compiler (`cc -O2`),
//!   dynamic and static;
//! * where each tool's time goes: its `wasmbake exe --static` output with
//!   `WASMBAKE_RUNNER_TRACE=phases` (the runner then runs it through
//!   `Command::run_traced`, which timestamps each step); when an output
//!   could not be made, a phase host
//!   (`target/wasmbake-report/hosts/wbr-cli-phases`) that does the same
//!   for baked plugins, linked like the static toolbox.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::process;
use crate::stats::Samples;

/// A bundled tool and how the report runs it.
pub struct Tool {
    pub name: &'static str,
    pub args: &'static [&'static str],
    /// What its stdout must contain.
    pub expect: &'static str,
}

pub const TOOLS: [Tool; 5] = [
    Tool { name: "hello-c", args: &["a", "b"], expect: "hello from wasi, fib(25)=75025, argc=3" },
    Tool { name: "avr-as", args: &["--version"], expect: "GNU assembler (GNU Binutils) 2.42" },
    Tool {
        name: "flite",
        args: &["-t", "hello world", "-ps", "-o", "none"],
        expect: "pau hh ax l ow w er l d pau",
    },
    // The same programs as preview-2 command components.
    Tool { name: "hello-c.component", args: &["a", "b"], expect: "hello from wasi, fib(25)=75025, argc=3" },
    Tool { name: "avr-as.component", args: &["--version"], expect: "GNU assembler (GNU Binutils) 2.42" },
];

impl Tool {
    /// A preview-2 command component (`….component`), not a module.
    pub fn is_component(&self) -> bool {
        self.name.ends_with(".component")
    }

    /// The same program as a core module, for a component.
    pub fn module_name(&self) -> &'static str {
        self.name.trim_end_matches(".component")
    }
}

/// The steps `Command::run_traced` reports, in order, between the
/// process's start (`exec`: from the parent's spawn to `main`) and its end
/// (`exit`: from the last step to the parent's `wait` returning).
pub const PHASES: [&str; 10] =
    ["exec", "engine", "load", "linker", "wasi", "runtime", "instantiate", "program", "teardown", "exit"];

/// One way of running a tool: a command line, or why there is none.
pub struct Runner {
    pub label: String,
    /// Program and leading arguments; the tool's own arguments follow.
    pub command: Result<Vec<String>, String>,
    /// Bytes on disk this runner needs for this tool (binary + artifact).
    pub size: Option<u64>,
}

pub struct Measured {
    pub label: String,
    pub result: Result<RunStats, String>,
    pub size: Option<u64>,
}

pub struct RunStats {
    pub wall: Samples,
    /// Peak RSS per run, KiB.
    pub rss: Samples,
}

pub struct ToolReport {
    pub tool: &'static Tool,
    pub rows: Vec<Measured>,
    /// Medians of each of [`PHASES`], seconds (from the `exe` output, or
    /// the phase host).
    pub phases: Result<Vec<Samples>, String>,
    /// The same for the output loaded in place (`--keep-runner-sections`),
    /// when phases come from the outputs.
    pub phases_in_place: Option<Result<Vec<Samples>, String>>,
}

pub struct CliReport {
    pub tools: Vec<ToolReport>,
    /// Where the phases were measured (and how that was linked).
    pub phase_host: String,
    /// `wasmbake exe` build times, per tool.
    pub exe: Vec<ExeTiming>,
    /// Which `wasmbake` binary made them (release, or the debug build in
    /// `--quick`).
    pub exe_build: String,
}

/// How long making a tool's executable takes.
pub struct ExeTiming {
    pub tool: &'static str,
    pub wasm_len: u64,
    /// `wasmbake exe --static` with an empty cache (full runs).
    pub cold: Result<Samples, String>,
    /// The same with the artifact cached.
    pub warm: Result<Samples, String>,
    /// `Engine::precompile_module` of the same module in this process.
    pub precompile: Samples,
    /// `wasmtime compile` 48.0.8.
    pub wasmtime_compile: Result<Samples, String>,
}

/// The `wasmbake` command: release in full runs (its runners are built by
/// its build script, in `target/wasmbake-runner`, minutes the first time);
/// `--quick` uses the debug build the test command has made (built here by
/// the same `cargo test --workspace` when it is missing: `cargo build -p
/// wasmbake-cli` alone unifies other features and would build Wasmtime
/// again).
pub fn wasmbake_cli(root: &Path, quick: bool) -> Result<PathBuf, String> {
    if quick {
        let debug = root.join("target/debug/wasmbake");
        if !debug.is_file() {
            cargo(root, &root.join("target"), &["test", "--workspace", "--no-run", "--quiet"], None)?;
        }
        return Ok(debug);
    }
    cargo(root, &root.join("target"), &["build", "--release", "--quiet", "-p", "wasmbake-cli"], None)?;
    Ok(root.join("target/release/wasmbake"))
}

/// Times `command` `runs` times (after `before` each run, outside the
/// clock); every run must succeed.
pub fn timed(
    runs: usize,
    mut before: impl FnMut(),
    mut command: impl FnMut() -> Command,
) -> Result<Samples, String> {
    let mut samples = Vec::new();
    for _ in 0..runs {
        before();
        let mut command = command();
        let start = Instant::now();
        let out = command.output().map_err(|e| format!("{command:?}: {e}"))?;
        samples.push(start.elapsed().as_secs_f64());
        if !out.status.success() {
            return Err(format!(
                "{:?} failed: {}",
                command.get_program(),
                String::from_utf8_lossy(&out.stderr).lines().next().unwrap_or("?")
            ));
        }
    }
    Ok(Samples::new(samples))
}

/// What [`exe_outputs`] made: the `wasmbake` command (or why there is
/// none), each tool's executable (or why not), and the timings.
type ExeOutputs = (Result<PathBuf, String>, Vec<(String, Result<PathBuf, String>)>, Vec<ExeTiming>);

/// `wasmbake exe --static` of each tool, timed cold (full runs) and warm,
/// beside its precompilation alone and `wasmtime compile`; returns the
/// outputs (for the whole-process table) and the timings.
fn exe_outputs(
    root: &Path,
    dir: &Path,
    corpus: &Path,
    quick: bool,
    wasmtime: &Result<PathBuf, String>,
    tools: &[&'static Tool],
) -> ExeOutputs {
    let cli = wasmbake_cli(root, quick);
    let runs = if quick { 1 } else { 5 };
    let options = wasmbake_compiler::Options::default();
    let engine = wasmbake_compiler::engine(&options).unwrap();
    let components = wasmbake_compiler::component_engine(&options).unwrap();
    let mut outputs = Vec::new();
    let mut timings = Vec::new();
    for &tool in tools {
        let wasm = corpus.join(format!("{}.wasm", tool.name));
        let out = dir.join(format!("{}.exe", tool.name));
        let exe = |cache: &Path| {
            let mut command = Command::new(cli.as_ref().unwrap());
            command
                .arg("exe")
                .arg(&wasm)
                .arg("-o")
                .arg(&out)
                .arg("--static")
                .env("WASMBAKE_CACHE_DIR", cache);
            command
        };
        let warm_cache = root.join("target/wasmbake");
        let cold_cache = dir.join("exe-cold-cache");
        let (cold, warm) = match &cli {
            Err(why) => (Err(why.clone()), Err(why.clone())),
            Ok(_) => (
                match quick {
                    true => Err("not run in `--quick` (a debug build of the compiler)".into()),
                    false => timed(runs, || drop(std::fs::remove_dir_all(&cold_cache)), || exe(&cold_cache)),
                },
                // (The first run fills the cache when the toolbox's build has not.)
                timed(1, || {}, || exe(&warm_cache))
                    .and_then(|_| timed(runs.max(3), || {}, || exe(&warm_cache))),
            ),
        };
        let bytes = std::fs::read(&wasm).unwrap();
        let precompile = Samples::new(
            (0..runs)
                .map(|_| {
                    let start = Instant::now();
                    match tool.is_component() {
                        true => drop(components.precompile_component(&bytes).unwrap()),
                        false => drop(engine.precompile_module(&bytes).unwrap()),
                    }
                    start.elapsed().as_secs_f64()
                })
                .collect(),
        );
        let wasmtime_compile = wasmtime.clone().and_then(|bin| {
            let cwasm = dir.join(format!("{}.timed.cwasm", tool.name));
            timed(
                runs,
                || {},
                || {
                    let mut command = Command::new(&bin);
                    command.arg("compile").arg(&wasm).arg("-o").arg(&cwasm);
                    command
                },
            )
        });
        let built = warm.as_ref().map(|_| out.clone()).map_err(Clone::clone);
        outputs.push((tool.name.to_owned(), built));
        timings.push(ExeTiming {
            tool: tool.name,
            wasm_len: bytes.len() as u64,
            cold,
            warm,
            precompile,
            wasmtime_compile,
        });
    }
    (cli, outputs, timings)
}

/// A static link of the toolbox: target triple, RUSTFLAGS, label, and a
/// target directory of its own under `target/wasmbake-report/` when its
/// RUSTFLAGS would otherwise rebuild (and replace) another link's crates.
struct Link {
    triple: &'static str,
    rustflags: &'static str,
    label: &'static str,
    target_dir: Option<&'static str>,
}

const MUSL: Link =
    Link { triple: "x86_64-unknown-linux-musl", rustflags: "", label: "static (musl)", target_dir: None };
const GLIBC: Link = Link {
    triple: "x86_64-unknown-linux-gnu",
    rustflags: "-C target-feature=+crt-static",
    label: "static (glibc, `+crt-static`)",
    target_dir: None,
};
/// Not position-independent: no relocation at start-up, and no address
/// randomisation of the binary itself (guide, "Command-line tools").
const MUSL_NO_PIE: Link = Link {
    triple: "x86_64-unknown-linux-musl",
    rustflags: "-C relocation-model=static",
    label: "static (musl, non-PIE)",
    target_dir: Some("nopie"),
};

fn cargo(root: &Path, target_dir: &Path, args: &[&str], rustflags: Option<&str>) -> Result<(), String> {
    let mut command = Command::new(env!("CARGO"));
    command
        .args(args)
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target_dir)
        .env("WASMBAKE_CACHE_DIR", root.join("target/wasmbake"))
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .stdout(Stdio::inherit());
    match rustflags {
        Some(flags) => command.env("RUSTFLAGS", flags),
        None => command.env_remove("RUSTFLAGS"),
    };
    let out = command.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let why = stderr.lines().find(|l| l.starts_with("error")).unwrap_or("cargo failed").to_owned();
    Err(why)
}

/// Where `link` builds.
fn target_dir(root: &Path, link: &Link) -> PathBuf {
    match link.target_dir {
        Some(dir) => root.join("target/wasmbake-report").join(dir),
        None => root.join("target"),
    }
}

/// Builds the toolbox (`link` = `None`: dynamic) as the README says.
fn toolbox(root: &Path, link: Option<&Link>) -> Result<PathBuf, String> {
    if link.is_some() && !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        return Err("static builds are set up for x86-64 Linux only".into());
    }
    let args = vec!["build", "-p", "wasmbake-examples", "--example", "toolbox"];
    build_linked(root, args, link, "examples/toolbox")
}

/// Runs `cargo <args>` in the report's profile, linked like `link` (`None`:
/// dynamic, for this host, in `target/`); returns the path of `artifact`
/// in the profile's folder.
fn build_linked(
    root: &Path,
    mut args: Vec<&str>,
    link: Option<&Link>,
    artifact: &str,
) -> Result<PathBuf, String> {
    args.extend(process::profile_args());
    let Some(link) = link else {
        let target = root.join("target");
        cargo(root, &target, &args, None)?;
        return Ok(target.join(process::profile_dir()).join(artifact));
    };
    let target = target_dir(root, link);
    args.extend(["--target", link.triple]);
    cargo(root, &target, &args, Some(link.rustflags))?;
    Ok(target.join(link.triple).join(process::profile_dir()).join(artifact))
}

fn size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// `target/wasmtime-cli/bin/wasmtime` 48.0.8, installed there when `install`.
pub fn wasmtime_cli(root: &Path, install: bool) -> Result<PathBuf, String> {
    let prefix = root.join("target/wasmtime-cli");
    let bin = prefix.join("bin/wasmtime");
    let version = || {
        Command::new(&bin)
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    if version().is_some_and(|v| v.contains("48.0.8")) {
        return Ok(bin);
    }
    if !install {
        return Err("not installed (`--quick` never installs it; a full run does)".into());
    }
    eprintln!("report: installing wasmtime-cli 48.0.8 into {} (about 20 minutes, once)", prefix.display());
    let status = Command::new(env!("CARGO"))
        .args(["install", "--locked", "wasmtime-cli", "--version", "48.0.8", "--root"])
        .arg(&prefix)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .map_err(|e| format!("cannot run cargo install: {e}"))?;
    match status.success() && version().is_some_and(|v| v.contains("48.0.8")) {
        true => Ok(bin),
        false => Err("`cargo install --locked wasmtime-cli --version 48.0.8` failed".into()),
    }
}

/// WAMR's AOT compiler and runner from PyPI, installed when `install`.
fn wamr(work: &Path, install: bool) -> Result<(PathBuf, PathBuf), String> {
    let prefix = work.join("wamr");
    let (wamrc, wamr) = (prefix.join("bin/wamrc"), prefix.join("bin/wamr"));
    if wamrc.is_file() && wamr.is_file() {
        return Ok((wamrc, wamr));
    }
    if !install {
        return Err("not installed (`--quick` never installs it; a full run does)".into());
    }
    let out = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "--no-deps", "--prefix"])
        .arg(&prefix)
        .args(["wamr-bin==3.0.0.dev5", "wamrc-bin==3.0.0.dev5"])
        .output()
        .map_err(|e| format!("cannot run pip: {e}"))?;
    match wamrc.is_file() && wamr.is_file() {
        true => Ok((wamrc, wamr)),
        false => Err(format!(
            "`pip install wamr-bin==3.0.0.dev5 wamrc-bin==3.0.0.dev5` failed: {}",
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("?")
        )),
    }
}

fn run_ok(command: &mut Command, what: &str) -> Result<(), String> {
    let out = command.output().map_err(|e| format!("{what}: {e}"))?;
    match out.status.success() {
        true => Ok(()),
        false => Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).lines().next().unwrap_or("?")
        )),
    }
}

fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The tools a run measures: all of [`TOOLS`], or those `only` names.
pub fn tools(only: Option<&[&str]>) -> Vec<&'static Tool> {
    TOOLS.iter().filter(|t| only.is_none_or(|names| names.contains(&t.name))).collect()
}

/// Builds and installs every runner, then measures each of `tools`.
pub fn measure(
    root: &Path,
    work: &Path,
    corpus: &Path,
    quick: bool,
    runs: usize,
    tools: &[&'static Tool],
) -> CliReport {
    let dir = work.join("cli");
    std::fs::create_dir_all(&dir).unwrap();
    // Every static toolbox is a cross build (`--target`), for which Cargo
    // builds the plugin compiler for the host again: full runs only.
    let not_quick = |link: &'static Link| match quick {
        true => Err("not built in `--quick` (a cross build: the plugin compiler is built again)".into()),
        false => toolbox(root, Some(link)),
    };
    let statics: Vec<(&Link, Result<PathBuf, String>)> =
        [&MUSL, &GLIBC, &MUSL_NO_PIE].into_iter().map(|link| (link, not_quick(link))).collect();
    let dynamic = toolbox(root, None);
    let wasmtime = wasmtime_cli(root, !quick);
    let wamr = wamr(work, !quick);
    let native = |flags: &[&str], name: &str| -> Result<PathBuf, String> {
        let out = dir.join(name);
        run_ok(
            Command::new("cc").args(["-O2"]).args(flags).arg(corpus.join("hello-c.c")).arg("-o").arg(&out),
            "cc",
        )?;
        Ok(out)
    };
    let rss = dir.join("rss.c");
    std::fs::write(&rss, RSS_TRAMPOLINE).unwrap();
    run_ok(Command::new("cc").args(["-O2", "-static"]).arg(&rss).arg("-o").arg(dir.join("rss")), "cc rss.c")
        .unwrap();
    let natives = [
        ("native C, static (`cc -O2 -static`)", native(&["-static"], "hello-c-static")),
        ("native C, dynamic (`cc -O2`)", native(&[], "hello-c-dynamic")),
    ];
    let (cli, exe_built, exe) = exe_outputs(root, &dir, corpus, quick, &wasmtime, tools);
    // Phases come from the `wasmbake exe --static` outputs themselves (their
    // runner's trace) when every one was made; else from the phase host,
    // linked like the fastest static toolbox that built (dynamic in
    // `--quick`, which builds none).
    let from_outputs = exe_built.iter().all(|(_, built)| built.is_ok());
    let link = statics.iter().find(|(_, built)| built.is_ok()).map(|(link, _)| *link);
    let (phase_host, phase_link) = match (from_outputs, link, quick) {
        (true, ..) => (Err("unused".to_owned()), "the `wasmbake exe --static` outputs".to_owned()),
        (false, Some(link), _) => {
            (phase_host(root, Some(link)), format!("the phase host, {}", link.label.replace('`', "")))
        }
        (false, None, true) => {
            (phase_host(root, None), "the phase host, dynamic (glibc), --quick".to_owned())
        }
        (false, None, false) => (Err("no static toolbox built".to_owned()), "not built".to_owned()),
    };
    let exe_build = match (&cli, quick) {
        (Err(why), _) => format!("not built: {why}"),
        (Ok(_), true) => "the debug build of `wasmbake` (`--quick`)".to_owned(),
        (Ok(_), false) => "`wasmbake` built with `--release`".to_owned(),
    };

    let mut reports = Vec::new();
    for &tool in tools {
        let wasm = corpus.join(format!("{}.wasm", tool.name));
        let mut runners = Vec::new();
        for (link, built) in statics.iter().map(|(l, b)| (l.label, b)).chain([("dynamic (glibc)", &dynamic)])
        {
            runners.push(Runner {
                label: format!("wasmbake toolbox, {link}"),
                command: built.clone().map(|b| vec![path_arg(&b), tool.name.into()]),
                size: built.as_ref().ok().and_then(|b| size(b)),
            });
        }
        let built = exe_built.iter().find(|(name, _)| name == tool.name).map(|(_, b)| b.clone()).unwrap();
        runners.push(Runner {
            label: "`wasmbake exe --static` output".into(),
            command: built.clone().map(|b| vec![path_arg(&b)]),
            size: built.as_ref().ok().and_then(|b| size(b)),
        });
        // The same output with its program loaded in place, its memory image
        // copied: what the output's own file saves.
        let in_place = cli.clone().and_then(|cli| {
            let out = dir.join(format!("{}.in-place.exe", tool.name));
            run_ok(
                Command::new(cli)
                    .arg("exe")
                    .arg(&wasm)
                    .args(["--static", "--keep-runner-sections", "-o"])
                    .arg(&out)
                    .env("WASMBAKE_CACHE_DIR", root.join("target/wasmbake")),
                "wasmbake exe --keep-runner-sections",
            )?;
            Ok(out)
        });
        runners.push(Runner {
            label: "`wasmbake exe --static --keep-runner-sections` output (loaded in place)".into(),
            command: in_place.clone().map(|b| vec![path_arg(&b)]),
            size: in_place.as_ref().ok().and_then(|b| size(b)),
        });
        let compiled = |what: &str, compile: &mut dyn FnMut(&Path) -> Result<(), String>| {
            let cwasm = dir.join(format!("{}.{what}.cwasm", tool.name));
            compile(&cwasm).map(|()| cwasm)
        };
        let wt = wasmtime.clone().and_then(|bin| {
            let cwasm = compiled("wasmtime", &mut |out| {
                run_ok(Command::new(&bin).arg("compile").arg(&wasm).arg("-o").arg(out), "wasmtime compile")
            })?;
            Ok((bin, cwasm))
        });
        runners.push(Runner {
            label: "`wasmtime run --allow-precompiled` (.cwasm)".into(),
            command: wt.clone().map(|(bin, cwasm)| {
                vec![
                    path_arg(&bin),
                    "run".into(),
                    "--allow-precompiled".into(),
                    "--dir=.".into(),
                    path_arg(&cwasm),
                ]
            }),
            size: wt.as_ref().ok().and_then(|(bin, cwasm)| Some(size(bin)? + size(cwasm)?)),
        });
        runners.push(Runner {
            label: "`wasmtime run` (.wasm, compiles at start)".into(),
            command: wasmtime
                .clone()
                .map(|bin| vec![path_arg(&bin), "run".into(), "--dir=.".into(), path_arg(&wasm)]),
            size: wasmtime.as_ref().ok().and_then(|bin| Some(size(bin)? + size(&wasm)?)),
        });
        let wamr = match tool.is_component() {
            true => Err("WAMR runs no components".to_owned()),
            false => wamr.clone(),
        };
        let wr = wamr.and_then(|(wamrc, wamr)| {
            let cwasm = compiled("wamr", &mut |out| {
                run_ok(Command::new(&wamrc).arg("compile").arg(&wasm).arg("-o").arg(out), "wamrc compile")
            })?;
            Ok((wamr, cwasm))
        });
        runners.push(Runner {
            label: "WAMR AOT (`wamrc compile`, `wamr run`)".into(),
            command: wr.clone().map(|(bin, cwasm)| vec![path_arg(&bin), "run".into(), path_arg(&cwasm)]),
            size: wr.as_ref().ok().and_then(|(bin, cwasm)| Some(size(bin)? + size(cwasm)?)),
        });
        if tool.name == "hello-c" {
            for (label, built) in &natives {
                runners.push(Runner {
                    label: (*label).into(),
                    command: built.clone().map(|b| vec![path_arg(&b)]),
                    size: built.as_ref().ok().and_then(|b| size(b)),
                });
            }
        }
        eprintln!("report: whole-process runs of {} ({} runners)", tool.name, runners.len());
        let rows = interleave(tool, &runners, runs, &dir, runs.min(5));
        let phases_in_place = from_outputs
            .then(|| in_place.clone().and_then(|output| phases(&[path_arg(&output)], tool, runs, &dir)));
        let phases = match (&built, from_outputs) {
            (Ok(output), true) => phases(&[path_arg(output)], tool, runs, &dir),
            _ => phase_host
                .clone()
                .and_then(|host| phases(&[path_arg(&host), tool.name.into()], tool, runs, &dir)),
        };
        reports.push(ToolReport { tool, rows, phases, phases_in_place });
    }
    CliReport { tools: reports, phase_host: phase_link, exe, exe_build }
}

/// Spawn → exit of every available runner, `runs` rounds after one warm-up
/// round, interleaved; each from an empty directory with an empty
/// environment. Checks every run's output.
fn interleave(tool: &Tool, runners: &[Runner], runs: usize, dir: &Path, rss_runs: usize) -> Vec<Measured> {
    let cwd = dir.join("empty");
    std::fs::create_dir_all(&cwd).unwrap();
    let mut wall: Vec<Vec<f64>> = runners.iter().map(|_| Vec::new()).collect();
    let mut rss: Vec<Vec<f64>> = runners.iter().map(|_| Vec::new()).collect();
    let mut failed: Vec<Option<String>> = runners.iter().map(|r| r.command.clone().err()).collect();
    for round in 0..=runs {
        for (i, runner) in runners.iter().enumerate() {
            let Ok(argv) = &runner.command else { continue };
            if failed[i].is_some() {
                continue;
            }
            let mut command = Command::new(&argv[0]);
            command.args(&argv[1..]).args(tool.args).current_dir(&cwd).env_clear();
            match spawn_and_wait(&mut command) {
                Ok((time, stdout)) if stdout.contains(tool.expect) => {
                    if round > 0 {
                        wall[i].push(time);
                    }
                }
                Ok((_, stdout)) => failed[i] = Some(format!("printed {stdout:?}")),
                Err(e) => failed[i] = Some(e),
            }
            // Peak RSS in runs of their own, through the trampoline.
            if round > 0 && round <= rss_runs {
                let mut command = Command::new(dir.join("rss"));
                command.args(argv).args(tool.args).current_dir(&cwd).env_clear();
                match command.stdout(Stdio::null()).output() {
                    Ok(out) if out.status.success() => {
                        let stderr = String::from_utf8_lossy(&out.stderr);
                        if let Some(kib) =
                            stderr.lines().find_map(|l| l.strip_prefix("maxrss=")?.parse().ok())
                        {
                            rss[i].push(kib);
                        }
                    }
                    _ => failed[i] = Some("failed under the RSS trampoline".into()),
                }
            }
        }
    }
    runners
        .iter()
        .zip(wall.into_iter().zip(rss))
        .zip(failed)
        .map(|((runner, (wall, rss)), failed)| Measured {
            label: runner.label.clone(),
            result: match failed {
                Some(why) => Err(why),
                None => Ok(RunStats { wall: Samples::new(wall), rss: Samples::new(rss) }),
            },
            size: runner.size,
        })
        .collect()
}

/// Wall time (s) and stdout of one run.
fn spawn_and_wait(command: &mut Command) -> Result<(f64, String), String> {
    command.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());
    let start = Instant::now();
    let mut child = command.spawn().map_err(|e| format!("cannot start: {e}"))?;
    let status = child.wait().map_err(|e| e.to_string())?;
    let time = start.elapsed().as_secs_f64();
    let (mut stdout, mut stderr) = (String::new(), String::new());
    // (The tools print a few lines: far below a pipe's buffer.)
    child.stdout.take().unwrap().read_to_string(&mut stdout).map_err(|e| e.to_string())?;
    child.stderr.take().unwrap().read_to_string(&mut stderr).map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("{status}: {}", stderr.lines().next().unwrap_or("")));
    }
    Ok((time, stdout))
}

/// A C trampoline that forks, execs its arguments and prints the child's
/// peak RSS (KiB) from `wait4`. The report cannot ask `wait4` about its own
/// children: a child spawned by a large process inherits that process's
/// high-water mark through `vfork` and `exec`. The trampoline is small
/// when it forks, so the figure is the tool's own (or the trampoline's
/// few hundred KiB, whichever is larger).
const RSS_TRAMPOLINE: &str = r#"#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
  (void)argc;
  pid_t pid = fork();
  if (pid == 0) { execv(argv[1], argv + 1); _exit(127); }
  int status; struct rusage usage;
  if (wait4(pid, &status, 0, &usage) != pid) return 126;
  fprintf(stderr, "maxrss=%ld\n", usage.ru_maxrss);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 125;
}
"#;

fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid clock id and pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The phase host's `main`: runs a tool through `Command::run_traced` and
/// prints `phase=<CLOCK_MONOTONIC ns>` for the start of `main` and each step.
const PHASE_MAIN: &str = r#"wasmbake::include_plugins!();

fn now() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid clock id and pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn main() {
    let start = now();
    let mut args = std::env::args().skip(1);
    let tool = args.next().expect("usage: wbr-cli-phases TOOL [ARG]...");
    let mut command = match tool.as_str() {
        "hello-c" => HELLO_C.command(),
        "avr-as" => AVR_AS.command(),
        "flite" => FLITE.command(),
        "hello-c.component" => HELLO_C_COMPONENT.command(),
        "avr-as.component" => AVR_AS_COMPONENT.command(),
        other => panic!("no tool {other}"),
    };
    let mut marks = Vec::with_capacity(16);
    marks.push(("main", start));
    let status = command
        .arg0(&tool)
        .args(args)
        .inherit_stdio()
        .preopened_dir(".", ".", wasmbake::Access::ReadWrite)
        .run_traced(&mut |step| marks.push((step, now())))
        .unwrap();
    let lines: String = marks.iter().map(|(step, t)| format!("{step}={t}\n")).collect();
    eprint!("{lines}");
    std::process::exit(status.code());
}
"#;

/// Builds the phase host linked like `link` (`None`: dynamic, for this host).
fn phase_host(root: &Path, link: Option<&Link>) -> Result<PathBuf, String> {
    let package = "wbr-cli-phases";
    let dir = root.join("target/wasmbake-report/hosts").join(package);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let manifest = crate::process::manifest(root, package, true, &["wasi", "component"], "libc = \"0.2\"\n");
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    let corpus = wasmbake_test_support::corpus::dir();
    let modules: String = TOOLS
        .iter()
        .map(|t| format!(".module({:?})", corpus.join(format!("{}.wasm", t.name)).to_string_lossy()))
        .collect();
    std::fs::write(
        dir.join("build.rs"),
        format!(
            "fn main() {{\n    if let Err(e) = wasmbake_build::Builder::new(){modules}.compile() {{\n        \
             eprintln!(\"{{e}}\");\n        std::process::exit(1);\n    }}\n}}\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), PHASE_MAIN).unwrap();
    let manifest_path = path_arg(&dir.join("Cargo.toml"));
    build_linked(root, vec!["build", "--quiet", "--manifest-path", &manifest_path], link, package)
}

/// Runs `program` (a command line that runs `tool`: the phase host and the
/// tool's name, or an `exe` output, traced by `WASMBAKE_RUNNER_TRACE`)
/// `runs` times (after a warm-up) and returns the median of each of
/// [`PHASES`].
fn phases(program: &[String], tool: &Tool, runs: usize, dir: &Path) -> Result<Vec<Samples>, String> {
    let cwd = dir.join("empty");
    let mut per_phase: Vec<Vec<f64>> = PHASES.iter().map(|_| Vec::new()).collect();
    for round in 0..=runs {
        let mut command = Command::new(&program[0]);
        command.args(&program[1..]).args(tool.args).current_dir(&cwd).env_clear();
        command.env("WASMBAKE_RUNNER_TRACE", "phases");
        command.stdout(Stdio::null()).stderr(Stdio::piped()).stdin(Stdio::null());
        let spawned = monotonic_ns();
        let out = command.output().map_err(|e| format!("{}: {e}", program[0]))?;
        let ended = monotonic_ns();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let marks: Vec<(&str, u64)> = stderr
            .lines()
            .filter_map(|l| l.split_once('='))
            .filter_map(|(step, t)| Some((step, t.parse().ok()?)))
            .collect();
        // main, then the eight steps of `Command`.
        if !out.status.success() || marks.len() != PHASES.len() - 1 {
            return Err(format!("{} printed {stderr:?}", program[0]));
        }
        if round == 0 {
            continue;
        }
        let mut previous = spawned;
        for (i, (_, t)) in marks.iter().enumerate() {
            per_phase[i].push(t.saturating_sub(previous) as f64 * 1e-9);
            previous = *t;
        }
        per_phase[PHASES.len() - 1].push(ended.saturating_sub(previous) as f64 * 1e-9);
    }
    Ok(per_phase.into_iter().map(Samples::new).collect())
}

/// The static rows the targets hold to: each static toolbox, and the
/// `wasmbake exe` output (what a tool's user runs; not its in-place
/// variant, which is there to compare with).
fn static_rows(tool: &ToolReport) -> impl Iterator<Item = (&str, f64)> {
    tool.rows
        .iter()
        .filter(|r| {
            r.label.contains("toolbox, static") || r.label.starts_with("`wasmbake exe --static` output")
        })
        .filter_map(|r| {
            let label = r.label.trim_start_matches("wasmbake ");
            r.result.as_ref().ok().map(|s| (label, s.wall.median()))
        })
}

fn median_of(tool: &ToolReport, label_start: &str) -> Option<f64> {
    tool.rows
        .iter()
        .find(|r| r.label.starts_with(label_start))
        .and_then(|r| r.result.as_ref().ok())
        .map(|s| s.wall.median())
}

/// Rows of the report's targets table.
pub fn targets(w: &mut String, report: &CliReport) {
    use std::fmt::Write as _;
    component_targets(w, report);
    for t in &report.exe {
        if let Ok(cold) = &t.cold {
            let over = cold.median() - t.precompile.median();
            let _ = writeln!(
                w,
                "| `wasmbake exe` ≤ precompile + 2 s (cold cache) | {} | {} (+{:.2} s) | {} |",
                t.tool,
                crate::stats::time(cold.median()),
                over,
                crate::pass(over <= 2.0)
            );
        }
    }
    for tool in &report.tools {
        let name = tool.tool.name;
        if tool.tool.is_component() {
            continue;
        }
        let precompiled = median_of(tool, "`wasmtime run --allow-precompiled`");
        for (label, ours) in static_rows(tool) {
            // (hello-c: ⅓; avr-as: ¼; flite, whose 17 MB of data is the
            // most a start-up copies: ½.)
            let (share, fraction) = match name {
                "avr-as" => ("¼", 0.25),
                "flite" => ("½", 0.5),
                _ => ("⅓", 1.0 / 3.0),
            };
            let _ = writeln!(
                w,
                "| whole process ≤ {share} of `wasmtime run --allow-precompiled` ({label}) | {name} | {} | {} |",
                precompiled.map_or("– (not run)".into(), |p| format!("{:.2} of it", ours / p)),
                precompiled.map_or("not measured", |p| crate::pass(ours <= p * fraction))
            );
            if name == "hello-c" {
                let native = median_of(tool, "native C, static");
                let _ = writeln!(
                    w,
                    "| whole process ≤ 1.3× the native static binary ({label}) | {name} | {} | {} |",
                    native.map_or("– (not run)".into(), |n| format!("{:.2}×", ours / n)),
                    native.map_or("not measured", |n| crate::pass(ours <= 1.3 * n))
                );
                let wamr = median_of(tool, "WAMR AOT");
                let _ = writeln!(
                    w,
                    "| whole process faster than WAMR's AOT runner ({label}) | {name} | {} | {} |",
                    wamr.map_or("– (not run)".into(), |n| format!("{:.2} of it", ours / n)),
                    wamr.map_or("not measured", |n| crate::pass(ours < n))
                );
            }
        }
    }
}

/// The component targets: each command component against `wasmtime run`
/// and against the same program as a core module, for every wasmbake row
/// both have (the static toolboxes and the exe output; `--quick`: the
/// dynamic toolbox and the exe output).
fn component_targets(w: &mut String, report: &CliReport) {
    use std::fmt::Write as _;
    for tool in report.tools.iter().filter(|t| t.tool.is_component()) {
        let name = tool.tool.name;
        let Some(module) = report.tools.iter().find(|t| t.tool.name == tool.tool.module_name()) else {
            continue;
        };
        let precompiled = median_of(tool, "`wasmtime run --allow-precompiled`");
        for row in tool.rows.iter().filter(|r| {
            r.label.starts_with("wasmbake toolbox") || r.label.starts_with("`wasmbake exe --static` output")
        }) {
            let Ok(ours) = row.result.as_ref().map(|s| s.wall.median()) else { continue };
            let label = row.label.trim_start_matches("wasmbake ");
            let _ = writeln!(
                w,
                "| command component's whole process ≤ ⅓ of `wasmtime run --allow-precompiled` ({label}) | {name} | {} | {} |",
                precompiled.map_or("– (not run)".into(), |p| format!("{:.2} of it", ours / p)),
                precompiled.map_or("not measured", |p| crate::pass(ours <= p / 3.0))
            );
            let as_module = median_of(module, &row.label);
            let _ = writeln!(
                w,
                "| command component's whole process ≤ 1.3× the core module's ({label}) | {name} | {} | {} |",
                as_module.map_or("– (not run)".into(), |m| format!("{:.2}×", ours / m)),
                as_module.map_or("not measured", |m| crate::pass(ours <= 1.3 * m))
            );
        }
    }
}

/// Section 6 of BENCHMARKS.md.
pub fn markdown(w: &mut String, report: &CliReport, runs: usize) {
    use crate::stats::{bytes, time};
    use std::fmt::Write as _;
    let _ = writeln!(
        w,
        "\n## 6. Static CLI tools\n\n\
         What a person running a command-line tool waits for: wall time from spawn to exit (median of {runs} \
         runs after a warm-up run, all runners of a tool interleaved round by round), each run from an empty \
         directory with an empty environment, output checked every run. *× static* is the time over the \
         first static toolbox row's. Peak RSS: median of {} runs of their own, each through a small C trampoline \
         that forks, execs the runner and reads `wait4`'s `ru_maxrss` (a child of the report itself would \
         inherit the report's high-water mark); size is what the runner needs on disk for the \
         tool (binary, plus the precompiled file where there is one). The toolbox is `examples/toolbox` \
         (guide, \"Command-line tools\"): it preopens the current directory and runs the tool with \
         `Command::exec`; `wasmtime run` gets `--dir=.` to match.\n",
        runs.min(5)
    );
    for tool in &report.tools {
        let _ = writeln!(
            w,
            "**`{} {}`**\n\n| runner | wall time | × static | peak RSS | size |\n|---|---|---|---|---|",
            tool.tool.name,
            tool.tool
                .args
                .iter()
                .map(|a| if a.contains(' ') { format!("\"{a}\"") } else { (*a).to_owned() })
                .collect::<Vec<_>>()
                .join(" ")
        );
        let first_static = static_rows(tool).next().map(|(_, t)| t);
        for row in &tool.rows {
            let size = row.size.map_or("–".to_owned(), bytes);
            match &row.result {
                Ok(stats) => {
                    let t = stats.wall.median();
                    let _ = writeln!(
                        w,
                        "| {} | {} | {} | {} | {size} |",
                        row.label,
                        time(t),
                        first_static.map_or("–".into(), |s| format!("{:.2}×", t / s)),
                        bytes((stats.rss.median() * 1024.0) as u64),
                    );
                }
                Err(why) => {
                    let _ = writeln!(
                        w,
                        "| {} | not run: {} | – | – | {size} |",
                        row.label,
                        why.replace('|', "/")
                    );
                }
            }
        }
        let _ = writeln!(w);
    }
    let _ = writeln!(
        w,
        "**Where the time goes** inside the process ({}: with `WASMBAKE_RUNNER_TRACE=phases` the runner, as \
         the phase host does for a toolbox, runs the tool through `Command::run_traced`, which timestamps each \
         step; medians of {runs} runs). *exec*: from the \
         parent's spawn to `main` (kernel exec, libc and Rust start-up); *engine*: `wasmbake::engine()`; \
         *load*: `Embedded::load` (an `exe` output's program with the most data, if it has at least 64 KiB, from \
         the output's file; *…, in place*: the `--keep-runner-sections` output, every program in place); *linker*: the preview-1 functions the module imports (of wasmtime-wasi's 46) into a \
         `Linker` (a component: the WASI 0.2 interfaces it imports, and only those); *wasi*: the WASI context (arguments, stdio, the preopened directory, random seeds), the \
         store, the import check; *runtime*: the single-threaded Tokio runtime; *instantiate*: first \
         instantiation; *program*: `_start`; *teardown*: dropping the instance (skipped by \
         `Command::exec`, which outputs and the toolbox use when not traced); *exit*: from there to the parent's `wait` returning.\n",
        report.phase_host
    );
    let _ = writeln!(
        w,
        "| tool | {} | total |\n|---|{}---|",
        PHASES.join(" | "),
        PHASES.iter().map(|_| "---|").collect::<String>()
    );
    for tool in &report.tools {
        let in_place = tool.phases_in_place.as_ref().map(|p| (format!("{}, in place", tool.tool.name), p));
        for (name, phases) in [(tool.tool.name.to_owned(), &tool.phases)].into_iter().chain(in_place) {
            match phases {
                Ok(phases) => {
                    let cells: Vec<String> = phases.iter().map(|p| time(p.median())).collect();
                    let total: f64 = phases.iter().map(Samples::median).sum();
                    let _ = writeln!(w, "| {name} | {} | {} |", cells.join(" | "), time(total));
                }
                Err(why) => {
                    let _ = writeln!(w, "| {name} | not run: {} |", why.replace('|', "/"));
                }
            }
        }
    }
    exe_markdown(w, report);
}

/// The `wasmbake exe` build-time table (end of section 6).
fn exe_markdown(w: &mut String, report: &CliReport) {
    use crate::stats::{bytes, time};
    use std::fmt::Write as _;
    let _ = writeln!(
        w,
        "\n**Making the executable: `wasmbake exe TOOL.wasm -o TOOL --static`** ({}; medians). *Cold*: an \
         empty artifact cache (the module is validated, stripped and precompiled, then the prebuilt static \
         runner is copied and the payload appended); *cached*: the artifact found in the cache (verified); \
         *precompile*: `Engine::precompile_module` of the same module alone, in the report's process; \
         *wasmtime compile*: Wasmtime's CLI making its `.cwasm`. Target: exe ≤ precompile + 2 s.\n\n\
         | tool | module | exe, cold | exe, cached | precompile | cold − precompile | ≤ +2 s | `wasmtime compile` |\n\
         |---|---|---|---|---|---|---|---|",
        report.exe_build
    );
    let cell = |r: &Result<Samples, String>| match r {
        Ok(s) => time(s.median()),
        Err(why) => format!("not run: {}", why.replace('|', "/")),
    };
    for t in &report.exe {
        let (over, verdict) = match &t.cold {
            Ok(cold) => {
                let over = cold.median() - t.precompile.median();
                (format!("{}{}", if over >= 0.0 { "+" } else { "" }, time(over)), crate::pass(over <= 2.0))
            }
            Err(_) => ("–".to_owned(), "not measured"),
        };
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {over} | {verdict} | {} |",
            t.tool,
            bytes(t.wasm_len),
            cell(&t.cold),
            cell(&t.warm),
            time(t.precompile.median()),
            cell(&t.wasmtime_compile)
        );
    }
}
