//! Run-time half of [wasmbake](https://docs.rs/wasmbake): loads WebAssembly
//! modules that `wasmbake::include_module!` baked into the binary, in place,
//! and resolves their function names from static memory.
//!
//! This crate links Wasmtime *without* a compiler: a host binary that only
//! runs baked plugins carries no Cranelift. Use it through the `wasmbake`
//! facade crate.

#![deny(missing_docs)]

mod code_memory;
#[cfg(feature = "wasi")]
mod command;
mod config;
mod embedded;
mod image;
pub mod names;
mod trap;

#[doc(hidden)]
pub mod __private {
    pub use crate::private::*;
}
mod private;

#[cfg(feature = "wasi")]
pub use command::{Access, Command, ExitStatus, Output, Reactor, Stdio, TRAP_EXIT_CODE, wasi_linker};
pub use config::{PULLEY_TARGET, config, engine, pulley_engine, pulley_wasm_config, wasm_config};
pub use embedded::{Embedded, LoadKind, Loaded};
pub use image::{AUTO_AT_LOAD_MIN, MemoryImage};
pub use names::Names;
pub use trap::demangle;

/// The exact wasmtime-wasi (preview 1) that [`Command`] runs programs with.
#[cfg(feature = "wasi")]
pub use wasmtime_wasi as wasi;

/// The exact Wasmtime this version of wasmbake bakes and loads artifacts for.
pub use wasmtime;

/// That Wasmtime's version (the `=` requirement in this crate's manifest;
/// a test checks it against `Cargo.lock`).
pub const WASMTIME_VERSION: &str = "48.0.8";
