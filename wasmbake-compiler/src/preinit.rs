//! Pre-initialisation at bake time: run a module's init function once, with
//! Wasmtime's own Wizer (`wasmtime-wizer`), and bake the snapshot of its
//! memories and globals instead of the original module.
//!
//! Wizer does the two halves that need knowing the module's layout:
//! `instrument` (export every memory and global) and `snapshot` (rewrite the
//! module with their state as data segments and initial values). The middle,
//! running the instrumented module, is here rather than Wizer's `run`
//! because that one sits behind Wizer's `wasmtime` feature, which turns on
//! Wasmtime's cache, GC-null and WAVE support in every build that bakes: a
//! second Wasmtime build next to the one the workspace shares.
//!
//! What the init function can reach, so that the same inputs always give
//! the same snapshot (the reproducible-build check holds):
//! - no WASI unless [`Preinit::wasi`] asks for it; then the given arguments,
//!   environment and read-only directory, clocks that stand still at zero,
//!   and random bytes that are always the same;
//! - no other import: calling one is an error that names it, as a snapshot
//!   cannot hold what the host did.

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use wasmbake_runtime::wasi::p1::WasiP1Ctx;
use wasmbake_runtime::wasi::p2::pipe::MemoryOutputPipe;
use wasmbake_runtime::wasi::{FsPerms, HostMonotonicClock, HostWallClock, WasiCtxBuilder};
use wasmtime::{Config, Engine, Extern, Instance, Linker, Module, Store, Val, WasmBacktrace};
use wasmtime_wizer::{InstanceState, SnapshotVal, ValType, Wizer};

use crate::Error;

/// The init function's export name when none is given: Wizer's original
/// convention, then the one of Wasmtime's Wizer.
pub const DEFAULT_INIT_FUNCS: [&str; 2] = ["wizer.initialize", "wizer-initialize"];

/// Pre-initialisation of a core module at bake time (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Preinit {
    /// The init function's export name (type `[] -> []`); `None`: the first
    /// of [`DEFAULT_INIT_FUNCS`] the module exports.
    pub init_func: Option<String>,
    /// WASI preview 1 for the init function; `None`: none (a WASI call is
    /// an error that says how to opt in).
    pub wasi: Option<InitWasi>,
}

/// What the init function sees of WASI, when it gets WASI at all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct InitWasi {
    /// `argv`, program name first (nothing: an empty `argv`).
    pub args: Vec<String>,
    /// Environment variables, `(name, value)`.
    pub env: Vec<(String, String)>,
    /// A host directory the init function may read, preopened read-only as
    /// `.` (so relative paths name its files). Its files' contents are part
    /// of the cache key; their times are not, and are what the init function
    /// would read if it asked.
    pub dir: Option<PathBuf>,
}

impl Preinit {
    /// Feeds a cache key with what decides the snapshot beyond `self`
    /// (which the [`crate::Compiler`]'s key holds): the names and contents
    /// of the files under [`InitWasi::dir`] (`file` names the module in
    /// errors).
    pub(crate) fn hash_files(&self, key: &mut impl Hasher, file: &str) -> Result<(), Error> {
        let Some(dir) = self.dir() else { return Ok(()) };
        let unreadable = |e: std::io::Error| Error::Preinit {
            file: file.to_owned(),
            message: format!("cannot read the directory {} given for pre-initialisation: {e}", dir.display()),
        };
        let mut files = Vec::new();
        list_files(dir, dir, &mut files).map_err(unreadable)?;
        files.sort();
        for relative in files {
            relative.hash(key);
            std::fs::read(dir.join(&relative)).map_err(unreadable)?.hash(key);
        }
        Ok(())
    }

    /// Every file under [`InitWasi::dir`] (for the macro to make Cargo
    /// rebuild when one changes).
    pub fn inputs(&self) -> Vec<PathBuf> {
        let Some(dir) = self.dir() else { return Vec::new() };
        let mut files = Vec::new();
        // (An unreadable directory fails the bake itself, with its message.)
        let _ = list_files(dir, dir, &mut files);
        files.into_iter().map(|relative| dir.join(relative)).collect()
    }

    fn dir(&self) -> Option<&Path> {
        self.wasi.as_ref().and_then(|wasi| wasi.dir.as_deref())
    }
}

/// The path, relative to `root`, of every file under `dir`.
fn list_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            list_files(root, &path, out)?;
        } else {
            out.push(path.strip_prefix(root).unwrap_or(&path).to_owned());
        }
    }
    Ok(())
}

/// Runs `wasm`'s init function as `preinit` says and returns the snapshot
/// (`file` names the module in errors).
pub fn preinitialize(wasm: &[u8], file: &str, preinit: &Preinit) -> Result<Vec<u8>, Error> {
    let error = |message: String| Error::Preinit { file: file.to_owned(), message };
    let exports = function_exports(wasm);
    let init = init_func(&exports, preinit).map_err(error)?;
    let mut wizer = Wizer::new();
    wizer.init_func(&init);
    let (cx, instrumented) = wizer.instrument(wasm).map_err(|e| error(format!("{e:#}")))?;

    let engine = engine().map_err(|e| error(format!("{e:#}")))?;
    let module = Module::new(&engine, &instrumented).map_err(|e| error(format!("{e:#}")))?;
    let (ctx, stderr) = context(preinit.wasi.as_ref()).map_err(error)?;
    let mut store = Store::new(&engine, ctx);
    let linker = linker(&module, preinit.wasi.is_some()).map_err(|e| error(format!("{e:#}")))?;
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(|e| error(failure(&e, "instantiating it", &exports, &stderr)))?;
    // As Wizer's `run`: a reactor's `_initialize` first (libc's constructors).
    for name in ["_initialize", init.as_str()] {
        if name == "_initialize" && init == "_initialize" {
            continue;
        }
        let Some(func) = instance.get_func(&mut store, name) else { continue };
        let func = func.typed::<(), ()>(&store).map_err(|e| error(format!("`{name}`: {e:#}")))?;
        func.call(&mut store, ())
            .map_err(|e| error(failure(&e, &format!("its init function `{name}`"), &exports, &stderr)))?;
    }
    let snapshot = ready(wizer.snapshot(&cx, &mut State { store: &mut store, instance }));
    snapshot.map_err(|e| error(format!("{e:#}")))
}

/// The module's function exports: `(name, function index)`.
fn function_exports(wasm: &[u8]) -> Vec<(String, u32)> {
    let mut exports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::ExportSection(section)) = payload {
            for export in section.into_iter().flatten() {
                if export.kind == wasmparser::ExternalKind::Func {
                    exports.push((export.name.to_owned(), export.index));
                }
            }
        }
    }
    exports
}

/// The init function's name: the one asked for, or the first default the
/// module exports; an error when the module exports no such function.
fn init_func(exports: &[(String, u32)], preinit: &Preinit) -> Result<String, String> {
    let exports: Vec<&str> = exports.iter().map(|(name, _)| name.as_str()).collect();
    let wanted: Vec<&str> = match &preinit.init_func {
        Some(name) => vec![name.as_str()],
        None => DEFAULT_INIT_FUNCS.to_vec(),
    };
    if let Some(found) = wanted.iter().find(|name| exports.contains(name)) {
        return Ok((*found).to_owned());
    }
    let asked = match &preinit.init_func {
        Some(name) => format!("exports no function `{name}` to pre-initialise with"),
        None => format!(
            "exports no `{}` (nor `{}`) function to pre-initialise with: name its init function with \
             `preinitialize(init = \"…\")`",
            DEFAULT_INIT_FUNCS[0], DEFAULT_INIT_FUNCS[1]
        ),
    };
    let shown: Vec<String> = exports.iter().take(8).map(|e| format!("`{e}`")).collect();
    let more = if exports.len() > shown.len() { ", …" } else { "" };
    match shown.is_empty() {
        true => Err(format!("it {asked}; it exports no functions")),
        false => Err(format!("it {asked}; its functions: {}{more}", shown.join(", "))),
    }
}

/// The engine the init function runs on: the build machine's, with the
/// settings that make floating point the same on every machine.
fn engine() -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.cranelift_nan_canonicalization(true).relaxed_simd_deterministic(true);
    Engine::new(&config)
}

/// A clock that stands still at zero.
struct Stopped;

impl HostWallClock for Stopped {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for Stopped {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        0
    }
}

/// The init function's WASI context, and its captured stderr (shown with a
/// failure).
fn context(wasi: Option<&InitWasi>) -> Result<(WasiP1Ctx, MemoryOutputPipe), String> {
    let mut builder = WasiCtxBuilder::new();
    let stderr = MemoryOutputPipe::new(64 * 1024);
    builder
        .stderr(stderr.clone())
        .wall_clock(Stopped)
        .monotonic_clock(Stopped)
        .secure_random(wasmbake_runtime::wasi::Deterministic::new(vec![0x5a; 32]))
        .insecure_random(wasmbake_runtime::wasi::Deterministic::new(vec![0xa5; 32]))
        .insecure_random_seed(0);
    if let Some(wasi) = wasi {
        builder.args(&wasi.args).envs(&wasi.env);
        if let Some(dir) = &wasi.dir {
            builder.preopened_dir(dir, ".", FsPerms::ReadOnly).map_err(|e| {
                format!("cannot open the directory {} given for pre-initialisation: {e:#}", dir.display())
            })?;
        }
    }
    Ok((builder.build_p1(), stderr))
}

/// What the init function called that pre-initialisation does not provide.
#[derive(Debug)]
struct Unprovided(String);

impl std::fmt::Display for Unprovided {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unprovided {}

/// The WASI functions the module imports when `wasi`, and every other
/// import as a function that fails, naming itself, when called.
fn linker(module: &Module, wasi: bool) -> wasmtime::Result<Linker<WasiP1Ctx>> {
    let mut linker = match wasi {
        true => wasmbake_runtime::wasi_linker_for(module)?,
        false => Linker::new(module.engine()),
    };
    let mut store = Store::new(module.engine(), WasiCtxBuilder::new().build_p1());
    for import in module.imports() {
        if linker.get_by_import(&mut store, &import).is_some() {
            continue;
        }
        let Some(ty) = import.ty().func().cloned() else { continue };
        let name = format!("{}::{}", import.module(), import.name());
        let why = match import.module() {
            "wasi_snapshot_preview1" => format!(
                "the init function called `{name}`, and gets no WASI unless asked: \
                 `preinitialize(wasi)` (Builder::preinitialize_with, `exe --init-wasi`)"
            ),
            _ => format!(
                "the init function called `{name}`, an import pre-initialisation cannot provide \
                 (a snapshot holds the module's own state, not what its host did)"
            ),
        };
        linker.func_new(import.module(), import.name(), ty, move |_, _, _| {
            Err(Unprovided(why.clone()).into())
        })?;
    }
    Ok(linker)
}

/// One line for a failed instantiation or call: an unprovided import's
/// message, or the trap with the functions it was in (by name, else by
/// export name), and the last line the module wrote to stderr.
fn failure(
    error: &wasmtime::Error,
    what: &str,
    exports: &[(String, u32)],
    stderr: &MemoryOutputPipe,
) -> String {
    if let Some(unprovided) = error.downcast_ref::<Unprovided>() {
        return unprovided.0.clone();
    }
    let mut line = match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => format!("{what} trapped: {trap}"),
        None => format!("{what} failed: {}", crate::one_line(&format!("{error:#}"))),
    };
    if let Some(backtrace) = error.downcast_ref::<WasmBacktrace>() {
        let frames: Vec<String> = backtrace
            .frames()
            .iter()
            .map(|frame| {
                let export = exports.iter().find(|(_, index)| *index == frame.func_index());
                match (frame.func_name(), export) {
                    (Some(name), _) => format!("`{}`", wasmbake_runtime::demangle(name)),
                    (None, Some((name, _))) => format!("`{name}`"),
                    (None, None) => format!("function {}", frame.func_index()),
                }
            })
            .collect();
        if !frames.is_empty() {
            line.push_str(&format!(" in {}", frames.join(" ← ")));
        }
    }
    let written = stderr.contents();
    let written = String::from_utf8_lossy(&written);
    if let Some(last) = written.lines().rev().find(|l| !l.trim().is_empty()) {
        line.push_str(&format!(" (its stderr: {})", last.trim()));
    }
    line
}

/// The instance's state, for Wizer's snapshot.
struct State<'a> {
    store: &'a mut Store<WasiP1Ctx>,
    instance: Instance,
}

impl InstanceState for State<'_> {
    async fn global_get(&mut self, name: &str, _: ValType) -> SnapshotVal {
        // (Wizer asks only for the globals its instrumentation exported.)
        let global = self.instance.get_global(&mut *self.store, name).expect("an instrumented global");
        match global.get(&mut *self.store) {
            Val::I32(x) => SnapshotVal::I32(x),
            Val::I64(x) => SnapshotVal::I64(x),
            Val::F32(x) => SnapshotVal::F32(x),
            Val::F64(x) => SnapshotVal::F64(x),
            Val::V128(x) => SnapshotVal::V128(x.as_u128()),
            // Wizer's validation refuses mutable reference-typed globals.
            _ => unreachable!("a reference-typed global in a snapshot"),
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        let memory = match self.instance.get_export(&mut *self.store, name) {
            Some(Extern::Memory(memory)) => memory,
            _ => unreachable!("an instrumented memory"),
        };
        contents(memory.data(&*self.store))
    }
}

/// The output of a future that never waits (Wizer's snapshot of a
/// synchronous instance, with its `rayon` feature off).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}
