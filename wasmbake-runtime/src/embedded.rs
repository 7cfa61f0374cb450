//! [`Embedded`]: one baked plugin (artifact + name table) and its loading.

use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard};

use wasmtime::{Engine, Module};

use crate::code_memory;
use crate::image::{self, MemoryImage};
use crate::names::Names;

/// How a [`Module`] returned by [`Embedded::load`] was created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadKind {
    /// Run straight from the binary's read-only data: nothing copied.
    InPlace,
    /// Copied into memory Wasmtime owns. This happens when the artifact is
    /// already loaded in place for another engine (Wasmtime allows one live
    /// in-place load per buffer) or when the engine cannot run code in place
    /// (it was not built from [`crate::config`]).
    Copied,
}

/// A module returned by [`Embedded::load_detailed`], and how it was made.
#[derive(Clone, Debug)]
pub struct Loaded {
    module: Module,
    kind: LoadKind,
    fallback: Option<Arc<str>>,
}

impl Loaded {
    /// The module. After a Pulley fallback it belongs to
    /// [`crate::pulley_engine`], not to the engine passed to `load`: make
    /// stores and linkers with [`Loaded::engine`].
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// The engine the module belongs to, to make stores and linkers with:
    /// the one passed to `load`, or [`crate::pulley_engine`] after a
    /// fallback.
    pub fn engine(&self) -> &Engine {
        self.module.engine()
    }

    /// The module, by value.
    pub fn into_module(self) -> Module {
        self.module
    }

    /// Whether the artifact runs in place or was copied.
    pub fn kind(&self) -> LoadKind {
        self.kind
    }

    /// Whether the module runs on Pulley, Wasmtime's interpreter (after a
    /// fallback, or because the engine targets Pulley), not as native code.
    pub fn is_pulley(&self) -> bool {
        self.module.engine().is_pulley()
    }

    /// Why the native artifact was not used, when `load` fell back to the
    /// plugin's Pulley artifact (Wasmtime's message: another architecture,
    /// missing CPU features, ...).
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback.as_deref()
    }
}

struct Cached {
    engine: Engine,
    loaded: Loaded,
}

/// A WebAssembly module baked into the binary by `wasmbake::include_module!`
/// (or `wasmbake_build`): a precompiled Wasmtime artifact and its
/// function-name table, both in static read-only memory.
pub struct Embedded {
    source: &'static str,
    artifact: &'static [u8],
    pulley: Option<&'static [u8]>,
    names: Names<'static>,
    /// The artifact's memory-image data: (offset, length) within `artifact`.
    data_image: Option<(usize, usize)>,
    /// The artifact's code lies in pages mapped executable (never writable)
    /// for the life of the process: published without `mprotect`.
    executable: bool,
    /// The plugin's descriptor (`wasmbake_compiler::descriptor`), in a
    /// section of its own for `wasmbake inspect`: held so that the linker
    /// keeps it, never read here.
    #[allow(dead_code)]
    descriptor: &'static [u8],
    cache: Mutex<Vec<Cached>>,
}

impl Embedded {
    /// Used by the code `include_module!` generates.
    ///
    /// # Safety
    ///
    /// `artifact` (and `pulley`, if any) must be the unmodified output of
    /// `Engine::precompile_module` for `wasm_config()` (`pulley`: with
    /// the target `PULLEY_TARGET`), aligned to 64 KiB, and `names`
    /// must satisfy [`Names::from_static_unchecked`].
    #[doc(hidden)]
    pub const unsafe fn from_static_unchecked(
        source: &'static str,
        artifact: &'static [u8],
        names: Names<'static>,
        pulley: Option<&'static [u8]>,
    ) -> Embedded {
        Embedded {
            source,
            artifact,
            pulley,
            names,
            data_image: None,
            executable: false,
            descriptor: &[],
            cache: Mutex::new(Vec::new()),
        }
    }

    /// A plugin over an artifact the program mapped itself at run time
    /// (from a file, as `wasmbake exe` outputs do), rather than one baked by
    /// `include_module!`. `source` names it in messages and backtraces.
    /// Say where its memory-image data is with [`Embedded::with_data_image`]
    /// (else the image is made by scanning the artifact's segments, as for
    /// any artifact), and whether its code pages are already executable with
    /// [`Embedded::with_executable_segment`].
    ///
    /// # Safety
    ///
    /// * `artifact` is the unmodified output of this version of wasmbake's
    ///   compiler (`wasmbake_compiler::bake`, or `Engine::precompile_module`
    ///   with `wasmbake::__private::wasm_config`) for this host;
    /// * it starts at a 64 KiB-aligned address;
    /// * it is never written, moved or unmapped for the life of the process
    ///   (hence `'static`);
    /// * `names` came from [`Names::parse`] or from the same bake.
    pub const unsafe fn from_mapped(
        source: &'static str,
        artifact: &'static [u8],
        names: Names<'static>,
    ) -> Embedded {
        // SAFETY: the same contract, stated above.
        unsafe { Embedded::from_static_unchecked(source, artifact, names, None) }
    }

    /// Where the native artifact holds the data of its memory images (its
    /// `.rodata.wasm` section): `len` bytes at `offset` within the artifact,
    /// as the compiler found it (`wasmbake_compiler::data_image`). Lets
    /// [`MemoryImage::Auto`] release those pages once the image is built. A
    /// range outside the artifact is ignored.
    pub const fn with_data_image(mut self, offset: usize, len: usize) -> Embedded {
        self.data_image = Some((offset, len));
        self
    }

    /// The artifact lies in pages already mapped readable and executable
    /// (an executable segment of the binary, for plugins baked with
    /// `executable_segment`, or a `PROT_READ | PROT_EXEC` file mapping), so
    /// its code is published with no protection change, and works where no
    /// memory may become executable (guide, "Hardened hosts").
    ///
    /// # Safety
    ///
    /// Every page of the artifact's code must be mapped readable and
    /// executable, and never writable, for the life of the process.
    pub const unsafe fn with_executable_segment(mut self) -> Embedded {
        self.executable = true;
        self
    }

    /// Whether the plugin was baked into an executable segment of the
    /// binary (`executable_segment`): its code runs without any protection
    /// change, where a hardened process forbids making memory executable.
    pub fn in_executable_segment(&self) -> bool {
        self.executable
    }

    /// Used by the generated code: the plugin's descriptor, in its section.
    #[doc(hidden)]
    pub const fn with_descriptor(mut self, descriptor: &'static [u8]) -> Embedded {
        self.descriptor = descriptor;
        self
    }

    /// The number of bytes of initial linear-memory data the native artifact
    /// carries (what each memory's copy-on-write image is made of), when the
    /// compiler recorded it.
    pub fn data_image_len(&self) -> Option<usize> {
        self.data_image.map(|(_, len)| len)
    }

    /// The path the plugin was baked from, as written in the macro call.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// The baked Wasmtime artifact (what `Engine::precompile_module` produced).
    /// Write it to a `.cwasm` file to load it elsewhere with
    /// `Module::deserialize_file`.
    pub fn artifact(&self) -> &'static [u8] {
        self.artifact
    }

    /// The Pulley artifact baked beside the native one
    /// (`wasmbake_build::Builder::fallback_pulley`), if any.
    pub fn pulley_artifact(&self) -> Option<&'static [u8]> {
        self.pulley
    }

    /// The module's function names, from static memory.
    pub fn names(&self) -> &Names<'static> {
        &self.names
    }

    /// Loads the plugin into `engine`: in place (no copy, no compilation) the
    /// first time, a clone of the same [`Module`] afterwards.
    ///
    /// One `Module` is cached per engine. The first engine gets the in-place
    /// module; another engine asking while that module is alive gets a copy
    /// (see [`LoadKind`]). Safe to call from many threads at once.
    ///
    /// The module always belongs to `engine`: stores and linkers made with
    /// `engine` work with it.
    ///
    /// # Errors
    ///
    /// When the engine's settings do not match the ones the artifact was
    /// compiled with (another Wasmtime version, another configuration, another
    /// architecture, or CPU features this host lacks), with Wasmtime's
    /// description of the difference. When only the plugin's Pulley fallback
    /// can run here, the error says so: that module belongs to another engine,
    /// so take it with [`Embedded::load_detailed`] and make stores with
    /// [`Loaded::engine`].
    pub fn load(&self, engine: &Engine) -> wasmtime::Result<Module> {
        self.load_native(engine).map(Loaded::into_module)
    }

    /// [`Embedded::load`], also telling whether the module runs in place.
    pub fn load_with_kind(&self, engine: &Engine) -> wasmtime::Result<(Module, LoadKind)> {
        self.load_native(engine).map(|l| (l.module, l.kind))
    }

    /// [`Embedded::load_detailed`], refusing a fallback (whose module would
    /// belong to another engine than `engine`).
    fn load_native(&self, engine: &Engine) -> wasmtime::Result<Loaded> {
        let loaded = self.load_detailed(engine)?;
        match loaded.fallback_reason() {
            // (A fallback asked of the Pulley engine itself is that engine's.)
            Some(_) if Engine::same(loaded.engine(), engine) => Ok(loaded),
            None => Ok(loaded),
            Some(reason) => Err(wasmtime::format_err!(
                "wasmbake: plugin `{}` cannot run natively here ({reason}); only its Pulley fallback can, \
                 and that module belongs to the Pulley engine, not this one: load it with \
                 `load_detailed` and make stores with `Loaded::engine()`",
                self.source
            )),
        }
    }

    /// Loads the plugin, falling back to its Pulley artifact (baked with
    /// `wasmbake_build::Builder::fallback_pulley`) when the native one cannot
    /// run here, and tells how the module was made: in place or copied,
    /// native or Pulley fallback (and why). After a fallback the module
    /// belongs to [`crate::pulley_engine`]: make stores and linkers with
    /// [`Loaded::engine`], which is right in every case.
    pub fn load_detailed(&self, engine: &Engine) -> wasmtime::Result<Loaded> {
        self.load_with(engine, MemoryImage::Auto)
    }

    /// [`Embedded::load_detailed`], choosing when the plugin's memory image
    /// is made (the default is [`MemoryImage::Auto`]; the choice matters only
    /// the first time the plugin is loaded into `engine`).
    pub fn load_with(&self, engine: &Engine, image: MemoryImage) -> wasmtime::Result<Loaded> {
        self.load_inner(engine, image, true)
    }

    /// `release`: drop the artifact's data pages from the page tables once
    /// the image is built (a process about to end need not).
    pub(crate) fn load_inner(
        &self,
        engine: &Engine,
        image: MemoryImage,
        release: bool,
    ) -> wasmtime::Result<Loaded> {
        let mut cache = self.lock();
        if let Some(hit) = cache.iter().find(|c| Engine::same(&c.engine, engine)) {
            return Ok(hit.loaded.clone());
        }
        let context = |e: wasmtime::Error| {
            // Refused executable memory that wasmbake's code memory did not
            // explain (an engine of other settings): say what would work.
            // (Other errors, such as a foreign architecture, get no hint.)
            let text = format!("{e:#}");
            let refused = text.contains("executable")
                && (text.contains("Permission denied") || text.contains("Operation not permitted"));
            let hint = match refused && !text.contains("Hardened hosts") {
                true => code_memory::exec_gain_hint(self.executable),
                false => None,
            };
            e.context(format!(
                "wasmbake: cannot load plugin `{}` into this engine{}",
                self.source,
                hint.unwrap_or_default()
            ))
        };
        let loaded = self.load_uncached(&mut cache, engine).map_err(context)?;
        if loaded.fallback.is_none() {
            let in_place = loaded.kind == LoadKind::InPlace;
            image::prepare(
                || loaded.module.initialize_copy_on_write_image(),
                self.artifact,
                self.data_image,
                image,
                in_place,
                release,
            )
            .map_err(context)?;
        }
        cache.push(Cached { engine: engine.clone(), loaded: loaded.clone() });
        Ok(loaded)
    }

    /// Drops the cached `Module` for `engine` (returns whether there was one).
    ///
    /// Clones handed out earlier stay valid. Once the last in-place clone is
    /// gone, the next load (for any engine) is in place again.
    pub fn evict(&self, engine: &Engine) -> bool {
        let mut cache = self.lock();
        let before = cache.len();
        cache.retain(|c| !Engine::same(&c.engine, engine));
        cache.len() != before
    }

    /// The cached modules, for rendering backtraces.
    pub(crate) fn is_loaded(&self, module: &Module) -> bool {
        self.lock().iter().any(|c| Module::same(&c.loaded.module, module))
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Cached>> {
        // A panic while the lock was held cannot leave the vector inconsistent.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    // Called with the cache locked, so in-place loads of this plugin's
    // artifacts are serialised: two threads never race into `deserialize_raw`.
    fn load_uncached(&self, cache: &mut Vec<Cached>, engine: &Engine) -> wasmtime::Result<Loaded> {
        let native = match load_artifact(self.artifact, self.executable, engine) {
            Ok((module, kind)) => return Ok(Loaded { module, kind, fallback: None }),
            Err(native) => native,
        };
        let Some(pulley) = self.pulley else { return Err(native) };
        let reason: Arc<str> = format!("{native:#}").into();
        let pulley_engine = match engine.is_pulley() {
            true => engine.clone(),
            false => crate::pulley_engine()
                .map_err(|e| e.context(format!("the native artifact cannot run here ({reason})")))?,
        };
        // Several engines may fall back: they share the Pulley engine's module.
        if let Some(hit) = cache.iter().find(|c| Engine::same(&c.engine, &pulley_engine)) {
            return Ok(Loaded { fallback: Some(reason), ..hit.loaded.clone() });
        }
        let (module, kind) = load_artifact(pulley, false, &pulley_engine).map_err(|e| {
            e.context(format!(
                "the native artifact cannot run here ({reason}) and the Pulley fallback failed"
            ))
        })?;
        let loaded = Loaded { module, kind, fallback: None };
        cache.push(Cached { engine: pulley_engine, loaded: loaded.clone() });
        Ok(Loaded { fallback: Some(reason), ..loaded })
    }
}

/// Loads one static artifact into `engine`: in place when no in-place module
/// of it is alive, else (or when the engine cannot run it in place) a copy.
/// The caller holds the owning plugin's lock. `executable`: the artifact
/// lies in an executable segment ([`Embedded::with_executable_segment`]).
fn load_artifact(
    artifact: &'static [u8],
    executable: bool,
    engine: &Engine,
) -> wasmtime::Result<(Module, LoadKind)> {
    // SAFETY: by the contract of `from_static_unchecked` and `from_mapped`,
    // the artifact is `precompile_module` output, static and never written;
    // the caller holds the plugin's lock.
    unsafe { load_static(artifact, executable, engine, Module::deserialize_raw, Module::deserialize) }
}

/// The in-place load of modules and components alike (`T`: a `Module` or
/// a `Component`; `raw` and `copy`: its `deserialize_raw` and
/// `deserialize`): in place when no in-place load of `artifact` is alive
/// (Wasmtime panics on a second), else a copy.
///
/// # Safety
///
/// `artifact` is the unmodified output of the matching `precompile_*` for
/// this wasmbake, static and never written, and the caller holds the lock
/// of the plugin that owns it (so that no two threads race into `raw`).
pub(crate) unsafe fn load_static<T: Clone>(
    artifact: &'static [u8],
    executable: bool,
    engine: &Engine,
    raw: unsafe fn(&Engine, NonNull<[u8]>) -> wasmtime::Result<T>,
    copy: unsafe fn(&Engine, &'static [u8]) -> wasmtime::Result<T>,
) -> wasmtime::Result<(T, LoadKind)> {
    if !code_memory::is_live_in_place(artifact) {
        code_memory::register_static(artifact, executable);
        // SAFETY: the contract above; Wasmtime checks the artifact's
        // compatibility with `engine` before using it. No in-place load of
        // this buffer is alive (checked above, under the plugin's lock).
        match unsafe { raw(engine, NonNull::from(artifact)) } {
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
    let loaded = unsafe { copy(engine, artifact)? };
    Ok((loaded, LoadKind::Copied))
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded")
            .field("source", &self.source)
            .field("artifact_len", &self.artifact.len())
            .field("pulley_artifact_len", &self.pulley.map(<[u8]>::len))
            .field("data_image", &self.data_image)
            .field("executable", &self.executable)
            .field("names", &self.names)
            .finish()
    }
}
