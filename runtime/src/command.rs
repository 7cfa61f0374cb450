//! Running baked WASI preview-1 programs: [`Command`], modelled on
//! [`std::process::Command`], and [`Reactor`] for modules that export
//! functions instead of a `_start`.
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
//! | engine | one per process, from [`crate::config`] | same |

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use wasmtime::{Engine, Instance, Linker, Module, Store, Trap, TypedFunc, WasmParams, WasmResults};
use wasmtime_wasi::cli::{InputFile, OutputFile};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::{ClosedInputStream, MemoryInputPipe, MemoryOutputPipe, SinkOutputStream};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

use crate::{Embedded, MemoryImage};

/// The exit status of a trapped program: what `wasmtime run` exits with
/// (128 + SIGABRT on Unix, 3 on Windows).
pub const TRAP_EXIT_CODE: i32 = if cfg!(windows) { 3 } else { 134 };

/// What a preopened directory lets the program do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read files and list directories; nothing can be created, changed or
    /// removed.
    ReadOnly,
    /// Everything, within the directory.
    ReadWrite,
}

/// Where a program's stdin comes from, or where its stdout or stderr go.
#[derive(Clone, Debug)]
pub struct Stdio(StdioKind);

#[derive(Clone, Debug)]
enum StdioKind {
    Inherit,
    Null,
    Piped,
    Bytes(Arc<[u8]>),
    File(Arc<std::fs::File>),
}

impl Stdio {
    /// The host process's own stream.
    pub fn inherit() -> Stdio {
        Stdio(StdioKind::Inherit)
    }

    /// Nothing: stdin is empty, output is discarded.
    pub fn null() -> Stdio {
        Stdio(StdioKind::Null)
    }

    /// Output is captured in memory and returned by [`Command::output`]
    /// ([`Command::run`] discards it, as `std::process::Command::status`
    /// does). Not valid for stdin: give its bytes with [`Stdio::bytes`].
    pub fn piped() -> Stdio {
        Stdio(StdioKind::Piped)
    }

    /// Stdin that reads these bytes, then end-of-file.
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Stdio {
        Stdio(StdioKind::Bytes(bytes.into().into()))
    }
}

impl From<std::fs::File> for Stdio {
    /// Reads from or writes to this file.
    fn from(file: std::fs::File) -> Stdio {
        Stdio(StdioKind::File(Arc::new(file)))
    }
}

/// How a program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitStatus {
    code: i32,
    trapped: bool,
}

impl ExitStatus {
    /// The exit code: what the program passed to `proc_exit`, 0 when
    /// `_start` returned, [`TRAP_EXIT_CODE`] after a trap (as `wasmtime run`),
    /// 1 when a host call failed in a way that ends the program.
    pub fn code(&self) -> i32 {
        self.code
    }

    /// Whether the exit code is 0.
    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// Whether the program trapped (or a host call failed): its error and
    /// wasm backtrace, with the plugin's function names, went to its stderr.
    pub fn trapped(&self) -> bool {
        self.trapped
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.trapped {
            true => write!(f, "trapped (exit status: {})", self.code),
            false => write!(f, "exit status: {}", self.code),
        }
    }
}

/// What [`Command::output`] returns: the status and the captured output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// How the program ended.
    pub status: ExitStatus,
    /// What it wrote to stdout, if stdout was [`Stdio::piped`].
    pub stdout: Vec<u8>,
    /// What it wrote to stderr (a trap's rendering included), if stderr was
    /// [`Stdio::piped`].
    pub stderr: Vec<u8>,
}

/// A baked WASI preview-1 program and how to run it: arguments, environment,
/// stdio, preopened directories, engine. Made by [`Embedded::command`].
///
/// ```ignore
/// let status = AVR_AS.command()
///     .args(std::env::args_os().skip(1))
///     .inherit_env()
///     .preopened_dir(".", ".", wasmbake::Access::ReadWrite)
///     .run()?;
/// std::process::exit(status.code());
/// ```
///
/// A command can be run several times; each run is a fresh instance.
#[derive(Clone, Debug)]
pub struct Command {
    plugin: &'static Embedded,
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
}

impl Embedded {
    /// A [`Command`] that runs this plugin as a WASI preview-1 program
    /// (its `_start` export), with the defaults listed there.
    pub fn command(&'static self) -> Command {
        Command {
            plugin: self,
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
        }
    }

    /// The plugin's file stem: the default `argv[0]` of its [`Command`].
    pub fn program_name(&self) -> &'static str {
        let file = self.source().rsplit(['/', '\\']).next().unwrap_or(self.source());
        file.rsplit_once('.').map_or(file, |(stem, _)| stem)
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

    /// Runs on this engine instead of the process-wide default one (the
    /// engine must come from [`crate::config`] to run the plugin in place;
    /// see [`Embedded::load`]).
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
    /// of a small program (README, "Static CLI tools").
    ///
    /// Returns only if the program cannot start, with the error
    /// [`Command::run`] would return.
    pub fn exec(&mut self) -> wasmtime::Error {
        match self.spawn(Streams::Inherit, End::ExitProcess, &mut |_| {}) {
            Err(e) => e,
            Ok(_) => unreachable!("spawn exits the process once the program has run"),
        }
    }

    /// [`Command::run`], calling `mark` after each step with its name
    /// (`engine`, `load`, `linker`, `wasi`, `runtime`, `instantiate`,
    /// `program`, `teardown`): how the benchmark report times the steps
    /// inside a process. Not a stable API.
    #[doc(hidden)]
    pub fn __run_marked(&mut self, mark: &mut dyn FnMut(&'static str)) -> wasmtime::Result<ExitStatus> {
        self.spawn(Streams::Inherit, End::Return, mark).map(|(status, _)| status)
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

    /// Instantiates the plugin as a WASI reactor: a module that exports
    /// functions to call (and `_initialize`, which is called first, if it
    /// exists) instead of `_start`. The same settings apply; its WASI calls
    /// are wasmtime-wasi's synchronous ones. Piped output is readable with
    /// [`Reactor::stdout`].
    ///
    /// # Errors
    ///
    /// As [`Command::run`] (but `_start` is not required), and when
    /// `_initialize` traps.
    pub fn reactor(&mut self) -> wasmtime::Result<Reactor> {
        let plugin = self.plugin;
        let context =
            |e: wasmtime::Error| e.context(format!("wasmbake: cannot start plugin `{}`", plugin.source()));
        let engine = self.engine_or_default().map_err(context)?;
        let module = self.plugin.load_inner(&engine, self.image, true).map_err(context)?.into_module();
        let engine = module.engine().clone();
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |ctx| ctx).map_err(context)?;
        let (ctx, pipes) = self.context(Streams::Capture).map_err(context)?;
        let mut store = Store::new(&engine, ctx);
        check_imports(&linker, &mut store, &module).map_err(context)?;
        let instance = linker.instantiate(&mut store, &module).map_err(context)?;
        if let Some(init) = instance.get_func(&mut store, "_initialize") {
            init.typed::<(), ()>(&store)
                .and_then(|init| init.call(&mut store, ()))
                .map_err(|e| wasmtime::format_err!("{}", plugin.render_error(&e)))
                .map_err(context)?;
        }
        Ok(Reactor { plugin, store, instance, pipes })
    }

    /// The engine given with [`Command::engine`], else the process-wide one.
    fn engine_or_default(&self) -> wasmtime::Result<Engine> {
        match &self.engine {
            Some(engine) => Ok(engine.clone()),
            None => default_engine(),
        }
    }

    fn spawn(
        &mut self,
        streams: Streams,
        end: End,
        mark: &mut dyn FnMut(&'static str),
    ) -> wasmtime::Result<(ExitStatus, [Vec<u8>; 2])> {
        let plugin = self.plugin;
        let context =
            |e: wasmtime::Error| e.context(format!("wasmbake: cannot start plugin `{}`", plugin.source()));
        let engine = self.engine_or_default().map_err(context)?;
        mark("engine");
        // (A process about to end need not release the pages its image was
        // copied from.)
        let release = matches!(end, End::Return);
        let module = plugin.load_inner(&engine, self.image, release).map_err(context)?.into_module();
        // (A Pulley fallback belongs to its own engine.)
        let engine = module.engine().clone();
        mark("load");
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |ctx| ctx).map_err(context)?;
        mark("linker");
        let (ctx, pipes) = self.context(streams).map_err(context)?;
        let mut store = Store::new(&engine, ctx);
        check_imports(&linker, &mut store, &module).map_err(context)?;
        if module.get_export("_start").is_none() {
            return Err(context(wasmtime::format_err!(
                "it is not a WASI command: it exports no `_start` function (a reactor? use `Command::reactor`)"
            )));
        }
        mark("wasi");
        // Timers only: preview 1 opens no socket, and the I/O driver's epoll
        // instance would cost more than a small program's start-up.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| context(wasmtime::format_err!("cannot start an async runtime: {e}")))?;
        mark("runtime");
        let result = runtime.block_on(async {
            let instance = linker.instantiate_async(&mut store, &module).await.map_err(context)?;
            let start = instance.get_typed_func::<(), ()>(&mut store, "_start").map_err(context)?;
            mark("instantiate");
            let result = start.call_async(&mut store, ()).await;
            mark("program");
            Ok::<_, wasmtime::Error>(result)
        })?;
        let [stdout, mut stderr] = pipes.map(|p| p.map_or_else(Vec::new, |p| p.contents().to_vec()));
        let status = match result {
            Ok(()) => ExitStatus { code: 0, trapped: false },
            Err(e) => match e.downcast_ref::<I32Exit>() {
                Some(exit) => ExitStatus { code: exit.0, trapped: false },
                None => {
                    let to = self.stderr.clone().unwrap_or_else(|| streams.default_out());
                    report(&to, &mut stderr, &plugin.render_error(&e));
                    let code = if e.is::<Trap>() { TRAP_EXIT_CODE } else { 1 };
                    ExitStatus { code, trapped: true }
                }
            },
        };
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

    /// The WASI context for one run, and the capture pipes of stdout and
    /// stderr (when piped).
    fn context(&self, streams: Streams) -> wasmtime::Result<(WasiP1Ctx, [Option<MemoryOutputPipe>; 2])> {
        let mut builder = WasiCtxBuilder::new();
        builder.allow_blocking_current_thread(true);
        let arg0 = self.arg0.as_deref().unwrap_or(OsStr::new(self.plugin.program_name()));
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
        Ok((builder.build_p1(), pipes))
    }
}

/// A configured stdout or stderr, as wasmtime-wasi takes it.
enum Sink {
    Inherit,
    Pipe(MemoryOutputPipe),
    Null,
    File(OutputFile),
}

impl Sink {
    fn new(stdio: Stdio) -> std::io::Result<Sink> {
        Ok(match stdio.0 {
            StdioKind::Inherit => Sink::Inherit,
            StdioKind::Piped => Sink::Pipe(MemoryOutputPipe::new(usize::MAX)),
            // (`Stdio::bytes` is an input: as an output it discards.)
            StdioKind::Null | StdioKind::Bytes(_) => Sink::Null,
            StdioKind::File(file) => Sink::File(OutputFile::new(file.try_clone()?)),
        })
    }

    fn pipe(&self) -> Option<MemoryOutputPipe> {
        match self {
            Sink::Pipe(pipe) => Some(pipe.clone()),
            _ => None,
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

/// Which defaults apply to unset streams: [`Command::run`]'s or
/// [`Command::output`]'s.
#[derive(Clone, Copy)]
enum Streams {
    Inherit,
    Capture,
}

impl Streams {
    fn default_in(self) -> Stdio {
        match self {
            Streams::Inherit => Stdio::inherit(),
            Streams::Capture => Stdio::null(),
        }
    }

    fn default_out(self) -> Stdio {
        match self {
            Streams::Inherit => Stdio::inherit(),
            Streams::Capture => Stdio::piped(),
        }
    }
}

/// Writes a trap's rendering to the program's stderr, whatever it is
/// (`captured`: what a piped stderr holds). Best effort, like a program's
/// own last words: a closed stderr must not turn the status into an error.
fn report(stderr: &Stdio, captured: &mut Vec<u8>, text: &str) {
    use std::io::Write as _;
    match &stderr.0 {
        StdioKind::Inherit => {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
        StdioKind::Piped => captured.extend_from_slice(text.as_bytes()),
        StdioKind::File(file) => {
            let _ = (&**file).write_all(text.as_bytes());
        }
        StdioKind::Null | StdioKind::Bytes(_) => {}
    }
}

/// Fails, naming every one, when the module imports something the linker
/// does not define.
fn check_imports(
    linker: &Linker<WasiP1Ctx>,
    store: &mut Store<WasiP1Ctx>,
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

/// The engine of commands run without [`Command::engine`]: one per process.
fn default_engine() -> wasmtime::Result<Engine> {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    if let Some(engine) = ENGINE.get() {
        return Ok(engine.clone());
    }
    let engine = crate::engine()?;
    Ok(ENGINE.get_or_init(|| engine).clone())
}

/// A Wasmtime linker with every WASI preview-1 function (wasmtime-wasi's
/// synchronous implementation), for hosts that instantiate baked modules
/// themselves; the store's data is a `WasiP1Ctx` (build one with
/// [`wasmtime_wasi::WasiCtxBuilder::build_p1`]).
pub fn wasi_linker(engine: &Engine) -> wasmtime::Result<Linker<WasiP1Ctx>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |ctx| ctx)?;
    Ok(linker)
}

/// A WASI reactor instance, made by [`Command::reactor`]: call its exports.
pub struct Reactor {
    plugin: &'static Embedded,
    store: Store<WasiP1Ctx>,
    instance: Instance,
    pipes: [Option<MemoryOutputPipe>; 2],
}

impl Reactor {
    /// The instance.
    pub fn instance(&self) -> Instance {
        self.instance
    }

    /// The store the instance lives in.
    pub fn store(&mut self) -> &mut Store<WasiP1Ctx> {
        &mut self.store
    }

    /// The exported function `name`, typed.
    ///
    /// # Errors
    ///
    /// When there is no such export or its type differs.
    pub fn typed_func<P: WasmParams, R: WasmResults>(
        &mut self,
        name: &str,
    ) -> wasmtime::Result<TypedFunc<P, R>> {
        self.instance.get_typed_func(&mut self.store, name)
    }

    /// Calls the exported function `name`. A trap is an `Err` whose message
    /// is the plugin's rendering of it (named backtrace included).
    ///
    /// # Errors
    ///
    /// When there is no such export, its type differs, or the call traps.
    pub fn call<P: WasmParams, R: WasmResults>(&mut self, name: &str, params: P) -> wasmtime::Result<R> {
        let func = self.typed_func::<P, R>(name)?;
        func.call(&mut self.store, params)
            .map_err(|e| wasmtime::format_err!("{}", self.plugin.render_error(&e)))
    }

    /// What the reactor wrote to stdout so far, when stdout is piped (the
    /// default for reactors: `Command::output`'s defaults apply).
    pub fn stdout(&self) -> Vec<u8> {
        self.pipes[0].as_ref().map_or_else(Vec::new, |p| p.contents().to_vec())
    }

    /// What the reactor wrote to stderr so far, when stderr is piped.
    pub fn stderr(&self) -> Vec<u8> {
        self.pipes[1].as_ref().map_or_else(Vec::new, |p| p.contents().to_vec())
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor").field("plugin", &self.plugin.source()).finish_non_exhaustive()
    }
}
