//! Running baked WASI programs: [`Command`], modelled on
//! [`std::process::Command`], for preview-1 modules (`_start`) and, with the
//! `component` feature, preview-2 command components (`wasi:cli/run`); and
//! [`Reactor`] for modules that export functions instead of a `_start`.
//!
//! A command runs on the calling thread. Its WASI calls are Wasmtime-WASI's
//! asynchronous implementation, driven by a single-threaded Tokio runtime
//! (timers only) made for the run: no thread is started for a program that
//! does not read an inherited stdin (wasmtime-wasi reads that on a worker
//! thread), and timers (`poll_oneoff`) work. File I/O blocks the calling
//! thread, as it would in a native program. (wasmtime-wasi's synchronous
//! mode would instead start a multi-threaded Tokio runtime on the first WASI
//! call: two worker threads on this 2-core machine.)
//!
//! Defaults, chosen to match [`std::process::Command`] where WASI has the same
//! notion, and to grant nothing a program could use to reach the host:
//!
//! | what | [`Command::run`] | [`Command::output`] |
//! |---|---|---|
//! | `argv[0]` | the plugin's file stem (`avr-as` for `…/avr-as.wasm`) | same |
//! | stdin | inherited | empty |
//! | stdout, stderr | inherited | captured |
//! | environment | empty | empty |
//! | directories | none | none |
//! | engine | the plugin's own ([`Embedded::engine`]): one per process and [`crate::CodeSettings`] | same |

mod limits;
mod p1_imports;
#[cfg(feature = "component")]
mod p2;
#[cfg(feature = "component")]
mod p2_imports;
mod reactor;
mod status;
mod stdio;
mod wasi;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use wasmtime::{Engine, Trap};
use wasmtime_wasi::I32Exit;

#[cfg(feature = "component")]
pub use p2::p2_interfaces;
pub use reactor::Reactor;
pub use status::{ExitStatus, Output, TIMEOUT_EXIT_CODE, TRAP_EXIT_CODE};
pub use stdio::{Access, Stdio};
pub use wasi::{ReactorState, wasi_linker, wasi_linker_for};

use crate::{Embedded, MemoryImage};
use stdio::{Streams, report};
use wasi::Calls;

/// A baked WASI preview-1 program and how to run it: arguments, environment,
/// stdio, preopened directories, engine. Made by [`Embedded::command`].
///
/// ```no_run
/// # use wasmbake_runtime::{Access, Embedded};
/// // AVR_AS: a `static` made by `include_module!("avr-as.wasm")`.
/// fn main_of(avr_as: &'static Embedded) -> wasmbake_runtime::wasmtime::Result<()> {
///     let status = avr_as
///         .command()
///         .args(std::env::args_os().skip(1))
///         .inherit_env()
///         .preopened_dir(".", ".", Access::ReadWrite)
///         .run()?;
///     std::process::exit(status.code());
/// }
/// ```
///
/// A command can be run several times; each run is a fresh instance.
#[derive(Clone, Debug)]
pub struct Command {
    plugin: Plugin,
    arg0: Option<OsString>,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    inherit_env: bool,
    stdin: Option<Stdio>,
    stdout: Option<Stdio>,
    stderr: Option<Stdio>,
    dirs: Vec<(PathBuf, String, Access)>,
    engine: Option<Engine>,
    image: MemoryImage,
    limits: limits::Limits,
}

/// What a [`Command`] runs.
#[derive(Clone, Copy, Debug)]
enum Plugin {
    /// A preview-1 module.
    Module(&'static Embedded),
    /// A preview-2 command component.
    #[cfg(feature = "component")]
    Component(&'static crate::EmbeddedComponent),
}

impl Plugin {
    fn source(self) -> &'static str {
        match self {
            Plugin::Module(m) => m.source(),
            #[cfg(feature = "component")]
            Plugin::Component(c) => c.source(),
        }
    }

    fn code_settings(self) -> crate::CodeSettings {
        match self {
            Plugin::Module(m) => m.code_settings(),
            #[cfg(feature = "component")]
            Plugin::Component(c) => c.code_settings(),
        }
    }

    /// The macro that bakes this kind of plugin, for messages.
    fn macro_name(self) -> &'static str {
        match self {
            Plugin::Module(_) => "include_module",
            #[cfg(feature = "component")]
            Plugin::Component(_) => "include_component",
        }
    }

    /// The names of the functions `error`'s backtrace is in, innermost
    /// first, as far as the plugin's tables name them.
    fn frame_names(self, error: &wasmtime::Error) -> Vec<String> {
        let Some(backtrace) = error.downcast_ref::<wasmtime::WasmBacktrace>() else {
            return Vec::new();
        };
        let name = |frame: &wasmtime::FrameInfo| match self {
            Plugin::Module(m) => m.frame_name(frame),
            #[cfg(feature = "component")]
            Plugin::Component(c) => c.frame_name(frame),
        };
        backtrace
            .frames()
            .iter()
            .map(|frame| {
                name(frame)
                    .or_else(|| frame.func_name().map(crate::demangle))
                    .unwrap_or_else(|| format!("function {}", frame.func_index()))
            })
            .collect()
    }

    /// How an error that ended a call reads: one line when a limit stopped
    /// it (the timeout's without the backtrace, which it names), else the
    /// plugin's rendering (named backtrace included).
    fn render(self, error: &wasmtime::Error, limits: &limits::Limits) -> String {
        let rendering = || match self {
            Plugin::Module(m) => m.render_error(error),
            #[cfg(feature = "component")]
            Plugin::Component(c) => c.render_error(error),
        };
        match limits.stop(error) {
            Some(stop @ limits::Stop::Timeout(_)) => {
                stop.line(self.source(), &self.frame_names(error)) + "\n"
            }
            Some(stop @ limits::Stop::Fuel(_)) => {
                format!("{}\n{}", stop.line(self.source(), &[]), rendering())
            }
            None => rendering(),
        }
    }
}

/// A plugin's file stem (`avr-as` for `…/avr-as.wasm`).
pub(crate) fn program_name(source: &'static str) -> &'static str {
    let file = source.rsplit(['/', '\\']).next().unwrap_or(source);
    file.rsplit_once('.').map_or(file, |(stem, _)| stem)
}

impl Command {
    fn new(plugin: Plugin) -> Command {
        Command {
            plugin,
            arg0: None,
            args: Vec::new(),
            env: Vec::new(),
            inherit_env: false,
            stdin: None,
            stdout: None,
            stderr: None,
            dirs: Vec::new(),
            engine: None,
            image: MemoryImage::Auto,
            limits: limits::Limits::default(),
        }
    }
}

impl Embedded {
    /// A [`Command`] that runs this plugin as a WASI preview-1 program
    /// (its `_start` export), with the defaults listed there.
    pub fn command(&'static self) -> Command {
        Command::new(Plugin::Module(self))
    }

    /// The plugin's file stem: the default `argv[0]` of its [`Command`].
    pub fn program_name(&self) -> &'static str {
        program_name(self.source())
    }
}

#[cfg(feature = "component")]
impl crate::EmbeddedComponent {
    /// A [`Command`] that runs this component as a WASI preview-2 command
    /// (its `wasi:cli/run` export), with the same builder and defaults as a
    /// preview-1 program's.
    pub fn command(&'static self) -> Command {
        Command::new(Plugin::Component(self))
    }

    /// The component's file stem: the default `argv[0]` of its [`Command`].
    pub fn program_name(&self) -> &'static str {
        program_name(self.source())
    }
}

impl Command {
    /// `argv[0]` as the program sees it (default: the plugin's file stem).
    pub fn arg0(&mut self, arg0: impl AsRef<OsStr>) -> &mut Command {
        self.arg0 = Some(arg0.as_ref().to_owned());
        self
    }

    /// Adds an argument. WASI arguments are strings: one that is not valid
    /// UTF-8 makes [`Command::run`] fail (nothing is silently altered).
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable (the program sees no variable unless
    /// given one, or [`Command::inherit_env`]). Names and values must be
    /// UTF-8, as for arguments.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.env.push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Sets several environment variables.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        for (k, v) in vars {
            self.env(k, v);
        }
        self
    }

    /// Passes the host process's environment, as it is when the command
    /// runs, before the variables set with [`Command::env`] (which override
    /// it). Host variables whose name or value is not UTF-8 cannot be
    /// represented in WASI and are left out.
    pub fn inherit_env(&mut self) -> &mut Command {
        self.inherit_env = true;
        self
    }

    /// Removes every variable: the ones set so far and the inherited ones.
    pub fn env_clear(&mut self) -> &mut Command {
        self.env.clear();
        self.inherit_env = false;
        self
    }

    /// The program's stdin.
    pub fn stdin(&mut self, stdin: impl Into<Stdio>) -> &mut Command {
        self.stdin = Some(stdin.into());
        self
    }

    /// The program's stdout.
    pub fn stdout(&mut self, stdout: impl Into<Stdio>) -> &mut Command {
        self.stdout = Some(stdout.into());
        self
    }

    /// The program's stderr (a trap's rendering goes there too).
    pub fn stderr(&mut self, stderr: impl Into<Stdio>) -> &mut Command {
        self.stderr = Some(stderr.into());
        self
    }

    /// The host process's stdin, stdout and stderr, whichever way the
    /// command is run.
    pub fn inherit_stdio(&mut self) -> &mut Command {
        self.stdin(Stdio::inherit()).stdout(Stdio::inherit()).stderr(Stdio::inherit())
    }

    /// Makes the host directory `host` visible to the program as `guest`.
    /// The directory is opened when the command runs: a missing one makes
    /// [`Command::run`] fail, naming it.
    pub fn preopened_dir(
        &mut self,
        host: impl AsRef<Path>,
        guest: impl Into<String>,
        access: Access,
    ) -> &mut Command {
        self.dirs.push((host.as_ref().to_owned(), guest.into(), access));
        self
    }

    /// Runs on this engine instead of the plugin's own process-wide one
    /// ([`Embedded::engine`], for the settings it was baked with). The
    /// engine must come from [`crate::config`] to run the plugin in place,
    /// with the same [`crate::CodeSettings`] to run it at all; see
    /// [`Embedded::load`].
    pub fn engine(&mut self, engine: &Engine) -> &mut Command {
        self.engine = Some(engine.clone());
        self
    }

    /// When the plugin's memory image is made, if this command is the first
    /// to load it into its engine (default [`MemoryImage::Auto`]; see
    /// [`Embedded::load_with`]).
    pub fn memory_image(&mut self, image: MemoryImage) -> &mut Command {
        self.image = image;
        self
    }

    /// Runs the program to completion and returns how it ended; piped
    /// output is discarded (use [`Command::output`] to keep it).
    ///
    /// A trap, or a host call failing in a way that ends the program, is not
    /// an `Err`: the error and its wasm backtrace (function names from the
    /// plugin's static table) are written to the program's stderr, and the
    /// status says [`ExitStatus::trapped`].
    ///
    /// # Errors
    ///
    /// When the program cannot start: the plugin does not load into the
    /// engine, it is not a command (no `_start`), it imports something WASI
    /// preview 1 does not provide (every such import is named), an argument
    /// or variable is not UTF-8, a preopened directory cannot be opened.
    /// Each message names the plugin.
    pub fn run(&mut self) -> wasmtime::Result<ExitStatus> {
        self.spawn(Streams::Inherit, End::Return, &mut |_| {}).map(|(status, _)| status)
    }

    /// Runs the program, then ends this process with the program's exit
    /// status, as if the program were the process: for command-line tools
    /// whose whole job is the program (like
    /// `std::os::unix::process::CommandExt::exec`, with [`Command::run`]'s
    /// defaults). A trap is rendered on the program's stderr and exits with
    /// [`TRAP_EXIT_CODE`]. Nothing is torn down before the process exits
    /// (the OS reclaims it all at once), which saves a tenth of the start-up
    /// of a small program (guide, "Command-line tools").
    ///
    /// Returns only if the program cannot start, with the error
    /// [`Command::run`] would return.
    pub fn exec(&mut self) -> wasmtime::Error {
        match self.spawn(Streams::Inherit, End::ExitProcess, &mut |_| {}) {
            Err(e) => e,
            Ok(_) => unreachable!("spawn exits the process once the program has run"),
        }
    }

    /// [`Command::run`], calling `step` as each step of the run ends, with
    /// its name, in this order: `engine` (the engine is ready), `load` (the
    /// module), `linker` (WASI defined), `wasi` (the WASI context and the
    /// store; imports checked), `runtime` (the run's async runtime),
    /// `instantiate`, `program` (`_start` returned or trapped) and
    /// `teardown` (the instance is gone). Timestamp the calls to see where a
    /// start-up goes: the phase table of `BENCHMARKS.md` is made this way.
    ///
    /// # Errors
    ///
    /// As [`Command::run`].
    pub fn run_traced(&mut self, step: &mut dyn FnMut(&'static str)) -> wasmtime::Result<ExitStatus> {
        self.spawn(Streams::Inherit, End::Return, step).map(|(status, _)| status)
    }

    /// Runs the program with stdin empty and stdout and stderr captured,
    /// unless set otherwise, and returns both with the status.
    ///
    /// # Errors
    ///
    /// As [`Command::run`].
    pub fn output(&mut self) -> wasmtime::Result<Output> {
        let (status, [stdout, stderr]) = self.spawn(Streams::Capture, End::Return, &mut |_| {})?;
        Ok(Output { status, stdout, stderr })
    }

    fn spawn(
        &mut self,
        streams: Streams,
        end: End,
        mark: &mut dyn FnMut(&'static str),
    ) -> wasmtime::Result<(ExitStatus, [Vec<u8>; 2])> {
        let plugin = match self.plugin {
            Plugin::Module(module) => module,
            #[cfg(feature = "component")]
            Plugin::Component(component) => return self.spawn_component(component, streams, end, mark),
        };
        let context =
            |e: wasmtime::Error| e.context(format!("wasmbake: cannot start plugin `{}`", plugin.source()));
        self.check_limits().map_err(context)?;
        // (A process about to end need not release the pages its image was
        // copied from.)
        let release = matches!(end, End::Return);
        let wasi::Prepared { module, linker, mut store, pipes } =
            self.prepare(plugin, Calls::Async, streams, release, mark).map_err(context)?;
        if module.get_export("_start").is_none() {
            return Err(context(wasmtime::format_err!(
                "it is not a WASI command: it exports no `_start` function (a reactor? use `Command::reactor`)"
            )));
        }
        // Timers only: preview 1 opens no socket, and the I/O driver's epoll
        // instance would cost more than a small program's start-up.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| context(wasmtime::format_err!("cannot start an async runtime: {e}")))?;
        mark("runtime");
        let result = runtime.block_on(async {
            // (The limits cover the module's own `start` function too.)
            let ticker = self.limits.arm(&mut store)?;
            let instance = match linker.instantiate_async(&mut store, &module).await {
                Ok(instance) => instance,
                // A trap in the module's `start` function is the program's.
                Err(e) if e.is::<Trap>() => return Ok(Err(e)),
                Err(e) => return Err(context(e)),
            };
            let start = instance.get_typed_func::<(), ()>(&mut store, "_start").map_err(context)?;
            mark("instantiate");
            let result = start.call_async(&mut store, ()).await;
            drop(ticker);
            mark("program");
            Ok::<_, wasmtime::Error>(result)
        })?;
        let [stdout, mut stderr] = pipes.map(|p| p.map_or_else(Vec::new, |p| p.contents().to_vec()));
        let status = self.status(result.map(|()| 0), streams, &mut stderr);
        if let End::ExitProcess = end {
            // The process ends now: the OS reclaims the instance's memory,
            // mappings and descriptors at once, so nothing is torn down.
            // `exit` flushes Rust's stdout (the program's inherited stdout).
            std::process::exit(status.code());
        }
        drop(store);
        drop(runtime);
        mark("teardown");
        Ok((status, [stdout, stderr]))
    }
}

impl Command {
    /// Fails, before anything runs, when a limit asked for is zero or
    /// absurd or needs a setting the plugin was not baked with.
    fn check_limits(&self) -> wasmtime::Result<()> {
        self.limits.check(self.plugin.code_settings(), self.plugin.macro_name())
    }

    /// The status of a program that ended with `result` (its exit code, or
    /// the error that ended it): an `I32Exit` is its code; a timeout is 124
    /// with one line on the program's stderr; any other error is rendered
    /// there (with its named backtrace), and is [`TRAP_EXIT_CODE`] for a
    /// trap, else 1.
    fn status(&self, result: wasmtime::Result<i32>, streams: Streams, stderr: &mut Vec<u8>) -> ExitStatus {
        let e = match result {
            Ok(code) => return ExitStatus::exited(code),
            Err(e) => e,
        };
        if let Some(exit) = e.downcast_ref::<I32Exit>() {
            return ExitStatus::exited(exit.0);
        }
        let to = self.stderr.clone().unwrap_or_else(|| streams.default_out());
        report(&to, stderr, &self.plugin.render(&e, &self.limits));
        match self.limits.stop(&e) {
            Some(limits::Stop::Timeout(_)) => ExitStatus::timed_out_status(),
            _ if e.is::<Trap>() => ExitStatus::trapped_status(TRAP_EXIT_CODE),
            _ => ExitStatus::trapped_status(1),
        }
    }
}

/// What happens once the program has run: `spawn` returns (after tearing
/// the instance down), or ends the process ([`Command::exec`]).
#[derive(Clone, Copy)]
enum End {
    Return,
    ExitProcess,
}
