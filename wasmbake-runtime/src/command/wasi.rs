//! The preparation every run and every reactor shares: the engine, the
//! module, a linker with the WASI preview-1 functions it imports, the run's
//! WASI context in a store, and the check that every import is defined.

use std::ffi::OsStr;

use wasmtime::{Engine, Linker, Module, Store};
use wasmtime_wasi::cli::InputFile;
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::{ClosedInputStream, MemoryInputPipe, MemoryOutputPipe, SinkOutputStream};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use super::limits::MemoryLimiter;
use super::stdio::{Sink, StdioKind, Streams};
use super::{Access, Command};
use crate::Embedded;

/// Which of wasmtime-wasi's implementations the linker gets.
#[derive(Clone, Copy)]
pub(super) enum Calls {
    /// Asynchronous, driven by the run's single-threaded runtime (commands).
    Async,
    /// Synchronous (reactors, whose calls come from the host at any time).
    Sync,
}

/// The data of the store a [`Command`] runs a preview-1 plugin in (what
/// [`Reactor::store`](super::Reactor::store) holds): the WASI context, and
/// what enforces [`Command::memory_limit`].
pub struct ReactorState {
    wasi: WasiP1Ctx,
    limiter: MemoryLimiter,
}

impl ReactorState {
    /// The WASI context.
    pub fn wasi(&mut self) -> &mut WasiP1Ctx {
        &mut self.wasi
    }
}

impl std::fmt::Debug for ReactorState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReactorState").field("limiter", &self.limiter).finish_non_exhaustive()
    }
}

/// A plugin ready to instantiate.
pub(super) struct Prepared {
    pub module: Module,
    pub linker: Linker<ReactorState>,
    pub store: Store<ReactorState>,
    /// The capture pipes of stdout and stderr, when piped.
    pub pipes: [Option<MemoryOutputPipe>; 2],
}

impl Command {
    /// Loads the plugin into the command's engine and makes its linker and
    /// store, calling `mark` after each step (`engine`, `load`, `linker`,
    /// `wasi`). `release`: drop the artifact's data pages once the memory
    /// image is built (a process about to end need not).
    pub(super) fn prepare(
        &self,
        plugin: &'static Embedded,
        calls: Calls,
        streams: Streams,
        release: bool,
        mark: &mut dyn FnMut(&'static str),
    ) -> wasmtime::Result<Prepared> {
        let engine = match &self.engine {
            Some(engine) => engine.clone(),
            None => plugin.engine()?,
        };
        mark("engine");
        let module = plugin.load_inner(&engine, self.image, release)?.into_module();
        // (A Pulley fallback belongs to its own engine.)
        let engine = module.engine().clone();
        mark("load");
        let mut linker = Linker::new(&engine);
        super::p1_imports::add_imports(&mut linker, &module, calls, ReactorState::wasi)?;
        mark("linker");
        let (mut ctx, pipes) = self.context(streams)?;
        let state = ReactorState { wasi: ctx.build_p1(), limiter: self.limits.limiter() };
        let mut store = Store::new(&engine, state);
        self.limits.prepare(&mut store, plugin.code_settings(), |s| &mut s.limiter)?;
        check_imports(&linker, &mut store, &module)?;
        mark("wasi");
        Ok(Prepared { module, linker, store, pipes })
    }

    /// The WASI context for one run (to build for preview 1 or 2), and the
    /// capture pipes of stdout and stderr (when piped).
    pub(super) fn context(
        &self,
        streams: Streams,
    ) -> wasmtime::Result<(WasiCtxBuilder, [Option<MemoryOutputPipe>; 2])> {
        let mut builder = WasiCtxBuilder::new();
        builder.allow_blocking_current_thread(true);
        let arg0 = self.arg0.as_deref().unwrap_or(OsStr::new(super::program_name(self.plugin.source())));
        builder.arg(utf8(arg0, "argument 0")?);
        for (i, arg) in self.args.iter().enumerate() {
            builder.arg(utf8(arg, &format!("argument {}", i + 1))?);
        }
        if self.inherit_env {
            for (key, value) in std::env::vars_os() {
                if let (Some(key), Some(value)) = (key.to_str(), value.to_str()) {
                    builder.env(key, value);
                }
            }
        }
        for (key, value) in &self.env {
            let key = utf8(key, "an environment variable's name")?;
            builder.env(key, utf8(value, &format!("environment variable {key}"))?);
        }
        for (host, guest, access) in &self.dirs {
            let perms = match access {
                Access::ReadOnly => FsPerms::ReadOnly,
                Access::ReadWrite => FsPerms::ReadWrite,
            };
            builder
                .preopened_dir(host, guest, perms)
                .map_err(|e| e.context(format!("cannot open directory {} (for {guest})", host.display())))?;
        }
        match self.stdin.as_ref().unwrap_or(&streams.default_in()).0 {
            StdioKind::Inherit => builder.inherit_stdin(),
            StdioKind::Null => builder.stdin(ClosedInputStream),
            StdioKind::Bytes(ref bytes) => builder.stdin(MemoryInputPipe::new(bytes.to_vec())),
            StdioKind::File(ref file) => builder.stdin(InputFile::new(file.try_clone()?)),
            StdioKind::Piped => {
                wasmtime::bail!("stdin cannot be `Stdio::piped()`: give its contents with `Stdio::bytes`")
            }
        };
        let stdout = Sink::new(self.stdout.clone().unwrap_or_else(|| streams.default_out()))?;
        let stderr = Sink::new(self.stderr.clone().unwrap_or_else(|| streams.default_out()))?;
        let pipes = [stdout.pipe(), stderr.pipe()];
        match stdout {
            Sink::Inherit => builder.inherit_stdout(),
            Sink::Pipe(pipe) => builder.stdout(pipe),
            Sink::Null => builder.stdout(SinkOutputStream),
            Sink::File(file) => builder.stdout(file),
        };
        match stderr {
            Sink::Inherit => builder.inherit_stderr(),
            Sink::Pipe(pipe) => builder.stderr(pipe),
            Sink::Null => builder.stderr(SinkOutputStream),
            Sink::File(file) => builder.stderr(file),
        };
        Ok((builder, pipes))
    }
}

/// Fails, naming every one, when the module imports something the linker
/// does not define.
fn check_imports(
    linker: &Linker<ReactorState>,
    store: &mut Store<ReactorState>,
    module: &Module,
) -> wasmtime::Result<()> {
    let missing: Vec<String> = module
        .imports()
        .filter(|import| linker.get_by_import(&mut *store, import).is_none())
        .map(|import| format!("`{}::{}`", import.module(), import.name()))
        .collect();
    match missing.as_slice() {
        [] => Ok(()),
        [one] => wasmtime::bail!("it imports {one}, which WASI preview 1 does not provide"),
        many => wasmtime::bail!("it imports {}, which WASI preview 1 does not provide", many.join(", ")),
    }
}

fn utf8<'a>(s: &'a OsStr, what: &str) -> wasmtime::Result<&'a str> {
    s.to_str()
        .ok_or_else(|| wasmtime::format_err!("{what} is not valid UTF-8 ({s:?}): WASI strings are UTF-8"))
}

/// A Wasmtime linker with every WASI preview-1 function (wasmtime-wasi's
/// synchronous implementation), for hosts that instantiate baked modules
/// themselves; the store's data is a `WasiP1Ctx` (build one with
/// [`wasmtime_wasi::WasiCtxBuilder::build_p1`]).
///
/// [`wasi_linker_for`] defines only what one module imports, and costs a
/// fraction as much.
pub fn wasi_linker(engine: &Engine) -> wasmtime::Result<Linker<WasiP1Ctx>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |ctx| ctx)?;
    Ok(linker)
}

/// A Wasmtime linker, for `module`'s engine, with the WASI preview-1
/// functions `module` imports and no others: what [`Command`] and
/// [`Reactor`](super::Reactor) use. The functions are wasmtime-wasi's
/// synchronous implementation, as in [`wasi_linker`]; the store's data is a
/// `WasiP1Ctx`.
///
/// Defining a function is most of a linker's cost, so this one costs a
/// fraction of [`wasi_linker`]'s when the module imports a few of the 46
/// (the benchmark `cargo bench -p wasmbake-benches --bench linker`). Imports
/// that are not preview-1 functions are left undefined: instantiating then
/// names the first one, unless the host defines it.
pub fn wasi_linker_for(module: &Module) -> wasmtime::Result<Linker<WasiP1Ctx>> {
    let mut linker = Linker::new(module.engine());
    super::p1_imports::add_imports(&mut linker, module, Calls::Sync, |ctx| ctx)?;
    Ok(linker)
}
