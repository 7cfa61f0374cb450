//! [`Reactor`]: a WASI module that exports functions to call instead of a
//! `_start`.

use std::fmt;

use wasmtime::{Instance, Store, TypedFunc, WasmParams, WasmResults};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use super::limits::Limits;
use super::stdio::Streams;
use super::wasi::{Calls, Prepared, ReactorState};
use super::{Command, Plugin};
use crate::Embedded;

impl Command {
    /// Instantiates the plugin as a WASI reactor: a module that exports
    /// functions to call (and `_initialize`, which is called first, if it
    /// exists) instead of `_start`. The same settings apply; its WASI calls
    /// are wasmtime-wasi's synchronous ones. Piped output is readable with
    /// [`Reactor::stdout`].
    ///
    /// The command's limits apply to `_initialize` and to each
    /// [`Reactor::call`] on its own: each gets the whole [`Command::timeout`]
    /// and [`Command::fuel`], and the memory limit holds for the instance's
    /// life. A call stopped by one returns an `Err` that downcasts to
    /// [`wasmtime::Trap::Interrupt`] or [`wasmtime::Trap::OutOfFuel`], and
    /// the reactor stays usable, as after any trap (see [`Reactor::call`]).
    ///
    /// # Errors
    ///
    /// As [`Command::run`] (but `_start` is not required), and when
    /// `_initialize` traps or outruns a limit.
    pub fn reactor(&mut self) -> wasmtime::Result<Reactor> {
        let context = |e: wasmtime::Error| {
            e.context(format!("wasmbake: cannot start plugin `{}`", self.plugin.source()))
        };
        let plugin = match self.plugin {
            Plugin::Module(module) => module,
            #[cfg(feature = "component")]
            Plugin::Component(_) => {
                return Err(context(wasmtime::format_err!(
                    "a component is not a reactor: instantiate it with a `wasmtime::component::Linker` \
                     (or `bindgen!`) and call its exports"
                )));
            }
        };
        self.check_limits().map_err(context)?;
        let Prepared { module, linker, mut store, pipes } =
            self.prepare(plugin, Calls::Sync, Streams::Capture, true, &mut |_| {}).map_err(context)?;
        let limits = self.limits;
        let ticker = limits.arm(&mut store).map_err(context)?;
        let instance = linker
            .instantiate(&mut store, &module)
            .map_err(|e| limits.error_if_trap(plugin, e))
            .map_err(context)?;
        if let Some(init) = instance.get_func(&mut store, "_initialize") {
            init.typed::<(), ()>(&store)
                .and_then(|init| init.call(&mut store, ()))
                .map_err(|e| limits.error(plugin, e))
                .map_err(context)?;
        }
        limits.disarm(&mut store, ticker);
        Ok(Reactor { plugin, store, instance, pipes, limits })
    }
}

impl Limits {
    /// `error`, which ended a reactor's call, with the line that says what
    /// stopped it, or the plugin's rendering, as its outermost context.
    fn error(&self, plugin: &'static Embedded, error: wasmtime::Error) -> wasmtime::Error {
        let rendered = Plugin::Module(plugin).render(&error, self);
        error.context(rendered.trim_end().to_owned())
    }

    /// [`Limits::error`] for a trap (of a `start` function), else `error`
    /// as it is: a refused instantiation's message is its own rendering.
    fn error_if_trap(&self, plugin: &'static Embedded, error: wasmtime::Error) -> wasmtime::Error {
        match error.is::<wasmtime::Trap>() {
            true => self.error(plugin, error),
            false => error,
        }
    }
}

/// A WASI reactor instance, made by [`Command::reactor`]: call its exports.
pub struct Reactor {
    plugin: &'static Embedded,
    store: Store<ReactorState>,
    instance: Instance,
    pipes: [Option<MemoryOutputPipe>; 2],
    limits: Limits,
}

impl Reactor {
    /// The instance.
    pub fn instance(&self) -> Instance {
        self.instance
    }

    /// The store the instance lives in.
    pub fn store(&mut self) -> &mut Store<ReactorState> {
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

    /// Calls the exported function `name`, within the command's limits.
    /// A trap is an `Err` that still downcasts to [`wasmtime::Trap`] (and an
    /// exit to `wasmtime_wasi::I32Exit`), with the plugin's rendering of it
    /// (named backtrace included) as its outermost context: what `{err}`
    /// prints. A call stopped by its timeout is [`wasmtime::Trap::Interrupt`]
    /// and reads as one line naming the timeout and the functions it was
    /// in; one out of fuel is [`wasmtime::Trap::OutOfFuel`].
    ///
    /// After any of these the reactor stays usable: Wasmtime unwinds the
    /// call and the next one starts afresh, with the instance's memory and
    /// globals as the stopped call left them. That is safe for the host, but
    /// a guest stopped halfway through updating its own state (its
    /// allocator, a C program's stack pointer) may not expect to be called
    /// again: make a new reactor when in doubt (it costs an
    /// instantiation).
    ///
    /// # Errors
    ///
    /// When there is no such export, its type differs, or the call traps.
    pub fn call<P: WasmParams, R: WasmResults>(&mut self, name: &str, params: P) -> wasmtime::Result<R> {
        let func = self.typed_func::<P, R>(name)?;
        let ticker = self.limits.arm(&mut self.store)?;
        let result = func.call(&mut self.store, params);
        self.limits.disarm(&mut self.store, ticker);
        result.map_err(|e| self.limits.error(self.plugin, e))
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
