//! A command's limits ([`Command::timeout`], [`Command::fuel`],
//! [`Command::memory_limit`]): checked against what the plugin was baked
//! with before anything runs, then applied to each store and each call.
//!
//! Code baked with epoch interruption or fuel traps at its first check
//! unless its store has a deadline and fuel, so a command that asks for no
//! limit gets ones it never reaches.

use std::time::Duration;

use wasmtime::{ResourceLimiter, Store, Trap};

use super::Command;
use crate::CodeSettings;
use crate::epoch::{EpochTicker, NEVER};

/// What a table element counts against [`Command::memory_limit`]: a
/// pointer, as Wasmtime stores one.
const TABLE_ELEMENT_BYTES: usize = std::mem::size_of::<usize>();

/// The limits asked of a command.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Limits {
    pub timeout: Option<Duration>,
    pub fuel: Option<u64>,
    pub memory: Option<usize>,
}

impl Limits {
    /// Fails, naming the fix, when a limit is zero or absurd, or the plugin
    /// was not baked with the setting it needs.
    pub fn check(&self, settings: CodeSettings, macro_name: &str) -> wasmtime::Result<()> {
        let bake = |option: &str| {
            format!("bake it with `{macro_name}!(\"…\", {option})` or `Builder::{option}(true)`")
        };
        crate::bounds::check(self.timeout, self.fuel, self.memory.map(|m| m as u64))
            .map_err(wasmtime::Error::msg)?;
        if self.timeout.is_some() && !settings.epoch_interruption {
            wasmtime::bail!(
                "a timeout needs the plugin baked with `epoch_interruption`, and it was not: {}",
                bake("epoch_interruption")
            );
        }
        if self.fuel.is_some() && !settings.consume_fuel {
            wasmtime::bail!(
                "a fuel limit needs the plugin baked with `consume_fuel`, and it was not: {}",
                bake("consume_fuel")
            );
        }
        Ok(())
    }

    /// Sets up a new store: its memory limiter (`limiter`: where the
    /// store's data keeps it), and fuel and an epoch deadline never reached
    /// as far as `settings` instrument the code (each call then gets its
    /// own with [`Limits::arm`]).
    pub fn prepare<T: 'static>(
        &self,
        store: &mut Store<T>,
        settings: CodeSettings,
        limiter: fn(&mut T) -> &mut MemoryLimiter,
    ) -> wasmtime::Result<()> {
        if self.memory.is_some() {
            store.limiter(move |data| limiter(data));
        }
        if settings.consume_fuel {
            store.set_fuel(u64::MAX)?;
        }
        if settings.epoch_interruption {
            store.set_epoch_deadline(NEVER);
        }
        Ok(())
    }

    /// Arms the store for one call (a run, a reactor's `_initialize` or
    /// call): its fuel, and its deadline from now, kept by the returned
    /// ticker until it is dropped.
    pub fn arm<T: 'static>(&self, store: &mut Store<T>) -> wasmtime::Result<Option<EpochTicker>> {
        if let Some(fuel) = self.fuel {
            store.set_fuel(fuel)?;
        }
        Ok(self.timeout.map(|timeout| {
            let ticker = EpochTicker::start(store.engine());
            ticker.set_deadline(store, timeout);
            ticker
        }))
    }

    /// Ends what [`Limits::arm`] started: the store's code runs on without
    /// a deadline (a host calling into a reactor's instance itself is not
    /// stopped by a call's leftover deadline).
    pub fn disarm<T>(&self, store: &mut Store<T>, ticker: Option<EpochTicker>) {
        if ticker.is_some() {
            EpochTicker::clear_deadline(store);
        }
    }

    /// The store data's memory limiter for these limits.
    pub fn limiter(&self) -> MemoryLimiter {
        MemoryLimiter { limit: self.memory.unwrap_or(usize::MAX), used: 0, pending: 0 }
    }

    /// What stopped a call that ended with `error`, if a limit did.
    pub fn stop(&self, error: &wasmtime::Error) -> Option<Stop> {
        match error.downcast_ref::<Trap>()? {
            Trap::Interrupt => self.timeout.map(Stop::Timeout),
            Trap::OutOfFuel => self.fuel.map(Stop::Fuel),
            _ => None,
        }
    }
}

/// A limit that stopped a call.
#[derive(Clone, Copy, Debug)]
pub(super) enum Stop {
    Timeout(Duration),
    Fuel(u64),
}

impl Stop {
    /// The one line saying so: `plugin `p` timed out after 100ms in
    /// `spin` ← `run` ← `_start``. `frames`: the names of the functions
    /// it was in, innermost first.
    pub fn line(self, source: &str, frames: &[String]) -> String {
        let what = match self {
            Stop::Timeout(timeout) => format!("timed out after {timeout:?}"),
            Stop::Fuel(fuel) => format!("ran out of fuel ({fuel} units)"),
        };
        let place = match frames {
            [] => String::new(),
            names => {
                let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                format!(" in {}", names.join(" ← "))
            }
        };
        format!("wasmbake: plugin `{source}` {what}{place}")
    }
}

/// Bounds the bytes of all linear memories and tables of a store together
/// (Wasmtime's own `StoreLimits` bounds each one alone): a growth past the
/// limit is refused, so `memory.grow` returns -1 and `table.grow` -1, as on
/// a host out of memory.
#[derive(Debug)]
pub struct MemoryLimiter {
    limit: usize,
    used: usize,
    /// The bytes of the growth last allowed, taken back if it then fails.
    pending: usize,
}

impl MemoryLimiter {
    fn grow(&mut self, bytes: usize) -> bool {
        match self.used.checked_add(bytes) {
            Some(used) if used <= self.limit => {
                self.used = used;
                self.pending = bytes;
                true
            }
            _ => false,
        }
    }

    fn failed(&mut self) {
        self.used -= std::mem::take(&mut self.pending);
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.grow(desired.saturating_sub(current)))
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.failed();
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let bytes = desired.saturating_sub(current).saturating_mul(TABLE_ELEMENT_BYTES);
        Ok(self.grow(bytes))
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.failed();
        Ok(())
    }
}

impl Command {
    /// Stops the program `timeout` after it starts (for a reactor: after
    /// each call, `_initialize` included, starts). It then ends with
    /// [`ExitStatus::timed_out`](super::ExitStatus::timed_out) and code 124
    /// (what GNU `timeout` returns), and one line on its stderr naming the
    /// plugin, the timeout and the functions it was in; a reactor's call
    /// returns an `Err` that downcasts to [`wasmtime::Trap::Interrupt`].
    ///
    /// The plugin must be baked with `epoch_interruption`; it is stopped at
    /// its next function entry or loop back-edge after the deadline, at most
    /// [`EpochTicker::TICK`] late (plus scheduling). A program blocked in a
    /// host call (reading an inherited stdin, say) stops when the call
    /// returns. The deadline is kept by the process's one ticking thread.
    ///
    /// Checked when the command runs: a zero timeout, one over 136 years,
    /// or a plugin baked without `epoch_interruption` is an `Err` before
    /// anything runs.
    pub fn timeout(&mut self, timeout: Duration) -> &mut Command {
        self.limits.timeout = Some(timeout);
        self
    }

    /// Bounds the work of the program (for a reactor: of each call) to
    /// `fuel` units, about one per wasm instruction (Wasmtime's fuel). A
    /// program that uses it up traps, with a line on its stderr saying it
    /// ran out of fuel, and exits with [`TRAP_EXIT_CODE`](super::TRAP_EXIT_CODE);
    /// a reactor's call returns an `Err` that downcasts to
    /// [`wasmtime::Trap::OutOfFuel`].
    ///
    /// The plugin must be baked with `consume_fuel`; a fuel of zero, or a
    /// plugin baked without, is an `Err` before anything runs.
    pub fn fuel(&mut self, fuel: u64) -> &mut Command {
        self.limits.fuel = Some(fuel);
        self
    }

    /// Bounds the bytes of all the instance's linear memories and tables
    /// together (a table element counts as a pointer). A growth past it is
    /// refused as on a host out of memory: `memory.grow` returns -1, and the
    /// program sees that (C's `malloc` returns `NULL`); an instance whose
    /// initial memory is over it does not start (an `Err`). Wasm memory
    /// pages are only touched as the program uses them, so the host's
    /// resident memory stays within the limit plus its own.
    ///
    /// Works for plugins baked with any settings. Zero, or more than 2^48
    /// bytes, is an `Err` before anything runs.
    pub fn memory_limit(&mut self, bytes: usize) -> &mut Command {
        self.limits.memory = Some(bytes);
        self
    }
}
