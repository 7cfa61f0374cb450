//! The one Wasmtime configuration shared by compile time and run time.
//!
//! Artifacts only load into an engine whose settings match the ones they were
//! compiled with, so both halves of wasmbake build their `wasmtime::Config`
//! from [`wasm_config`]: `wasmbake-compiler` adds the target triple and the
//! CPU baseline (Cranelift settings, which only exist where a compiler is
//! linked), and the run time adds the in-place [`CustomCodeMemory`].
//!
//! [`CustomCodeMemory`]: wasmtime::CustomCodeMemory

use wasmtime::{Collector, Config, Engine};

/// The WebAssembly features and run-time settings every baked artifact is
/// compiled with, without a target or code memory.
///
/// Enabled proposals: everything Wasmtime 48 compiles that real toolchains
/// emit — SIMD (and relaxed SIMD, in its deterministic flavour, so results do
/// not depend on the host CPU), bulk memory, reference types, multi-value,
/// tail calls, exceptions, function references, GC (deferred reference
/// counting collector), threads (shared memories), 64-bit and multiple
/// memories, and extended constant expressions.
pub fn wasm_config() -> Config {
    let mut config = Config::new();
    config
        .wasm_simd(true)
        .wasm_relaxed_simd(true)
        .relaxed_simd_deterministic(true)
        .wasm_bulk_memory(true)
        .wasm_reference_types(true)
        .wasm_multi_value(true)
        .wasm_tail_call(true)
        .wasm_exceptions(true)
        .wasm_function_references(true)
        .wasm_gc(true)
        .collector(Collector::DeferredReferenceCounting)
        .wasm_threads(true)
        .wasm_memory64(true)
        .wasm_multi_memory(true)
        .wasm_extended_const(true)
        // Part of Wasmtime's artifact compatibility check, and its default
        // follows a cargo feature (`component-model-async`) that any crate in
        // a build graph can turn on: pin it, so the compiling engine and the
        // host always agree. Core modules never use it.
        .concurrency_support(false);
    config
}

/// [`wasm_config`] plus wasmbake's code memory: the configuration of engines
/// that load baked artifacts in place (on Unix; elsewhere it is
/// [`wasm_config`] and loads copy the artifact).
///
/// Start from this when you need to tune an engine: settings that change
/// compiled code (fuel, epochs, memory reservation and guards, ...) make
/// baked artifacts fail to load with an `Err` that names the difference;
/// the others (stack sizes, the instance allocator, ...) are free to tune.
/// The guide's "Tuning the engine" lists which are which, as measured by a
/// test against Wasmtime's compatibility check.
pub fn config() -> Config {
    host_config(wasm_config())
}

/// `config` for the host: components too, and wasmbake's code memory.
fn host_config(mut config: Config) -> Config {
    // Loads components too (module artifacts, compiled without the
    // component model, still load into an engine that has it).
    #[cfg(feature = "component")]
    config.wasm_component_model(true);
    #[cfg(unix)]
    config.with_custom_code_memory(Some(std::sync::Arc::new(crate::code_memory::StaticCodeMemory::new())));
    config
}

/// [`wasm_config`] for Pulley targets, what Pulley fallback artifacts are
/// compiled and loaded with: the same minus threads (shared memories), which
/// Pulley cannot run. A plugin that uses shared memory has no fallback.
pub fn pulley_wasm_config() -> Config {
    let mut config = wasm_config();
    config.wasm_threads(false);
    config
}

/// A `wasmtime::Engine` that can load every artifact baked by this version of
/// wasmbake with the default [`CodeSettings`] (no epoch interruption, no
/// fuel), in place. A plugin baked with other settings loads into
/// `PLUGIN.engine()`.
pub fn engine() -> wasmtime::Result<Engine> {
    Engine::new(&config())
}

/// The settings a plugin was baked with that change its compiled code, so
/// that only an engine with the same settings loads it (Wasmtime's
/// compatibility check refuses any other). Chosen with the macros'
/// `epoch_interruption` and `consume_fuel` options, or the build helper's
/// methods of those names; every other engine setting is the host's to
/// tune (the guide's "Tuning the engine").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CodeSettings {
    /// Compiled with epoch-interruption checks (`Config::epoch_interruption`):
    /// a host can stop the plugin at a deadline.
    pub epoch_interruption: bool,
    /// Compiled with fuel accounting (`Config::consume_fuel`): a host can
    /// bound the instructions the plugin runs.
    pub consume_fuel: bool,
}

impl CodeSettings {
    /// No epoch interruption, no fuel: what plugins are baked with unless
    /// asked otherwise.
    pub const DEFAULT: CodeSettings = CodeSettings { epoch_interruption: false, consume_fuel: false };

    /// These settings, with epoch interruption on or off.
    pub const fn with_epoch_interruption(mut self, yes: bool) -> CodeSettings {
        self.epoch_interruption = yes;
        self
    }

    /// These settings, with fuel accounting on or off.
    pub const fn with_consume_fuel(mut self, yes: bool) -> CodeSettings {
        self.consume_fuel = yes;
        self
    }

    /// Sets them on `config`: the compiler does so to bake, a host to load.
    pub fn apply(self, config: &mut Config) -> &mut Config {
        config.epoch_interruption(self.epoch_interruption).consume_fuel(self.consume_fuel)
    }

    /// The macro options that bake these settings, as written in a call
    /// (`epoch_interruption, consume_fuel`), or `none`.
    pub fn options(self) -> String {
        let options: Vec<&str> =
            [(self.epoch_interruption, "epoch_interruption"), (self.consume_fuel, "consume_fuel")]
                .into_iter()
                .filter_map(|(on, name)| on.then_some(name))
                .collect();
        match options.is_empty() {
            true => "none".to_owned(),
            false => options.join(", "),
        }
    }

    /// An index among the four setting sets, for per-set engines.
    const fn index(self) -> usize {
        self.epoch_interruption as usize | (self.consume_fuel as usize) << 1
    }
}

/// The process-wide engine for plugins baked with `settings`: [`config`]
/// with those settings, made on first use and shared by every plugin baked
/// the same way (what `Embedded::engine` returns).
pub(crate) fn engine_for(settings: CodeSettings) -> wasmtime::Result<Engine> {
    static ENGINES: [std::sync::OnceLock<Engine>; 4] = [const { std::sync::OnceLock::new() }; 4];
    shared(&ENGINES[settings.index()], || {
        let mut config = config();
        settings.apply(&mut config);
        Engine::new(&config)
    })
}

/// The engine in `cell`, made with `make` the first time. (Two threads may
/// race to make one; the first stored wins.)
fn shared(
    cell: &std::sync::OnceLock<Engine>,
    make: impl FnOnce() -> wasmtime::Result<Engine>,
) -> wasmtime::Result<Engine> {
    if let Some(engine) = cell.get() {
        return Ok(engine.clone());
    }
    let engine = make()?;
    Ok(cell.get_or_init(|| engine).clone())
}

/// The Pulley target for this host: Wasmtime's interpreter with the host's
/// pointer width and byte order (what `wasmbake_compiler::pulley_target`
/// picks for the same target).
pub const PULLEY_TARGET: &str = match (cfg!(target_pointer_width = "64"), cfg!(target_endian = "big")) {
    (true, false) => "pulley64",
    (true, true) => "pulley64be",
    (false, false) => "pulley32",
    (false, true) => "pulley32be",
};

/// The process-wide engine that runs Pulley fallback artifacts (see
/// [`crate::Embedded::load`]) baked with the default [`CodeSettings`]:
/// [`pulley_wasm_config`] with wasmbake's code memory, the component model
/// (with the `component` feature) and the [`PULLEY_TARGET`].
/// Made on first use; needs the `pulley` feature.
pub fn pulley_engine() -> wasmtime::Result<Engine> {
    pulley_engine_for(CodeSettings::DEFAULT)
}

/// [`pulley_engine`] for fallbacks baked with `settings`.
pub(crate) fn pulley_engine_for(settings: CodeSettings) -> wasmtime::Result<Engine> {
    static ENGINES: [std::sync::OnceLock<Engine>; 4] = [const { std::sync::OnceLock::new() }; 4];
    if !cfg!(feature = "pulley") {
        wasmtime::bail!("wasmbake was built without its `pulley` feature: it cannot run Pulley artifacts");
    }
    shared(&ENGINES[settings.index()], || {
        let mut config = host_config(pulley_wasm_config());
        config.target(PULLEY_TARGET)?;
        settings.apply(&mut config);
        Engine::new(&config)
    })
}
