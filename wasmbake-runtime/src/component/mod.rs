//! [`EmbeddedComponent`]: one baked component (artifact + name tables) and
//! its loading, with the guarantees of [`crate::Embedded`]: in place, code
//! published without ever being writable, one live in-place load per
//! artifact, the same memory-image policy, the Pulley fallback where one
//! was baked.

mod names;
mod trap;

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::config::CodeSettings;
use crate::image::{self, MemoryImage};
use crate::load::{Artifacts, BackingFile, Cache, LoadKind, Loaded, native_only, settings_hint};

pub use names::{ComponentNames, CoreModuleNames};

/// A WebAssembly component baked into the binary by
/// `wasmbake::include_component!`: a precompiled Wasmtime artifact and one
/// function-name table per core module, in static read-only memory.
pub struct EmbeddedComponent {
    source: &'static str,
    artifact: &'static [u8],
    pulley: Option<&'static [u8]>,
    names: ComponentNames<'static>,
    /// The artifact's memory-image data: (offset, length) within `artifact`.
    data_image: Option<(usize, usize)>,
    /// The artifact's code lies in pages mapped executable (never writable).
    executable: bool,
    /// What the artifacts were compiled with that an engine must match.
    settings: CodeSettings,
    /// An executable file that describes the artifact, to load it from.
    file: Option<BackingFile>,
    /// The plugin's descriptor, in its section for `wasmbake inspect`:
    /// held so that the linker keeps it, never read here.
    #[allow(dead_code)]
    descriptor: &'static [u8],
    cache: Cache<Component>,
}

impl EmbeddedComponent {
    /// Used by the code `include_component!` generates.
    ///
    /// # Safety
    ///
    /// `artifact` must be the unmodified output of
    /// `Engine::precompile_component` by wasmbake's compiler for this
    /// wasmbake version (`pulley`: for the target `PULLEY_TARGET`), aligned
    /// to 64 KiB, and `names` must satisfy
    /// [`ComponentNames::from_static_unchecked`].
    #[doc(hidden)]
    pub const unsafe fn from_static_unchecked(
        source: &'static str,
        artifact: &'static [u8],
        names: ComponentNames<'static>,
        pulley: Option<&'static [u8]>,
    ) -> EmbeddedComponent {
        EmbeddedComponent {
            source,
            artifact,
            pulley,
            names,
            data_image: None,
            executable: false,
            settings: CodeSettings::DEFAULT,
            file: None,
            descriptor: &[],
            cache: Cache::new(),
        }
    }

    /// A component over an artifact the program mapped itself at run time
    /// (from a file, as `wasmbake exe` outputs do), rather than one baked by
    /// `include_component!`; as [`crate::Embedded::from_mapped`].
    ///
    /// # Safety
    ///
    /// * `artifact` is the unmodified output of this version of wasmbake's
    ///   compiler for a component (`wasmbake_compiler::bake_as`) for this
    ///   host;
    /// * it starts at a 64 KiB-aligned address;
    /// * it is never written, moved or unmapped for the life of the process;
    /// * `names` came from [`ComponentNames::parse`] or from the same bake.
    pub const unsafe fn from_mapped(
        source: &'static str,
        artifact: &'static [u8],
        names: ComponentNames<'static>,
    ) -> EmbeddedComponent {
        // SAFETY: the same contract, stated above.
        unsafe { EmbeddedComponent::from_static_unchecked(source, artifact, names, None) }
    }

    /// Where the artifact holds its memory images' data (as
    /// [`crate::Embedded::with_data_image`]).
    pub const fn with_data_image(mut self, offset: usize, len: usize) -> EmbeddedComponent {
        self.data_image = Some((offset, len));
        self
    }

    /// The artifact lies in pages already mapped readable and executable (as
    /// [`crate::Embedded::with_executable_segment`]).
    ///
    /// # Safety
    ///
    /// Every page of the artifact's code must be mapped readable and
    /// executable, and never writable, for the life of the process.
    pub const unsafe fn with_executable_segment(mut self) -> EmbeddedComponent {
        self.executable = true;
        self
    }

    /// The executable file at `path` also describes the artifact, at file
    /// offset `artifact_at` in it (as [`crate::Embedded::with_backing_file`]):
    /// the component is loaded from the file, its core modules' memory
    /// images mapped from it.
    ///
    /// # Safety
    ///
    /// As [`crate::Embedded::with_backing_file`].
    pub const unsafe fn with_backing_file(
        mut self,
        path: &'static std::path::Path,
        artifact_at: u64,
    ) -> EmbeddedComponent {
        self.file = Some(BackingFile { path, artifact_at });
        self
    }

    /// The component was baked with these [`CodeSettings`] (as
    /// [`crate::Embedded::with_code_settings`]).
    pub const fn with_code_settings(mut self, settings: CodeSettings) -> EmbeddedComponent {
        self.settings = settings;
        self
    }

    /// What the component was baked with that changes its compiled code.
    pub fn code_settings(&self) -> CodeSettings {
        self.settings
    }

    /// The process-wide engine for this component's [`CodeSettings`] (as
    /// [`crate::Embedded::engine`]); [`EmbeddedComponent::command`] uses it.
    pub fn engine(&self) -> wasmtime::Result<Engine> {
        crate::config::engine_for(self.settings)
    }

    /// Used by the generated code: the plugin's descriptor, in its section.
    #[doc(hidden)]
    pub const fn with_descriptor(mut self, descriptor: &'static [u8]) -> EmbeddedComponent {
        self.descriptor = descriptor;
        self
    }

    /// The path the component was baked from, as written in the macro call.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// The baked Wasmtime artifact (what `Engine::precompile_component`
    /// produced).
    pub fn artifact(&self) -> &'static [u8] {
        self.artifact
    }

    /// The Pulley artifact baked beside the native one
    /// (`wasmbake_build::Builder::fallback_pulley`), if any.
    pub fn pulley_artifact(&self) -> Option<&'static [u8]> {
        self.pulley
    }

    /// The function names of the component's core modules, from static
    /// memory.
    pub fn names(&self) -> &ComponentNames<'static> {
        &self.names
    }

    /// Whether the artifact lies in an executable segment of the binary.
    pub fn in_executable_segment(&self) -> bool {
        self.executable
    }

    /// Loads the component into `engine`: in place (no copy, no
    /// compilation) the first time, a clone of the same [`Component`]
    /// afterwards. One `Component` is cached per engine; another engine
    /// asking while the in-place one is alive gets a copy. Safe to call from
    /// many threads at once.
    ///
    /// `engine` must have the component model, as [`crate::engine`] does
    /// when the `component` feature is on. The component always belongs to
    /// `engine`.
    ///
    /// # Errors
    ///
    /// When the engine's settings do not match the artifact's (another
    /// Wasmtime, another configuration, no component model, another
    /// architecture), with Wasmtime's description of the difference. When
    /// only the component's Pulley fallback can run here, the error says
    /// so: take it with [`EmbeddedComponent::load_detailed`].
    pub fn load(&self, engine: &Engine) -> wasmtime::Result<Component> {
        self.load_native(engine).map(Loaded::into_component)
    }

    /// [`EmbeddedComponent::load`], also telling whether the component runs
    /// in place.
    pub fn load_with_kind(&self, engine: &Engine) -> wasmtime::Result<(Component, LoadKind)> {
        self.load_native(engine).map(|l| {
            let kind = l.kind();
            (l.into_component(), kind)
        })
    }

    fn load_native(&self, engine: &Engine) -> wasmtime::Result<Loaded<Component>> {
        native_only(self.load_detailed(engine)?, engine, "component", self.source)
    }

    /// Loads the component, falling back to its Pulley artifact (baked with
    /// `wasmbake_build::Builder::fallback_pulley`) when the native one
    /// cannot run here, and tells how it was made, as
    /// [`crate::Embedded::load_detailed`]. After a fallback the component
    /// belongs to [`crate::pulley_engine`]: make stores and linkers with
    /// [`Loaded::engine`], which is right in every case.
    pub fn load_detailed(&self, engine: &Engine) -> wasmtime::Result<Loaded<Component>> {
        self.load_with(engine, MemoryImage::Auto)
    }

    /// [`EmbeddedComponent::load_detailed`], choosing when the core
    /// modules' memory images are made (the choice matters only the first
    /// time the component is loaded into `engine`).
    pub fn load_with(&self, engine: &Engine, image: MemoryImage) -> wasmtime::Result<Loaded<Component>> {
        let context = |e: wasmtime::Error| {
            let hint = settings_hint(&format!("{e:#}"), self.settings).unwrap_or_default();
            e.context(format!("wasmbake: cannot load component `{}` into this engine{hint}", self.source))
        };
        let prepare = |component: &Component, kind| {
            image::prepare(
                || component.initialize_copy_on_write_image(),
                self.artifact,
                self.data_image,
                image,
                kind == LoadKind::InPlace,
                true,
            )
        };
        let artifacts = Artifacts {
            native: self.artifact,
            pulley: self.pulley,
            executable: self.executable,
            settings: self.settings,
            file: self.file,
        };
        self.cache.load(artifacts, engine, context, prepare)
    }

    /// Drops the cached `Component` for `engine` (returns whether there was
    /// one). Once the last in-place clone is gone, the next load is in
    /// place again.
    pub fn evict(&self, engine: &Engine) -> bool {
        self.cache.evict(engine)
    }
}

impl std::fmt::Debug for EmbeddedComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedComponent")
            .field("source", &self.source)
            .field("artifact_len", &self.artifact.len())
            .field("pulley_artifact_len", &self.pulley.map(<[u8]>::len))
            .field("data_image", &self.data_image)
            .field("executable", &self.executable)
            .field("settings", &self.settings)
            .field("file", &self.file)
            .field("names", &self.names)
            .finish()
    }
}
