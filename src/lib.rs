//! Ship WebAssembly plugins *inside* a Rust binary, with zero start-up cost.
//!
//! ```no_run
//! use wasmbake::wasmtime::{Instance, Store};
//!
//! // (A path relative to your crate's Cargo.toml: `.wasm` or `.wat`.)
//! static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("examples/hello/greet.wat");
//!
//! fn main() -> wasmbake::wasmtime::Result<()> {
//!     let engine = wasmbake::engine()?; // loads every baked artifact in place
//!     let module = PLUGIN.load(&engine)?; // a wasmtime::Module of `engine`
//!     let mut store = Store::new(&engine, ());
//!     let instance = Instance::new(&mut store, &module, &[])?;
//!     let fib = instance.get_typed_func::<i32, i32>(&mut store, "fib")?;
//!     assert_eq!(fib.call(&mut store, 20)?, 6765);
//!
//!     let index = PLUGIN.names().index_of("fib"); // Option<u32>: a perfect hash, no allocation
//!     let name = PLUGIN.names().name_of(1); // Option<&'static str>, from static memory
//!     let raw: &'static [u8] = PLUGIN.artifact(); // the baked Wasmtime artifact
//!     Ok(())
//! }
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
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `wasi` | `Embedded::command`, `Command`, `Reactor`, and `wasmbake::wasi` (wasmtime-wasi, preview 1) |
//! | `pulley` | runs the Pulley fallback `wasmbake_build::Builder::fallback_pulley` bakes, where native code cannot run |
//!
//! # Building plugins
//!
//! The compiler runs inside the build (in the proc-macro, or the build
//! helper in `build.rs`). Build it optimised, or precompiling is about 18
//! times slower; wasmbake warns, once per build, when these lines are
//! missing from the consumer's `Cargo.toml`:
//!
//! ```toml
//! [profile.dev.build-override]
//! opt-level = 3
//! [profile.release.build-override]
//! opt-level = 3
//! ```
//!
//! The guide (`docs/` in the repository) says how it works and what it
//! costs.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use wasmbake_runtime::{
    CodeSettings, Embedded, EpochTicker, LoadKind, Loaded, MemoryImage, Names, config, demangle, engine,
    pulley_engine, wasmtime,
};

/// Bakes a WebAssembly module into the binary and evaluates to a
/// [`Embedded`] (use it to initialise a `static`).
///
/// ```no_run
/// static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("examples/hello/greet.wat");
/// # fn main() {}
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
///   `MemoryDenyWriteExecute=yes`, `prctl(PR_SET_MDWE)`): guide, "Hardened
///   hosts". [`Embedded::in_executable_segment`] tells.
/// * `include_module!("p.wasm", epoch_interruption)` and
///   `include_module!("p.wasm", consume_fuel)` (combinable): the plugin is
///   compiled with epoch-interruption checks or fuel accounting, so a host
///   can stop it at a deadline or bound what it runs. Those settings change
///   compiled code, so only an engine with the same ones loads it:
///   [`Embedded::engine`] is that engine (one per process and setting set),
///   and [`Embedded::command`] uses it. [`CodeSettings`] says which.
/// * `include_module!("p.wasm", preinitialize)`: the module's
///   `wizer.initialize` export (or `wizer-initialize`) runs once, at bake
///   time, with Wasmtime's Wizer, and the snapshot of its memories and
///   globals is baked instead: what an interpreter does at every start
///   (creating its context, evaluating its sources) is done once. The init
///   function gets no WASI and no other import unless asked:
///   `preinitialize(init = "setup", wasi, args = ["qjs", "main.js"], env =
///   ["LANG=C"], dir = "js")` names another init function and gives it WASI
///   with those arguments, environment and read-only directory (preopened
///   as `.`, relative to the crate), clocks stopped at zero and fixed random
///   bytes, so the same inputs give the same snapshot. No such export, a
///   trap in it (with the functions it was in) and a call to an import it
///   cannot make are compile errors on the path: guide, "Start-up".
pub use wasmbake_macros::include_module;

/// Bakes a WebAssembly component into the binary and evaluates to an
/// [`EmbeddedComponent`] (use it to initialise a `static`). Needs the
/// `component` feature.
///
/// ```ignore
/// static GUEST: wasmbake::EmbeddedComponent = wasmbake::include_component!("plugins/guest.wasm");
/// let component = GUEST.load(&wasmbake::engine()?)?; // a wasmtime::component::Component
/// ```
///
/// Everything [`include_module!`] says holds, with these differences:
/// * the file is a component (binary, or component text); a core module is
///   a compile error that names `include_module!`, as a component given to
///   `include_module!` names this macro;
/// * each core module keeps its own static name table
///   ([`EmbeddedComponent::names`]); their `name` sections are blanked in
///   place, so backtrace offsets are offsets in the original file;
/// * the options are the same (`crate =`, `strict_names`,
///   `executable_segment`, `epoch_interruption`, `consume_fuel`), but for
///   `preinitialize`, which takes core modules.
#[cfg(feature = "component")]
pub use wasmbake_macros::include_component;
#[cfg(feature = "component")]
pub use wasmbake_runtime::{ComponentNames, CoreModuleNames, EmbeddedComponent};

#[doc(hidden)]
pub use wasmbake_runtime::__private;

#[cfg(feature = "wasi")]
pub use wasmbake_runtime::{
    Access, Command, ExitStatus, Output, Reactor, ReactorState, Stdio, TIMEOUT_EXIT_CODE, TRAP_EXIT_CODE,
    wasi, wasi_linker, wasi_linker_for,
};

/// Includes the plugin statics that `wasmbake_build::Builder::compile` wrote
/// from the crate's `build.rs`: one `pub static NAME: wasmbake::Embedded` per
/// plugin (`wasmbake::EmbeddedComponent` for a component), named from the
/// file stem in SCREAMING_SNAKE_CASE.
///
/// ```ignore
/// // (Not compiled here: it includes the file `build.rs` writes into OUT_DIR.)
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
