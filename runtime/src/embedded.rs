//! [`Embedded`]: one baked plugin (artifact + name table) and its loading.

use std::ptr::NonNull;
use std::sync::{Mutex, MutexGuard};

use wasmtime::{Engine, Module};

use crate::code_memory;
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

struct Loaded {
    engine: Engine,
    module: Module,
    kind: LoadKind,
}

/// A WebAssembly module baked into the binary by `wasmbake::include_module!`:
/// a precompiled Wasmtime artifact and its function-name table, both in static
/// read-only memory.
pub struct Embedded {
    source: &'static str,
    artifact: &'static [u8],
    names: Names,
    loaded: Mutex<Vec<Loaded>>,
}

impl Embedded {
    /// Used by the code `include_module!` generates.
    ///
    /// # Safety
    ///
    /// `artifact` must be the unmodified output of `Engine::precompile_module`
    /// for [`crate::wasm_config`], aligned to 64 KiB, and `names` must satisfy
    /// [`Names::from_static_unchecked`].
    #[doc(hidden)]
    pub const unsafe fn from_static_unchecked(
        source: &'static str,
        artifact: &'static [u8],
        names: Names,
    ) -> Embedded {
        Embedded { source, artifact, names, loaded: Mutex::new(Vec::new()) }
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

    /// The module's function names, from static memory.
    pub fn names(&self) -> &Names {
        &self.names
    }

    /// Loads the plugin into `engine`: in place (no copy, no compilation) the
    /// first time, a clone of the same [`Module`] afterwards.
    ///
    /// One `Module` is cached per engine. The first engine gets the in-place
    /// module; another engine asking while that module is alive gets a copy
    /// (see [`LoadKind`]). Safe to call from many threads at once.
    ///
    /// # Errors
    ///
    /// When the engine's settings do not match the ones the artifact was
    /// compiled with (another Wasmtime version, another configuration, or CPU
    /// features this host lacks), with Wasmtime's description of the
    /// difference.
    pub fn load(&self, engine: &Engine) -> wasmtime::Result<Module> {
        self.load_with_kind(engine).map(|(module, _)| module)
    }

    /// [`Embedded::load`], also telling whether the module runs in place.
    pub fn load_with_kind(&self, engine: &Engine) -> wasmtime::Result<(Module, LoadKind)> {
        let mut loaded = self.lock();
        if let Some(hit) = loaded.iter().find(|l| Engine::same(&l.engine, engine)) {
            return Ok((hit.module.clone(), hit.kind));
        }
        let (module, kind) = self.load_uncached(engine).map_err(|e| {
            e.context(format!("wasmbake: cannot load plugin `{}` into this engine", self.source))
        })?;
        loaded.push(Loaded { engine: engine.clone(), module: module.clone(), kind });
        Ok((module, kind))
    }

    /// Drops the cached `Module` for `engine` (returns whether there was one).
    ///
    /// Clones handed out earlier stay valid. Once the last in-place clone is
    /// gone, the next load (for any engine) is in place again.
    pub fn evict(&self, engine: &Engine) -> bool {
        let mut loaded = self.lock();
        let before = loaded.len();
        loaded.retain(|l| !Engine::same(&l.engine, engine));
        loaded.len() != before
    }

    /// The cached modules, for rendering backtraces.
    pub(crate) fn is_loaded(&self, module: &Module) -> bool {
        self.lock().iter().any(|l| Module::same(&l.module, module))
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Loaded>> {
        // A panic while the lock was held cannot leave the vector inconsistent.
        self.loaded.lock().unwrap_or_else(|e| e.into_inner())
    }

    // Called with `self.loaded` locked, so in-place loads of this artifact are
    // serialised: two threads never race into `deserialize_raw`.
    fn load_uncached(&self, engine: &Engine) -> wasmtime::Result<(Module, LoadKind)> {
        if !code_memory::is_live_in_place(self.artifact) {
            code_memory::register_static(self.artifact);
            // SAFETY: the artifact is static, never written, and (by the
            // contract of `from_static_unchecked`) produced by
            // `precompile_module`; Wasmtime checks its compatibility with
            // `engine` before using it. No in-place module of this buffer is
            // alive (checked above, under this plugin's lock).
            let raw = unsafe { Module::deserialize_raw(engine, NonNull::from(self.artifact)) };
            match raw {
                Ok(module) if code_memory::is_live_in_place(self.artifact) => {
                    return Ok((module, LoadKind::InPlace));
                }
                Ok(module) => {
                    // The engine published the code through a code memory of
                    // its own: we cannot see when it is released, so keep the
                    // module alive for good rather than risk a second
                    // in-place load of the same buffer.
                    std::mem::forget(module.clone());
                    return Ok((module, LoadKind::InPlace));
                }
                // Incompatible engine, or one that cannot run code in place
                // (no wasmbake code memory): the copy below either works or
                // reports the incompatibility.
                Err(_) => {}
            }
        }
        // SAFETY: as above; `deserialize` copies the bytes first.
        let module = unsafe { Module::deserialize(engine, self.artifact)? };
        Ok((module, LoadKind::Copied))
    }
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded")
            .field("source", &self.source)
            .field("artifact_len", &self.artifact.len())
            .field("names", &self.names)
            .finish()
    }
}
