//! [`Embedded`]: one baked plugin (artifact + name table) and its loading.

use wasmtime::{Engine, Module};

use crate::code_memory;
use crate::config::CodeSettings;
use crate::image::{self, MemoryImage};
use crate::load::{Artifacts, BackingFile, Cache, LoadKind, Loaded, native_only, settings_hint};
use crate::names::Names;

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
    /// What the artifacts were compiled with that an engine must match.
    settings: CodeSettings,
    /// An executable file that describes the artifact, to load it from.
    file: Option<BackingFile>,
    /// The plugin's descriptor (`wasmbake_compiler::descriptor`), in a
    /// section of its own for `wasmbake inspect`: held so that the linker
    /// keeps it, never read here.
    #[allow(dead_code)]
    descriptor: &'static [u8],
    cache: Cache<Module>,
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
            settings: CodeSettings::DEFAULT,
            file: None,
            descriptor: &[],
            cache: Cache::new(),
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

    /// The executable file at `path` also describes the artifact, which lies
    /// at file offset `artifact_at` in it: its ELF file header and section
    /// table are the artifact's, rebased to that offset, as `wasmbake exe`
    /// writes them for one of its programs. The plugin is then loaded from
    /// the file, as Wasmtime loads a `.cwasm` file ([`LoadKind::FromFile`]):
    /// its memory images are mapped from the file instead of being copied
    /// into memory first, and its code is mapped readable and executable
    /// from the file (never writable, so also in hardened processes). When
    /// that load fails, the plugin loads as it would without the file.
    ///
    /// # Safety
    ///
    /// The file at `path` describes this artifact as stated, and it is
    /// never modified while the process runs (the running executable,
    /// `/proc/self/exe`, which the kernel keeps from being written).
    pub const unsafe fn with_backing_file(
        mut self,
        path: &'static std::path::Path,
        artifact_at: u64,
    ) -> Embedded {
        self.file = Some(BackingFile { path, artifact_at });
        self
    }

    /// The plugin was baked with these [`CodeSettings`] (the macro's
    /// `epoch_interruption` and `consume_fuel` options), which an engine
    /// must match; artifacts mapped with [`Embedded::from_mapped`] say so
    /// here.
    pub const fn with_code_settings(mut self, settings: CodeSettings) -> Embedded {
        self.settings = settings;
        self
    }

    /// What the plugin was baked with that changes its compiled code (see
    /// [`CodeSettings`]).
    pub fn code_settings(&self) -> CodeSettings {
        self.settings
    }

    /// The process-wide engine for this plugin's [`CodeSettings`]:
    /// [`crate::engine`]'s configuration with those settings, one per
    /// distinct set, shared by every plugin baked the same way. One binary
    /// can hold plugins baked with different settings; each loads into its
    /// own `engine()`. [`Embedded::command`] uses it.
    pub fn engine(&self) -> wasmtime::Result<Engine> {
        crate::config::engine_for(self.settings)
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
        self.load_native(engine).map(|l| {
            let kind = l.kind();
            (l.into_module(), kind)
        })
    }

    /// [`Embedded::load_detailed`], refusing a fallback (whose module would
    /// belong to another engine than `engine`).
    fn load_native(&self, engine: &Engine) -> wasmtime::Result<Loaded> {
        native_only(self.load_detailed(engine)?, engine, "plugin", self.source)
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
        let context = |e: wasmtime::Error| {
            // Refused executable memory that wasmbake's code memory did not
            // explain (an engine of other settings): say what would work.
            // (Other errors, such as a foreign architecture, get no hint.)
            let text = format!("{e:#}");
            let refused = text.contains("executable")
                && (text.contains("Permission denied") || text.contains("Operation not permitted"));
            let hint = match refused && !text.contains("Hardened hosts") {
                true => code_memory::exec_gain_hint(self.executable),
                false => settings_hint(&text, self.settings),
            };
            e.context(format!(
                "wasmbake: cannot load plugin `{}` into this engine{}",
                self.source,
                hint.unwrap_or_default()
            ))
        };
        let prepare = |module: &Module, kind| {
            image::prepare(
                || module.initialize_copy_on_write_image(),
                self.artifact,
                self.data_image,
                image,
                kind == LoadKind::InPlace,
                release,
            )
        };
        self.cache.load(self.artifacts(), engine, context, prepare)
    }

    fn artifacts(&self) -> Artifacts {
        Artifacts {
            native: self.artifact,
            pulley: self.pulley,
            executable: self.executable,
            settings: self.settings,
            file: self.file,
        }
    }

    /// Drops the cached `Module` for `engine` (returns whether there was one).
    ///
    /// Clones handed out earlier stay valid. Once the last in-place clone is
    /// gone, the next load (for any engine) is in place again.
    pub fn evict(&self, engine: &Engine) -> bool {
        self.cache.evict(engine)
    }

    /// The cached modules, for rendering backtraces.
    pub(crate) fn is_loaded(&self, module: &Module) -> bool {
        self.cache.any(|m| Module::same(m, module))
    }
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded")
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
