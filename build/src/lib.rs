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
//! // src/main.rs: one `pub static NAME: wasmbake::Embedded` per plugin,
//! // named from the file stem (`plugins/greet-v2.wasm` -> `GREET_V2`).
//! wasmbake::include_plugins!();
//! ```
//!
//! Plugins compile for Cargo's `TARGET` with wasmbake's portable CPU
//! baseline, in parallel. Every plugin file and folder is reported with
//! `cargo:rerun-if-changed`. Errors name the file, on one line.

#![deny(missing_docs)]

use std::fmt;
use std::path::{Path, PathBuf};

pub use wasmbake_compiler::Cpu;

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
    link_object: Option<bool>,
    link_object_threshold: u64,
    strict_names: bool,
    executable_segment: bool,
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
            link_object: None,
            link_object_threshold: DEFAULT_LINK_OBJECT_THRESHOLD,
            strict_names: false,
            executable_segment: false,
        }
    }
}

/// Artifacts at least this large (8 MiB) are linked as objects unless
/// [`Builder::link_object`] says otherwise.
///
/// Measured by `build/examples/link_object_cost.rs` (README, "Compile-time
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

/// Why baking failed: one line per problem, each naming its file.
pub struct Error(Vec<String>);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

/// The same lines as `Display`: a build script's `main` returning
/// `Result<(), Box<dyn Error>>` prints its error with `Debug`, and should
/// still show one plain line per plugin.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

fn env(name: &str) -> Result<String, Error> {
    std::env::var(name)
        .map_err(|_| Error(vec![format!("wasmbake-build: {name} is not set: call it from a build script")]))
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

    /// Also bakes each plugin for Pulley, Wasmtime's portable interpreter.
    /// When the host cannot run the native artifact (another architecture,
    /// missing CPU features), `Embedded::load` then returns the Pulley module
    /// instead of an error, and `Embedded::load_detailed` says so. The host
    /// crate needs wasmbake's `pulley` feature (a compile error says so).
    pub fn fallback_pulley(mut self, yes: bool) -> Builder {
        self.fallback_pulley = yes;
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
    /// included, is then mapped executable (never writable). README,
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

    /// Bakes every plugin, writes `OUT_DIR/wasmbake_plugins.rs` (see
    /// [`Builder::out_file`]), archives link objects, and prints the `cargo:`
    /// lines. Every failing plugin is reported, one line each.
    pub fn compile(self) -> Result<Vec<Plugin>, Error> {
        let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
        let out_dir = PathBuf::from(env("OUT_DIR")?);
        let target = match self.target.clone() {
            Some(target) => target,
            None => env("TARGET")?,
        };
        let plugins = self.compile_into(
            &manifest_dir,
            &out_dir,
            &target,
            &wasmbake_compiler::cache_dir(&manifest_dir),
        )?;
        // Warnings are for what needs attention: a successful compile says
        // nothing unless WASMBAKE_VERBOSE=1.
        println!("cargo::rerun-if-env-changed=WASMBAKE_VERBOSE");
        let verbose = std::env::var_os("WASMBAKE_VERBOSE").is_some_and(|v| v == "1");
        for plugin in &plugins {
            if let Some(problem) = &plugin.name_problem {
                println!("cargo::warning=wasmbake: {}: {problem}", plugin.file.display());
            }
            if verbose && !plugin.cache_hit {
                let pulley = if plugin.pulley { ", and its Pulley fallback" } else { "" };
                println!(
                    "cargo::warning=wasmbake: compiled {} ({}{pulley})",
                    plugin.file.display(),
                    plugin.name
                );
            }
        }
        let objects: Vec<&Path> = plugins.iter().filter_map(|p| p.object.as_deref()).collect();
        if !objects.is_empty() {
            // `cc` archives the objects into `lib<name>.a` (or `<name>.lib`)
            // with the target's archiver. The generated `extern` blocks link
            // it themselves (`#[link(kind = "static")]`), so it reaches every
            // crate target that includes the statics (a `rustc-link-lib`
            // line would only reach the package's library); they find it
            // through this search path.
            let mut archive = cc::Build::new();
            archive.objects(&objects).target(&target).cargo_metadata(false).cargo_warnings(false);
            archive
                .try_compile(&self.library_name(&target))
                .map_err(|e| Error(vec![format!("wasmbake: cannot archive link objects: {e}")]))?;
            println!("cargo::rustc-link-search=native={}", out_dir.display());
        }
        Ok(plugins)
    }

    /// The static library's name, also the prefix of its symbols:
    /// `wasmbake_<crate>_<hash>`, the hash of the crate's name and version,
    /// the output file and the target: unique to this crate and set, so two
    /// crates, or two sets in one crate, never collide; and the same wherever
    /// the crate is built (no path goes in, so builds are reproducible).
    fn library_name(&self, target: &str) -> String {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::hash::DefaultHasher::new();
        let var = |name| std::env::var(name).unwrap_or_default();
        (var("CARGO_PKG_NAME"), var("CARGO_PKG_VERSION"), &self.out_file, target).hash(&mut hasher);
        let krate: String = std::env::var("CARGO_PKG_NAME")
            .unwrap_or_default()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        format!("wasmbake_{krate}_{:016x}", hasher.finish())
    }

    /// [`Builder::compile`] with every input explicit (for tests and tools).
    pub fn compile_into(
        &self,
        manifest_dir: &Path,
        out_dir: &Path,
        target: &str,
        cache: &Path,
    ) -> Result<Vec<Plugin>, Error> {
        let files = self.files(manifest_dir)?;
        let mut errors = Vec::new();
        let mut names: Vec<(String, PathBuf)> = Vec::new();
        for file in &files {
            let name = static_name(file);
            if let Some((_, other)) = names.iter().find(|(n, _)| *n == name) {
                errors.push(format!(
                    "wasmbake: {} and {} would both be named {name}: rename one",
                    other.display(),
                    file.display()
                ));
            }
            names.push((name, file.clone()));
        }
        if !errors.is_empty() {
            return Err(Error(errors));
        }

        let compiler_err = |e: wasmbake_compiler::Error| Error(vec![format!("wasmbake: {}", e.one_line())]);
        let options = wasmbake_compiler::Options { target: Some(target.to_owned()), cpu: self.cpu.clone() };
        let native = wasmbake_compiler::Compiler::new(&options).map_err(compiler_err)?;
        let pulley = match self.fallback_pulley {
            false => None,
            true => {
                let target = wasmbake_compiler::pulley_target(target).map_err(compiler_err)?;
                let options = wasmbake_compiler::Options { target: Some(target), cpu: Cpu::Baseline };
                Some(wasmbake_compiler::Compiler::new(&options).map_err(compiler_err)?)
            }
        };
        let mut jobs: Vec<(&Path, &wasmbake_compiler::Compiler)> =
            files.iter().map(|f| (&**f, &native)).collect();
        if let Some(pulley) = &pulley {
            jobs.extend(files.iter().map(|f| (&**f, pulley)));
        }
        let mut results = bake_all(&jobs, manifest_dir, cache).into_iter();
        let natives: Vec<_> = results.by_ref().take(files.len()).collect();
        let pulleys: Vec<Option<_>> = match pulley {
            Some(_) => results.map(Some).collect(),
            None => files.iter().map(|_| None).collect(),
        };

        let krate = quote::quote!(::wasmbake);
        let mut items = proc_macro2::TokenStream::new();
        let mut plugins = Vec::new();
        for (((name, file), native), pulley) in names.into_iter().zip(natives).zip(pulleys) {
            let baked = match (native, pulley.transpose()) {
                (Ok(native), Ok(pulley)) => (native, pulley),
                (Err(e), _) | (_, Err(e)) => {
                    errors.push(format!("wasmbake: {}: {}", file.display(), e.one_line()));
                    continue;
                }
            };
            let (native, pulley) = baked;
            if let (true, Some(problem)) = (self.strict_names, &native.name_problem) {
                let message = problem.clone();
                let e =
                    wasmbake_compiler::Error::MalformedNames { file: file.display().to_string(), message };
                errors.push(format!("wasmbake: {}", e.one_line()));
                continue;
            }
            let display = file.to_string_lossy();
            let (linked, object) = match self.link(&native, &name, target, out_dir) {
                Ok(Some((linked, object))) => (Some(linked), Some(object)),
                Ok(None) => (None, None),
                Err(e) => {
                    errors.push(format!("wasmbake: {}: {e}", file.display()));
                    continue;
                }
            };
            let embedding = wasmbake_compiler::Embedding {
                baked: &native,
                file: &display,
                krate: &krate,
                linked: linked.as_ref(),
                pulley: pulley.as_ref(),
                executable: self.executable_segment,
            };
            let expr = match embedding.expr() {
                Ok(expr) => expr,
                Err(e) => {
                    errors.push(format!("wasmbake: {}: {}", file.display(), e.one_line()));
                    continue;
                }
            };
            let doc = format!(" The plugin baked from `{display}`.");
            let ident = proc_macro2::Ident::new(&name, proc_macro2::Span::call_site());
            items.extend(quote::quote! {
                #[doc = #doc]
                pub static #ident: ::wasmbake::Embedded = #expr;
            });
            let cache_hit = native.cache_hit && pulley.as_ref().is_none_or(|p| p.cache_hit);
            let name_problem = native.name_problem.clone();
            plugins.push(Plugin { name, file, cache_hit, name_problem, pulley: pulley.is_some(), object });
        }
        if !errors.is_empty() {
            return Err(Error(errors));
        }
        let out = out_dir.join(&self.out_file);
        std::fs::write(&out, generated_file(items))
            .map_err(|e| Error(vec![format!("wasmbake: cannot write {}: {e}", out.display())]))?;
        Ok(plugins)
    }

    /// Writes `OUT_DIR/<symbol>.o` for an artifact that is to be linked, and
    /// says how the generated code finds it.
    fn link(
        &self,
        baked: &wasmbake_compiler::Baked,
        name: &str,
        target: &str,
        out_dir: &Path,
    ) -> Result<Option<(wasmbake_compiler::LinkedArtifact, PathBuf)>, String> {
        let len = std::fs::metadata(&baked.artifact).map_err(|e| e.to_string())?.len();
        // An executable segment on a target where rustc's data cannot be put
        // in one (COFF) goes through an object whatever the settings.
        let must = self.executable_segment && wasmbake_compiler::executable_section(target).is_err();
        if !must && !self.link_object.unwrap_or(len >= self.link_object_threshold) {
            return Ok(None);
        }
        let library = self.library_name(target);
        let symbol = format!("{library}_{name}");
        let artifact = std::fs::read(&baked.artifact).map_err(|e| e.to_string())?;
        let object = wasmbake_compiler::link_object(target, &symbol, &artifact, self.executable_segment)
            .map_err(|e| e.to_string())?;
        let path = out_dir.join(format!("{symbol}.o"));
        std::fs::write(&path, object).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(Some((wasmbake_compiler::LinkedArtifact { library, symbol, len }, path)))
    }

    /// The plugin files, sorted, with `rerun-if-changed` lines printed.
    fn files(&self, manifest_dir: &Path) -> Result<Vec<PathBuf>, Error> {
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for dir in &self.dirs {
            println!("cargo::rerun-if-changed={}", manifest_dir.join(dir).display());
            match std::fs::read_dir(manifest_dir.join(dir)) {
                Ok(entries) => {
                    let mut found: Vec<PathBuf> = entries
                        .filter_map(|e| e.ok())
                        .map(|e| dir.join(e.file_name()))
                        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("wasm" | "wat")))
                        .collect();
                    found.sort();
                    files.extend(found);
                }
                Err(e) => {
                    errors.push(format!("wasmbake: plugin folder {}: {e}", manifest_dir.join(dir).display()))
                }
            }
        }
        files.extend(self.modules.iter().cloned());
        for file in &files {
            println!("cargo::rerun-if-changed={}", manifest_dir.join(file).display());
        }
        if errors.is_empty() { Ok(files) } else { Err(Error(errors)) }
    }
}

/// The generated file: the items, formatted (`prettyplease`) for a person
/// who opens `OUT_DIR/wasmbake_plugins.rs`.
fn generated_file(items: proc_macro2::TokenStream) -> String {
    let file: syn::File = syn::parse2(items).expect("the generated items parse as a file");
    format!(
        "// Generated by wasmbake-build from the plugins of this crate's build.rs. Do not edit.\n\n{}",
        prettyplease::unparse(&file)
    )
}

/// Bakes every (file, compiler) job, in parallel on the available cores.
fn bake_all(
    jobs: &[(&Path, &wasmbake_compiler::Compiler)],
    manifest_dir: &Path,
    cache: &Path,
) -> Vec<Result<wasmbake_compiler::Baked, wasmbake_compiler::Error>> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(jobs.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<_> = jobs.iter().map(|_| None).collect();
    let done = std::sync::Mutex::new(&mut results);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((file, compiler)) = jobs.get(i) else { break };
                    let result = compiler.bake(&manifest_dir.join(file), &file.to_string_lossy(), cache);
                    done.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
                }
            });
        }
    });
    results.into_iter().map(|r| r.expect("every job is run by one worker")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_names() {
        assert_eq!(static_name(Path::new("plugins/greet-v2.wasm")), "GREET_V2");
        assert_eq!(static_name(Path::new("a/b.c.wat")), "B_C");
        assert_eq!(static_name(Path::new("9lives.wasm")), "_9LIVES");
        assert_eq!(static_name(Path::new("héllo.wasm")), "H_LLO");
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wasmbake-build-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("plugins")).unwrap();
        std::fs::create_dir_all(dir.join("out")).unwrap();
        dir
    }

    const TARGET: &str = "x86_64-unknown-linux-gnu";

    #[test]
    fn second_build_recompiles_nothing_and_an_edit_recompiles_one() {
        let dir = temp("cache");
        std::fs::write(dir.join("plugins/a.wat"), "(module (func $a (export \"a\")))").unwrap();
        std::fs::write(dir.join("plugins/b-2.wat"), "(module (func $b (export \"b\")))").unwrap();
        std::fs::write(dir.join("plugins/notes.txt"), "not a plugin").unwrap();
        let builder = Builder::new().dir("plugins");
        let build = || builder.compile_into(&dir, &dir.join("out"), TARGET, &dir.join("cache")).unwrap();

        let first = build();
        assert_eq!(first.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["A", "B_2"]);
        assert!(first.iter().all(|p| !p.cache_hit));
        let generated = std::fs::read_to_string(dir.join("out").join(OUT_FILE)).unwrap();
        assert!(generated.contains("pub static A: ::wasmbake::Embedded ="));
        assert!(generated.contains("pub static B_2: ::wasmbake::Embedded ="));

        assert!(build().iter().all(|p| p.cache_hit), "an unchanged build recompiled something");

        std::fs::write(dir.join("plugins/b-2.wat"), "(module (func $b2 (export \"b\")))").unwrap();
        let third = build();
        assert!(third[0].cache_hit);
        assert!(!third[1].cache_hit);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_threshold_picks_link_objects_unless_told_otherwise() {
        let dir = temp("threshold");
        std::fs::write(dir.join("plugins/p.wat"), "(module (func $f (export \"f\")))").unwrap();
        let objects = |builder: Builder| -> Vec<bool> {
            let plugins = builder.compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c")).unwrap();
            plugins.iter().map(|p| p.object.as_ref().is_some_and(|o| o.is_file())).collect()
        };
        let builder = || Builder::new().dir("plugins");
        assert_eq!(objects(builder()), [false], "a tiny artifact is below the default threshold");
        assert_eq!(objects(builder().link_object_threshold(1)), [true]);
        assert_eq!(objects(builder().link_object_threshold(1).link_object(false)), [false]);
        assert_eq!(objects(builder().link_object(true)), [true]);
        // An executable segment for COFF can only be linked.
        let windows = |builder: Builder| -> Vec<bool> {
            let out = dir.join("out-windows");
            std::fs::create_dir_all(&out).unwrap();
            let plugins = builder.compile_into(&dir, &out, "x86_64-pc-windows-msvc", &dir.join("c")).unwrap();
            plugins.iter().map(|p| p.object.as_ref().is_some_and(|o| o.is_file())).collect()
        };
        assert_eq!(windows(builder().executable_segment(true).link_object(false)), [true]);
        assert_eq!(windows(builder().executable_segment(false)), [false]);
        let generated = std::fs::read_to_string(dir.join("out").join(OUT_FILE)).unwrap();
        assert!(generated.contains("#[link_name"), "a linked plugin is declared as an extern static");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Every kind of bad plugin in one folder: one line each, all of them in
    /// one run, each naming its file; nothing written.
    #[cfg(unix)]
    #[test]
    fn every_bad_plugin_of_a_folder_is_reported_in_one_run() {
        use std::os::unix::ffi::OsStrExt;
        let dir = temp("every-bad");
        let plugins = dir.join("plugins");
        let valid = wat::parse_str("(module (func (export \"f\") (result i32) i32.const 1))").unwrap();
        let files: Vec<(&str, Vec<u8>)> = vec![
            ("body.wat", b"(module (func (result i32) i64.const 1))".to_vec()),
            ("component.wat", b"(component)".to_vec()),
            ("empty.wasm", Vec::new()),
            ("feature.wat", b"(module (memory 1 (pagesize 1)))".to_vec()),
            ("magic.wasm", b"\0asX\x01\0\0\0".to_vec()),
            ("text.wat", b"(module (func i32.bogus))".to_vec()),
            ("truncated.wasm", valid[..valid.len() - 4].to_vec()),
            ("version.wasm", b"\0asm\x02\0\0\0".to_vec()),
        ];
        for (name, bytes) in &files {
            std::fs::write(plugins.join(name), bytes).unwrap();
        }
        std::fs::create_dir(plugins.join("dir.wasm")).unwrap();
        std::os::unix::fs::symlink("loop.wasm", plugins.join("loop.wasm")).unwrap();
        let non_utf8 = plugins.join(std::ffi::OsStr::from_bytes(b"caf\xe9.wat"));
        std::fs::write(&non_utf8, "(module)").unwrap();
        std::fs::write(plugins.join("good.wat"), "(module)").unwrap();

        let builder = Builder::new().dir("plugins").module("plugins/../plugins/nope.wasm");
        let lines = builder.compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c")).unwrap_err().0;
        let expect = [
            ("plugins/body.wat", "invalid WebAssembly in plugins/body.wat at byte offset"),
            ("plugins/caf\u{fffd}.wat", "the path is not valid UTF-8"),
            ("plugins/component.wat", "is a WebAssembly component"),
            ("plugins/dir.wasm", "Is a directory"),
            ("plugins/empty.wasm", "is an empty file"),
            (
                "plugins/feature.wat",
                "uses a WebAssembly feature that wasmbake's Wasmtime configuration does not enable",
            ),
            ("plugins/loop.wasm", "Too many levels of symbolic links"),
            ("plugins/magic.wasm", "at byte offset 0x0: magic header not detected"),
            ("plugins/text.wat", "invalid WebAssembly text"),
            ("plugins/truncated.wasm", "unexpected end-of-file"),
            ("plugins/version.wasm", "at byte offset 0x4: unknown binary version"),
            ("plugins/../plugins/nope.wasm", "wasm file not found"),
        ];
        assert_eq!(lines.len(), expect.len(), "{lines:#?}");
        for (line, (file, message)) in lines.iter().zip(expect) {
            assert!(line.starts_with(&format!("wasmbake: {file}: ")), "{line}");
            assert!(line.contains(message), "{line} lacks {message:?}");
            assert!(!line.contains('\n'), "one line each: {line}");
        }
        assert!(!dir.join("out").join(OUT_FILE).exists(), "no output after an error");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A malformed name section: a warning line and the readable names by
    /// default, an error in strict mode.
    #[test]
    fn malformed_names_warn_or_fail_in_strict_mode() {
        let dir = temp("names");
        // Names for functions 0 and 9 of a two-function module: 9 is skipped.
        std::fs::write(
            dir.join("plugins/named.wat"),
            r#"(module (func) (func) (@custom "name" (after code) "\01\07\02\00\01a\09\01z"))"#,
        )
        .unwrap();
        let plugins = Builder::new()
            .dir("plugins")
            .compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c"))
            .unwrap();
        let problem = plugins[0].name_problem.as_deref().unwrap();
        assert!(problem.contains("function index 9 is out of range"), "{problem}");
        // The same from the cache.
        let plugins = Builder::new()
            .dir("plugins")
            .compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c"))
            .unwrap();
        assert!(plugins[0].cache_hit && plugins[0].name_problem.as_deref() == Some(problem));

        let strict = Builder::new().dir("plugins").strict_names(true);
        let lines = strict.compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c")).unwrap_err().0;
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("wasmbake: plugins/named.wat: malformed name section: function index 9")
        );
        assert!(lines[0].ends_with("(strict mode)"), "{}", lines[0]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn errors_name_the_file_one_line_each() {
        let dir = temp("errors");
        std::fs::write(dir.join("plugins/bad.wat"), "(module (func i32.bogus))").unwrap();
        std::fs::write(dir.join("plugins/good.wat"), "(module)").unwrap();
        std::fs::write(dir.join("plugins/trunc.wasm"), b"\0asm\x01\0\0\0\x01").unwrap();
        let err = Builder::new().dir("plugins").compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c"));
        let err = err.unwrap_err();
        assert_eq!(format!("{err:?}"), err.to_string(), "`main` returning Err prints Debug: plain lines too");
        let lines: Vec<String> = err.0;
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with("wasmbake: plugins/bad.wat: invalid WebAssembly text"), "{}", lines[0]);
        assert!(lines[1].starts_with("wasmbake: plugins/trunc.wasm: invalid WebAssembly"), "{}", lines[1]);
        assert!(!dir.join("out").join(OUT_FILE).exists(), "no output after an error");

        let err = Builder::new().module("plugins/good.wat").module("other/good.wasm");
        std::fs::create_dir_all(dir.join("other")).unwrap();
        std::fs::copy(dir.join("plugins/trunc.wasm"), dir.join("other/good.wasm")).unwrap();
        let lines = err.compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c")).unwrap_err().0;
        assert_eq!(
            lines,
            ["wasmbake: plugins/good.wat and other/good.wasm would both be named GOOD: rename one"]
        );

        let missing = Builder::new().dir("nope").compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c"));
        assert!(missing.unwrap_err().to_string().starts_with("wasmbake: plugin folder "));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
