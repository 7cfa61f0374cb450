//! Ship WebAssembly plugins *inside* a Rust binary, with zero start-up cost.
//!
//! ```ignore
//! static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("plugins/greet.wasm");
//!
//! let engine = wasmbake::engine()?;            // compatible with every baked artifact
//! let module = PLUGIN.load(&engine)?;          // a wasmtime::Module, loaded in place
//! let name = PLUGIN.names().name_of(12);       // Option<&'static str>, no allocation
//! let idx = PLUGIN.names().index_of("main");   // Option<u32>, perfect hash
//! let raw: &'static [u8] = PLUGIN.artifact();  // the baked Wasmtime artifact
//! ```
//!
//! At compile time [`include_module!`] validates the module, strips its `name`
//! section, precompiles it with Wasmtime/Cranelift, and embeds the artifact
//! (64 KiB-aligned, in read-only data) and a static name table. At run time
//! [`Embedded::load`] hands the static bytes to `Module::deserialize_raw`;
//! wasmbake's code memory makes only the code pages executable, never
//! writable. The host binary does not link Cranelift.
//!
//! With the `wasi` feature, a baked WASI preview-1 program runs like a
//! process: `PLUGIN.command().args(..).run()` (see `Command`), and
//! `exec()` makes a whole command-line tool of it.
//!
//! See the README for how it works and what it costs.

#![deny(missing_docs)]

pub use wasmbake_runtime::{
    AUTO_AT_LOAD_MIN, Embedded, LoadKind, Loaded, MemoryImage, Names, PULLEY_TARGET, config, demangle,
    engine, names, pulley_engine, pulley_wasm_config, wasm_config, wasmtime,
};

/// Bakes a WebAssembly module into the binary and evaluates to a
/// [`Embedded`] (use it to initialise a `static`).
///
/// ```ignore
/// static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("plugins/greet.wasm");
/// ```
///
/// * The path is relative to the calling crate's `Cargo.toml` directory. A
///   binary module (`\0asm…`) is used as is; anything else is read as the text
///   format (`.wat`).
/// * At compile time the module is validated, its `name` section is moved into
///   wasmbake's static name table, and it is precompiled for the target
///   (`WASMBAKE_TARGET` if set, else the build machine's architecture) with a
///   portable CPU baseline. Results are cached under Cargo's target directory
///   (`WASMBAKE_CACHE_DIR` overrides it): an unchanged plugin is read from the
///   cache, not recompiled; editing it rebuilds the crate.
/// * Errors (missing file, invalid module with byte offset, invalid text with
///   line and column, a component, an unsupported feature) are compile errors
///   pointing at the path.
/// * `include_module!("p.wasm", crate = my::path)` names the `wasmbake`
///   crate when it is not reachable as `::wasmbake` (renamed dependency).
/// * `include_module!("p.wasm", strict_names)`: a malformed `name` section is
///   an error (by default the readable names are kept, with a warning).
/// * `include_module!("p.wasm", executable_segment)`: the artifact goes in a
///   read-only, executable section the linker places with the program's
///   code (ELF and Mach-O), and its code runs without any protection change,
///   where the process may never make memory executable (systemd's
///   `MemoryDenyWriteExecute=yes`, `prctl(PR_SET_MDWE)`): README, "Hardened
///   hosts". [`Embedded::in_executable_segment`] tells.
pub use wasmbake_macros::include_module;

#[doc(hidden)]
pub use wasmbake_runtime::__private;

#[cfg(feature = "wasi")]
pub use wasmbake_runtime::{
    Access, Command, ExitStatus, Output, Reactor, Stdio, TRAP_EXIT_CODE, wasi, wasi_linker,
};

/// Includes the plugin statics that `wasmbake_build::Builder::compile` wrote
/// from the crate's `build.rs`: one `pub static NAME: wasmbake::Embedded` per
/// plugin, named from the file stem in SCREAMING_SNAKE_CASE.
///
/// ```ignore
/// wasmbake::include_plugins!();
/// let module = GREET_V2.load(&wasmbake::engine()?)?;
/// ```
///
/// `include_plugins!("other.rs")` includes a file written with
/// `Builder::out_file("other.rs")` instead.
#[macro_export]
macro_rules! include_plugins {
    () => {
        ::core::include!(::core::concat!(::core::env!("OUT_DIR"), "/wasmbake_plugins.rs"));
    };
    ($file:literal) => {
        ::core::include!(::core::concat!(::core::env!("OUT_DIR"), "/", $file));
    };
}
