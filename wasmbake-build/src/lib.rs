//! Build-script helper of [wasmbake](https://docs.rs/wasmbake): bakes every
//! plugin of a folder (and single files) from `build.rs`, with the same
//! compiler, cache and output as `include_module!`.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     wasmbake_build::Builder::new()
//!         .dir("plugins")                 // every .wasm / .wat inside
//!         .module("extra/filter.wasm")
//!         .compile()?;                    // writes OUT_DIR/wasmbake_plugins.rs
//!     Ok(())
//! }
//! ```
//!
//! ```ignore
//! // src/main.rs (another crate: not compiled here): one
//! // `pub static NAME: wasmbake::Embedded` per plugin, named from the file
//! // stem (`plugins/greet-v2.wasm` -> `GREET_V2`).
//! wasmbake::include_plugins!();
//! ```
//!
//! Plugins compile for Cargo's `TARGET` with wasmbake's portable CPU
//! baseline, in parallel. Every plugin file and folder is reported with
//! `cargo:rerun-if-changed`. Errors name the file, on one line.
//!
//! [`Builder::compile`] is the one part that talks to Cargo (its
//! environment, `cargo::` lines); [`Builder::compile_into`] does the same
//! work from explicit inputs, for tests and tools.

#![deny(missing_docs)]

use std::path::{Path, PathBuf};

mod bake;
mod cargo;
mod error;
#[cfg(test)]
mod tests;

pub use error::Error;

pub use wasmbake_compiler::{Cpu, InitWasi, Preinit};

/// File name, inside `OUT_DIR`, of the generated plugin statics.
pub const OUT_FILE: &str = "wasmbake_plugins.rs";

/// Collects plugins and bakes them.
#[derive(Clone, Debug)]
pub struct Builder {
    dirs: Vec<PathBuf>,
    modules: Vec<PathBuf>,
    target: Option<String>,
    cpu: Cpu,
    out_file: String,
    fallback_pulley: bool,
    settings: wasmbake_compiler::CodeSettings,
    preinit: Option<wasmbake_compiler::Preinit>,
    link_object: Option<bool>,
    link_object_threshold: u64,
    strict_names: bool,
    executable_segment: bool,
    crate_path: Option<String>,
    package: Option<(String, String)>,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            dirs: Vec::new(),
            modules: Vec::new(),
            target: None,
            cpu: Cpu::default(),
            out_file: OUT_FILE.to_owned(),
            fallback_pulley: false,
            settings: wasmbake_compiler::CodeSettings::DEFAULT,
            preinit: None,
            link_object: None,
            link_object_threshold: DEFAULT_LINK_OBJECT_THRESHOLD,
            strict_names: false,
            executable_segment: false,
            crate_path: None,
            package: None,
        }
    }
}

/// Artifacts at least this large (8 MiB) are linked as objects unless
/// [`Builder::link_object`] says otherwise.
///
/// Measured by `benches/link_object_cost.rs` (guide, "Compile-time
/// cost"): each MB passed through `include_bytes!` adds about 45 ms and 10 MB
/// of rustc memory to every rebuild of the host crate, against a near-constant
/// cost for a linked object. Below 8 MiB that is under ~0.3 s, and
/// `include_bytes!` keeps the plugin a plain Rust static (no archive, no link
/// directive, nothing target-specific beyond the artifact itself).
pub const DEFAULT_LINK_OBJECT_THRESHOLD: u64 = 8 << 20;

/// What [`Builder::compile`] did for one plugin.
#[derive(Clone, Debug)]
pub struct Plugin {
    /// The static's name in the generated file (`GREET_V2`).
    pub name: String,
    /// The source file, as found (relative to the crate when given so).
    pub file: PathBuf,
    /// Whether the artifact came from the cache (nothing was compiled).
    pub cache_hit: bool,
    /// What was wrong with the module's `name` section (the readable names
    /// were kept; see [`Builder::strict_names`]). Printed as a
    /// `cargo:warning` by [`Builder::compile`].
    pub name_problem: Option<String>,
    /// The Pulley fallback artifact was baked beside it.
    pub pulley: bool,
    /// The relocatable object holding the artifact, when it is linked rather
    /// than passed through rustc (see [`Builder::link_object`]).
    pub object: Option<PathBuf>,
}

/// Makes `include_module!` in this crate compile for the target Cargo builds
/// for (call it from `build.rs` when cross-compiling with the macro).
pub fn configure() {
    if let Ok(target) = std::env::var("TARGET") {
        println!("cargo::rustc-env=WASMBAKE_TARGET={target}");
    }
}

/// The static name for a plugin file: its stem in SCREAMING_SNAKE_CASE, with
/// every character that cannot appear in an identifier replaced by `_`.
pub fn static_name(file: &Path) -> String {
    let stem = file.file_stem().map(|s| s.to_string_lossy()).unwrap_or_default();
    let mut name: String =
        stem.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

impl Builder {
    /// An empty builder: compiles for Cargo's `TARGET`, baseline CPU.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Adds every `.wasm` and `.wat` file directly inside `dir` (relative to
    /// the crate's `Cargo.toml` directory).
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.dirs.push(dir.into());
        self
    }

    /// Adds one plugin file (relative to the crate's `Cargo.toml` directory).
    pub fn module(mut self, file: impl Into<PathBuf>) -> Builder {
        self.modules.push(file.into());
        self
    }

    /// Compiles for this target triple instead of Cargo's `TARGET`.
    pub fn target(mut self, triple: impl Into<String>) -> Builder {
        self.target = Some(triple.into());
        self
    }

    /// CPU features the code may use (default: the portable baseline).
    pub fn cpu(mut self, cpu: Cpu) -> Builder {
        self.cpu = cpu;
        self
    }

    /// Writes the statics to `OUT_DIR/<name>` instead of
    /// [`OUT_FILE`]; include it with `wasmbake::include_plugins!("<name>")`.
    /// Lets one build script bake several sets (e.g. for several targets).
    pub fn out_file(mut self, name: impl Into<String>) -> Builder {
        self.out_file = name.into();
        self
    }

    /// Also bakes each plugin, module or component, for Pulley, Wasmtime's
    /// portable interpreter. When the host cannot run the native artifact
    /// (another architecture, missing CPU features), `load_detailed` (of
    /// `Embedded` and `EmbeddedComponent`) loads the Pulley artifact into
    /// `wasmbake::pulley_engine()` instead and says why, and `command()`
    /// runs it; `load`, whose result must belong to the engine it was
    /// given, is an `Err` that says to call `load_detailed`. The host crate
    /// needs wasmbake's `pulley` feature (a compile error says so).
    pub fn fallback_pulley(mut self, yes: bool) -> Builder {
        self.fallback_pulley = yes;
        self
    }

    /// Compiles every plugin with epoch-interruption checks (Wasmtime's
    /// `Config::epoch_interruption`), so that a host can stop it at a
    /// deadline: the macro's `epoch_interruption` option. It changes
    /// compiled code, so only an engine with the same setting loads the
    /// plugin: `PLUGIN.engine()` is that engine.
    pub fn epoch_interruption(mut self, yes: bool) -> Builder {
        self.settings.epoch_interruption = yes;
        self
    }

    /// Compiles every plugin with fuel accounting (Wasmtime's
    /// `Config::consume_fuel`), so that a host can bound what it runs: the
    /// macro's `consume_fuel` option; as [`Builder::epoch_interruption`].
    pub fn consume_fuel(mut self, yes: bool) -> Builder {
        self.settings.consume_fuel = yes;
        self
    }

    /// Pre-initialises every plugin at bake time: runs its `wizer.initialize`
    /// export (or `wizer-initialize`) once, with no WASI, and bakes the
    /// snapshot of its memories and globals instead (the macro's
    /// `preinitialize` option; see the guide's "Start-up" chapter). A plugin
    /// without that export, whose init function traps, or that calls an
    /// import during it, fails the build with a line that names it.
    /// [`Builder::preinitialize_with`] names another init function or gives
    /// it WASI.
    pub fn preinitialize(mut self, yes: bool) -> Builder {
        self.preinit = yes.then(wasmbake_compiler::Preinit::default);
        self
    }

    /// [`Builder::preinitialize`] with its details: the init function's
    /// name, and the arguments, environment and read-only directory it sees
    /// through WASI when it asks for them.
    pub fn preinitialize_with(mut self, preinit: wasmbake_compiler::Preinit) -> Builder {
        self.preinit = Some(preinit);
        self
    }

    /// `true`: every artifact is written into a relocatable object (ELF,
    /// Mach-O or COFF for the target), archived with `cc` and linked, instead
    /// of being passed through rustc with `include_bytes!`. `false`: never.
    /// Unset: artifacts of at least [`Builder::link_object_threshold`] bytes.
    pub fn link_object(mut self, yes: bool) -> Builder {
        self.link_object = Some(yes);
        self
    }

    /// `true`: a malformed `name` section is an error. By default the names
    /// that can be read are kept (Wasmtime's rules, see
    /// `wasmbake_compiler::NameTable::read`) and the problem is printed as a
    /// `cargo:warning`, once per plugin and build: a custom section never
    /// makes a module invalid.
    pub fn strict_names(mut self, yes: bool) -> Builder {
        self.strict_names = yes;
        self
    }

    /// `true`: every native artifact goes in a read-only, **executable**
    /// segment of the binary, placed by the linker with the program's code
    /// (a link object's `.text.wasmbake` section, or `#[link_section]` on
    /// the `include_bytes!` static; Mach-O `__TEXT`, COFF `.text$wasmbake`
    /// through link objects only), and the runtime publishes its code with
    /// no `mprotect`: the plugin runs in processes that may never make
    /// memory executable (systemd's `MemoryDenyWriteExecute=yes`,
    /// `prctl(PR_SET_MDWE)`). The whole artifact, metadata and data
    /// included, is then mapped executable (never writable). guide,
    /// "Hardened hosts". Pulley fallbacks stay in read-only data.
    pub fn executable_segment(mut self, yes: bool) -> Builder {
        self.executable_segment = yes;
        self
    }

    /// The artifact size from which artifacts are linked as objects when
    /// [`Builder::link_object`] is unset (default
    /// [`DEFAULT_LINK_OBJECT_THRESHOLD`]).
    pub fn link_object_threshold(mut self, bytes: u64) -> Builder {
        self.link_object_threshold = bytes;
        self
    }

    /// The path the generated file names the `wasmbake` crate by (default
    /// `::wasmbake`), as the macro's `crate = …` option: for a renamed
    /// dependency or a re-export, such as `"::my_wasmbake"` or
    /// `"my_framework::wasmbake"`. A path that does not parse is an error.
    pub fn crate_path(mut self, path: impl Into<String>) -> Builder {
        self.crate_path = Some(path.into());
        self
    }

    /// The package (name and version) the plugins belong to: link-object
    /// symbols are named from it, so that two crates' never collide.
    /// [`Builder::compile`] takes it from Cargo; [`Builder::compile_into`]
    /// uses the crate folder's name when it is not given.
    pub fn package(mut self, name: impl Into<String>, version: impl Into<String>) -> Builder {
        self.package = Some((name.into(), version.into()));
        self
    }
}
