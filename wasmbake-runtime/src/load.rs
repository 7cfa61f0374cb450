//! Loading a baked artifact, shared by modules ([`crate::Embedded`]) and
//! components (`EmbeddedComponent`): in place or copied, native or the
//! plugin's Pulley fallback, one cached result per engine.

use std::path::Path;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard};

use wasmtime::{Engine, Module};

use crate::code_memory;
use crate::config::CodeSettings;

/// How a [`Module`] (or component) returned by [`crate::Embedded::load`]
/// was created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadKind {
    /// Run straight from the binary's read-only data: nothing copied.
    InPlace,
    /// Copied into memory Wasmtime owns. This happens when the artifact is
    /// already loaded in place for another engine (Wasmtime allows one live
    /// in-place load per buffer) or when the engine cannot run code in place
    /// (it was not built from [`crate::config`]).
    Copied,
    /// Loaded from the executable file that carries it, as Wasmtime loads a
    /// `.cwasm` file: code and memory images are mapped from the file,
    /// nothing is copied. `wasmbake exe` outputs load one of their programs
    /// so ([`crate::Embedded::with_backing_file`]).
    FromFile,
}

/// A module (or, with `Loaded<Component>`, a component) returned by
/// [`crate::Embedded::load_detailed`], and how it was made.
#[derive(Clone, Debug)]
pub struct Loaded<T = Module> {
    loaded: T,
    engine: Engine,
    kind: LoadKind,
    fallback: Option<Arc<str>>,
}

impl<T> Loaded<T> {
    /// The engine the module belongs to, to make stores and linkers with:
    /// the one passed to `load`, or [`crate::pulley_engine`] after a
    /// fallback.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether the artifact runs in place or was copied.
    pub fn kind(&self) -> LoadKind {
        self.kind
    }

    /// Whether the module runs on Pulley, Wasmtime's interpreter (after a
    /// fallback, or because the engine targets Pulley), not as native code.
    pub fn is_pulley(&self) -> bool {
        self.engine.is_pulley()
    }

    /// Why the native artifact was not used, when `load` fell back to the
    /// plugin's Pulley artifact (Wasmtime's message: another architecture,
    /// missing CPU features, ...).
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback.as_deref()
    }
}

impl Loaded<Module> {
    /// The module. After a Pulley fallback it belongs to
    /// [`crate::pulley_engine`], not to the engine passed to `load`: make
    /// stores and linkers with [`Loaded::engine`].
    pub fn module(&self) -> &Module {
        &self.loaded
    }

    /// The module, by value.
    pub fn into_module(self) -> Module {
        self.loaded
    }
}

#[cfg(feature = "component")]
impl Loaded<wasmtime::component::Component> {
    /// The component. After a Pulley fallback it belongs to
    /// [`crate::pulley_engine`], not to the engine passed to `load`: make
    /// stores and linkers with [`Loaded::engine`].
    pub fn component(&self) -> &wasmtime::component::Component {
        &self.loaded
    }

    /// The component, by value.
    pub fn into_component(self) -> wasmtime::component::Component {
        self.loaded
    }
}

/// What Wasmtime loads from a baked artifact: a `Module` or a `Component`.
pub(crate) trait Artifact: Clone {
    /// `deserialize_raw`.
    ///
    /// # Safety
    ///
    /// As Wasmtime's: `bytes` is trusted `precompile_*` output that stays
    /// valid and unwritten while the result lives.
    unsafe fn raw(engine: &Engine, bytes: NonNull<[u8]>) -> wasmtime::Result<Self>;
    /// `deserialize` (copies first).
    ///
    /// # Safety
    ///
    /// As Wasmtime's: `bytes` is trusted `precompile_*` output.
    unsafe fn copy(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self>;
    /// `deserialize_file`.
    ///
    /// # Safety
    ///
    /// As Wasmtime's: `path` is trusted `precompile_*` output (here, an
    /// executable that describes one), never modified while the result
    /// lives.
    unsafe fn file(engine: &Engine, path: &Path) -> wasmtime::Result<Self>;
}

impl Artifact for Module {
    unsafe fn raw(engine: &Engine, bytes: NonNull<[u8]>) -> wasmtime::Result<Self> {
        // SAFETY: the caller's contract.
        unsafe { Module::deserialize_raw(engine, bytes) }
    }
    unsafe fn copy(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        // SAFETY: the caller's contract.
        unsafe { Module::deserialize(engine, bytes) }
    }
    unsafe fn file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: the caller's contract.
        unsafe { Module::deserialize_file(engine, path) }
    }
}

#[cfg(feature = "component")]
impl Artifact for wasmtime::component::Component {
    unsafe fn raw(engine: &Engine, bytes: NonNull<[u8]>) -> wasmtime::Result<Self> {
        // SAFETY: the caller's contract.
        unsafe { Self::deserialize_raw(engine, bytes) }
    }
    unsafe fn copy(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        // SAFETY: the caller's contract.
        unsafe { Self::deserialize(engine, bytes) }
    }
    unsafe fn file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: the caller's contract.
        unsafe { Self::deserialize_file(engine, path) }
    }
}

/// A plugin's artifacts: the native one, its Pulley fallback (if baked),
/// and whether the native one lies in an executable segment.
///
/// Every artifact is the unmodified output of the matching `precompile_*`
/// of this wasmbake's compiler (the Pulley one for
/// [`crate::config::PULLEY_TARGET`]), static and never written: the
/// contract of the plugin's `from_static_unchecked` / `from_mapped`.
#[derive(Clone, Copy)]
pub(crate) struct Artifacts {
    pub native: &'static [u8],
    pub pulley: Option<&'static [u8]>,
    pub executable: bool,
    /// What both were baked with.
    pub settings: CodeSettings,
    /// The file that also describes the native artifact, to load it from.
    pub file: Option<BackingFile>,
}

/// An executable file whose ELF file header and section table describe a
/// plugin's native artifact where it lies in the file (`artifact_elf.rs`),
/// so that Wasmtime can load it from there as from a `.cwasm` file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BackingFile {
    pub path: &'static Path,
    /// The artifact's file offset.
    pub artifact_at: u64,
}

/// One plugin's loads, one per engine (a Pulley fallback is cached under the
/// Pulley engine, and shared by every engine that fell back).
pub(crate) struct Cache<T>(Mutex<Vec<(Engine, Loaded<T>)>>);

impl<T: Artifact> Cache<T> {
    pub const fn new() -> Cache<T> {
        Cache(Mutex::new(Vec::new()))
    }

    /// The cached load for `engine`, or a new one: native (in place if it
    /// can be), else the Pulley fallback. `context` wraps a failure;
    /// `prepare` runs once on a new native load (its memory image).
    pub fn load(
        &self,
        artifacts: Artifacts,
        engine: &Engine,
        context: impl Fn(wasmtime::Error) -> wasmtime::Error,
        prepare: impl FnOnce(&T, LoadKind) -> wasmtime::Result<()>,
    ) -> wasmtime::Result<Loaded<T>> {
        let mut cache = self.lock();
        if let Some((_, hit)) = cache.iter().find(|(e, _)| Engine::same(e, engine)) {
            return Ok(hit.clone());
        }
        let loaded = load_uncached(&mut cache, artifacts, engine).map_err(&context)?;
        if loaded.fallback.is_none() {
            prepare(&loaded.loaded, loaded.kind).map_err(&context)?;
        }
        cache.push((engine.clone(), loaded.clone()));
        Ok(loaded)
    }

    /// Drops the cached load for `engine` (returns whether there was one).
    pub fn evict(&self, engine: &Engine) -> bool {
        let mut cache = self.lock();
        let before = cache.len();
        cache.retain(|(e, _)| !Engine::same(e, engine));
        cache.len() != before
    }

    /// Whether any cached load satisfies `test`.
    pub fn any(&self, test: impl Fn(&T) -> bool) -> bool {
        self.lock().iter().any(|(_, l)| test(&l.loaded))
    }

    fn lock(&self) -> MutexGuard<'_, Vec<(Engine, Loaded<T>)>> {
        // A panic while the lock was held cannot leave the vector inconsistent.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `loaded`, unless it is a fallback into another engine than `engine`:
/// what `load` (which hands out a bare `Module` or `Component`, to be used
/// with `engine`) may return. `what`: "plugin" or "component".
pub(crate) fn native_only<T>(
    loaded: Loaded<T>,
    engine: &Engine,
    what: &str,
    source: &str,
) -> wasmtime::Result<Loaded<T>> {
    match loaded.fallback_reason() {
        // (A fallback asked of the Pulley engine itself is that engine's.)
        Some(reason) if !Engine::same(&loaded.engine, engine) => Err(wasmtime::format_err!(
            "wasmbake: {what} `{source}` cannot run natively here ({reason}); only its Pulley fallback can, \
             and that {what} belongs to the Pulley engine, not this one: load it with \
             `load_detailed` and make stores with `Loaded::engine()`"
        )),
        _ => Ok(loaded),
    }
}

/// What to do about Wasmtime's refusal `text` when it is about a setting
/// the plugin was baked with (`settings`): load it into `PLUGIN.engine()`,
/// or bake it as the engine wants. `None` for any other refusal.
pub(crate) fn settings_hint(text: &str, settings: CodeSettings) -> Option<String> {
    let (option, baked) = [
        ("epoch interruption", "epoch_interruption", settings.epoch_interruption),
        ("fuel support", "consume_fuel", settings.consume_fuel),
    ]
    .into_iter()
    .find(|(wasmtime, ..)| text.contains(&format!(" {wasmtime} but it ")))
    .map(|(_, option, baked)| (option, baked))?;
    let bake = match baked {
        true => format!("or bake it without `{option}`"),
        false => format!("or bake it with `{option}` (the macro option, or `Builder::{option}(true)`)"),
    };
    Some(format!(
        " (it was baked with{} `{option}`: load it into `PLUGIN.engine()`, the engine for its settings, {bake})",
        if baked { "" } else { "out" }
    ))
}

// Called with the cache locked, so in-place loads of this plugin's
// artifacts are serialised: two threads never race into `deserialize_raw`.
fn load_uncached<T: Artifact>(
    cache: &mut Vec<(Engine, Loaded<T>)>,
    artifacts: Artifacts,
    engine: &Engine,
) -> wasmtime::Result<Loaded<T>> {
    let loaded =
        |(loaded, kind), engine: &Engine| Loaded { loaded, engine: engine.clone(), kind, fallback: None };
    if let Some(file) = artifacts.file
        // SAFETY: `Artifacts`' contract.
        && let Ok(native) = unsafe { load_file::<T>(artifacts.native, file, engine) }
    {
        return Ok(loaded((native, LoadKind::FromFile), engine));
    }
    // (A file that cannot be loaded from leaves the artifact as it is: in
    // place, with the memory images copied, or the error that says why not.)
    // SAFETY: `Artifacts`' contract; the caller holds the plugin's lock.
    let native = match unsafe { load_static::<T>(artifacts.native, artifacts.executable, engine) } {
        Ok(native) => return Ok(loaded(native, engine)),
        Err(native) => native,
    };
    let Some(pulley) = artifacts.pulley else { return Err(native) };
    let reason: Arc<str> = format!("{native:#}").into();
    let pulley_engine = match engine.is_pulley() {
        true => engine.clone(),
        false => crate::config::pulley_engine_for(artifacts.settings)
            .map_err(|e| e.context(format!("the native artifact cannot run here ({reason})")))?,
    };
    // Several engines may fall back: they share the Pulley engine's load.
    if let Some((_, hit)) = cache.iter().find(|(e, _)| Engine::same(e, &pulley_engine)) {
        return Ok(Loaded { fallback: Some(reason), ..hit.clone() });
    }
    // SAFETY: as above.
    let fallback = unsafe { load_static::<T>(pulley, false, &pulley_engine) }.map_err(|e| {
        e.context(format!("the native artifact cannot run here ({reason}) and the Pulley fallback failed"))
    })?;
    let fallback = loaded(fallback, &pulley_engine);
    cache.push((pulley_engine, fallback.clone()));
    Ok(Loaded { fallback: Some(reason), ..fallback })
}

/// Loads one static artifact into `engine`: in place when no in-place load
/// of it is alive (Wasmtime panics on a second), else (or when the engine
/// cannot run it in place) a copy.
///
/// # Safety
///
/// `artifact` is the unmodified output of the matching `precompile_*` for
/// this wasmbake, static and never written, and the caller holds the lock
/// of the plugin that owns it (so that no two threads race into `raw`).
unsafe fn load_static<T: Artifact>(
    artifact: &'static [u8],
    executable: bool,
    engine: &Engine,
) -> wasmtime::Result<(T, LoadKind)> {
    if !code_memory::is_live_in_place(artifact) {
        code_memory::register_static(artifact, executable);
        // SAFETY: the contract above; Wasmtime checks the artifact's
        // compatibility with `engine` before using it. No in-place load of
        // this buffer is alive (checked above, under the plugin's lock).
        match unsafe { T::raw(engine, NonNull::from(artifact)) } {
            Ok(loaded) if code_memory::is_live_in_place(artifact) => return Ok((loaded, LoadKind::InPlace)),
            Ok(loaded) => {
                // Published without our code memory seeing it (Pulley
                // bytecode is never made executable; an engine may bring a
                // code memory of its own): we cannot tell when it is
                // released, so keep it alive for good, and remember that so
                // no second in-place load of this buffer is ever attempted.
                std::mem::forget(loaded.clone());
                code_memory::pin(artifact);
                return Ok((loaded, LoadKind::InPlace));
            }
            // Incompatible engine, or one that cannot run code in place (no
            // wasmbake code memory): the copy below either works or reports
            // the incompatibility.
            Err(_) => {}
        }
    }
    // SAFETY: as above; `copy` copies the bytes first.
    let loaded = unsafe { T::copy(engine, artifact)? };
    Ok((loaded, LoadKind::Copied))
}

/// Loads `artifact` from the file that describes it.
///
/// # Safety
///
/// `file` describes `artifact` (the unmodified output of the matching
/// `precompile_*` for this wasmbake) at its offset, and is never modified
/// while the process runs.
unsafe fn load_file<T: Artifact>(artifact: &[u8], file: BackingFile, engine: &Engine) -> wasmtime::Result<T> {
    let (text_at, text_len) = crate::artifact_elf::text_range(artifact)
        .ok_or_else(|| wasmtime::format_err!("the artifact has no code section"))?;
    let opened = std::fs::File::open(file.path)?;
    let text_len = usize::try_from(text_len)?;
    code_memory::with_file_text(&opened, file.artifact_at + text_at, text_len, || {
        // SAFETY: the contract above.
        unsafe { T::file(engine, file.path) }
    })
}
