//! Run-time half of [wasmbake](https://docs.rs/wasmbake): loads WebAssembly
//! modules that `wasmbake::include_module!` baked into the binary, in place,
//! and resolves their function names from static memory.
//!
//! This crate links Wasmtime *without* a compiler: a host binary that only
//! runs baked plugins carries no Cranelift. Use it through the `wasmbake`
//! facade crate.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod artifact_elf;
// (Public only to be re-exported by `__private`.)
#[doc(hidden)]
pub mod bounds;
mod code_memory;
#[cfg(feature = "wasi")]
mod command;
#[cfg(feature = "component")]
mod component;
mod config;
mod embedded;
mod epoch;
// (Public only to be re-exported by `__private`.)
#[doc(hidden)]
pub mod exe_payload;
mod image;
mod load;
mod names;
mod trap;

/// What wasmbake's own crates share and generated code uses: the compiler's
/// configuration, the name-table format, tuning constants. Not a public
/// API: it changes with any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::artifact_elf::text_range;
    pub use crate::bounds;
    #[cfg(all(feature = "component", feature = "wasi"))]
    pub use crate::command::p2_interfaces;
    pub use crate::config::{PULLEY_TARGET, pulley_wasm_config, wasm_config};
    pub use crate::exe_payload;
    pub use crate::image::AUTO_AT_LOAD_MIN;
    pub use crate::private::*;

    /// The name-table format (its writer is `wasmbake_compiler::names`).
    pub mod names {
        pub use crate::names::{
            DISP_LEN, ENTRY_LEN, HEADER_LEN, MAGIC, NO_MODULE_NAME, NameHashes, RECORD_PREFIX_LEN, SLOT_LEN,
            fastmod, fastmod_constant, name_hashes,
        };
    }
}
mod private;

#[cfg(feature = "wasi")]
pub use command::{
    Access, Command, ExitStatus, Output, Reactor, ReactorState, Stdio, TIMEOUT_EXIT_CODE, TRAP_EXIT_CODE,
    wasi_linker, wasi_linker_for,
};
#[cfg(feature = "component")]
pub use component::{ComponentNames, CoreModuleNames, EmbeddedComponent};
pub use config::{CodeSettings, config, engine, pulley_engine};
pub use embedded::Embedded;
pub use epoch::EpochTicker;
pub use image::MemoryImage;
pub use load::{LoadKind, Loaded};
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
