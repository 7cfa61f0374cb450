//! What to compile for: the target, the CPU features, and the compiling
//! Wasmtime configuration built from the one the run time shares.

use wasmparser::WasmFeatures;
use wasmtime::{Config, Engine};

use crate::Error;

pub use wasmbake_runtime::CodeSettings;

/// The CPU features compiled code may use.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Cpu {
    /// A baseline every machine of the target architecture can be expected to
    /// have. x86-64: x86-64-v2 (SSE3, SSSE3, SSE4.1, SSE4.2, POPCNT: every
    /// x86-64 CPU since 2009). Other architectures: the architecture's base
    /// ISA, with no optional extension.
    #[default]
    Baseline,
    /// The baseline plus these Cranelift ISA flags (e.g. `has_avx2`). At load
    /// time Wasmtime checks that the host has each of them.
    Flags(Vec<String>),
}

/// What to compile for.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Target triple; `None` means the machine running the compiler.
    pub target: Option<String>,
    /// CPU features.
    pub cpu: Cpu,
    /// Epoch interruption and fuel: settings that change compiled code, so
    /// that only an engine with the same ones loads the artifact.
    pub settings: CodeSettings,
    /// Pre-initialisation of core modules (run the init function, bake the
    /// snapshot); `None`: bake the module as it is.
    pub preinit: Option<crate::Preinit>,
}

impl Options {
    /// Options from the environment of a build: `WASMBAKE_TARGET` (set by a
    /// build script when cross-compiling) or the host.
    pub fn from_env() -> Options {
        Options {
            target: std::env::var("WASMBAKE_TARGET").ok().filter(|t| !t.is_empty()),
            cpu: Cpu::Baseline,
            settings: CodeSettings::DEFAULT,
            preinit: None,
        }
    }

    /// The target triple these options compile for.
    pub fn target(&self) -> String {
        self.target.clone().unwrap_or_else(|| target_lexicon::HOST.to_string())
    }
}

fn baseline_flags(target: &str) -> &'static [&'static str] {
    if target.starts_with("x86_64") {
        &["has_sse3", "has_ssse3", "has_sse41", "has_sse42", "has_popcnt"]
    } else {
        &[]
    }
}

/// Every Cranelift flag a [`Cpu`] enables for `target`: the baseline's,
/// then the extra ones.
pub(crate) fn cpu_flags<'a>(target: &str, cpu: &'a Cpu) -> Vec<&'a str> {
    let extra = match cpu {
        Cpu::Baseline => &[][..],
        Cpu::Flags(flags) => flags.as_slice(),
    };
    baseline_flags(target).iter().copied().chain(extra.iter().map(String::as_str)).collect()
}

/// WebAssembly features whose default depends on cargo features of
/// `wasmtime` and that core modules never use (see [`engine`]).
pub const COMPONENT_FEATURES: WasmFeatures = WasmFeatures::COMPONENT_MODEL.union(WasmFeatures::CM_ASYNC);

/// The compiling configuration for `options`: the shared configuration, an
/// explicit target (so the build machine's CPU features are never inferred)
/// and the requested CPU features. [`engine`] builds it.
pub fn config(options: &Options) -> Result<Config, Error> {
    let target = options.target();
    let mut config: Config = match target.starts_with("pulley") {
        true => wasmbake_runtime::__private::pulley_wasm_config(),
        false => wasmbake_runtime::__private::wasm_config(),
    };
    config.target(&target).map_err(|e| Error::Target(format!("unsupported target `{target}`: {e}")))?;
    config.parallel_compilation(true);
    options.settings.apply(&mut config);
    // An artifact records the WebAssembly features its engine had, and a host
    // loads it only if it has all of them. Wasmtime turns the component-model
    // features on by default whenever its `component-model` cargo feature is
    // compiled in, which any other crate in the build graph can do (wasmtime-wasi
    // does). wasmbake bakes core modules: never let such an artifact demand
    // component-model support from the host.
    config.wasm_features(COMPONENT_FEATURES, false);
    for flag in cpu_flags(&target, &options.cpu) {
        // SAFETY: ISA flags only select instructions; Wasmtime verifies at
        // load time that the host supports every enabled flag.
        unsafe {
            config.cranelift_flag_enable(flag);
        }
    }
    Ok(config)
}

/// The compiling engine for `options` (see [`config`]).
pub fn engine(options: &Options) -> Result<Engine, Error> {
    new_engine(options, config(options)?)
}

/// The compiling configuration of components: [`config`] with the
/// component model, and without its async features (`concurrency_support`
/// is pinned off in the shared configuration, and hosts run components
/// synchronously). Core modules compiled without the component model still
/// load into an engine that has it, so one host engine loads both.
pub fn component_config(options: &Options) -> Result<Config, Error> {
    let mut config = config(options)?;
    config.wasm_component_model(true);
    Ok(config)
}

/// The compiling engine of components for `options` (see
/// [`component_config`]).
pub fn component_engine(options: &Options) -> Result<Engine, Error> {
    new_engine(options, component_config(options)?)
}

fn new_engine(options: &Options, config: Config) -> Result<Engine, Error> {
    let target = options.target();
    Engine::new(&config)
        .map_err(|e| Error::Target(format!("cannot configure Wasmtime for `{target}`: {e:#}")))
}

/// The Pulley target with the pointer width and byte order of `target`: the
/// portable artifact a host of that target can always run.
pub fn pulley_target(target: &str) -> Result<String, Error> {
    let triple: target_lexicon::Triple =
        target.parse().map_err(|e| Error::Target(format!("unsupported target `{target}`: {e}")))?;
    let bits = match triple.pointer_width() {
        Ok(target_lexicon::PointerWidth::U32) => "32",
        Ok(target_lexicon::PointerWidth::U64) => "64",
        _ => return Err(Error::Target(format!("no Pulley target for `{target}`: unknown pointer width"))),
    };
    let order = match triple.endianness() {
        Ok(target_lexicon::Endianness::Little) => "",
        Ok(target_lexicon::Endianness::Big) => "be",
        Err(()) => return Err(Error::Target(format!("no Pulley target for `{target}`: unknown byte order"))),
    };
    Ok(format!("pulley{bits}{order}"))
}
