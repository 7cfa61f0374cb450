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
#[derive(Clone, Debug, Default)]
pub struct Builder {
    dirs: Vec<PathBuf>,
    modules: Vec<PathBuf>,
    target: Option<String>,
    cpu: Cpu,
}

/// What [`Builder::compile`] did for one plugin.
#[derive(Clone, Debug)]
pub struct Plugin {
    /// The static's name in the generated file (`GREET_V2`).
    pub name: String,
    /// The source file, as found (relative to the crate when given so).
    pub file: PathBuf,
    /// Whether the artifact came from the cache (nothing was compiled).
    pub cache_hit: bool,
}

/// Why baking failed: one line per problem, each naming its file.
#[derive(Debug)]
pub struct Error(Vec<String>);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("\n"))
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

    /// Bakes every plugin, writes `OUT_DIR/wasmbake_plugins.rs`, and prints
    /// the `cargo:` lines. Every failing plugin is reported, one line each.
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
        for plugin in &plugins {
            if !plugin.cache_hit {
                println!("cargo::warning=wasmbake: compiled {} ({})", plugin.file.display(), plugin.name);
            }
        }
        Ok(plugins)
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

        let options = wasmbake_compiler::Options { target: Some(target.to_owned()), cpu: self.cpu.clone() };
        let compiler =
            wasmbake_compiler::Compiler::new(&options).map_err(|e| Error(vec![format!("wasmbake: {e}")]))?;
        let results = bake_all(&files, manifest_dir, &compiler, cache);
        let mut source = String::from("// Generated by wasmbake-build. Do not edit.\n");
        let mut plugins = Vec::new();
        for ((name, file), result) in names.into_iter().zip(results) {
            match result {
                Ok(baked) => {
                    let display = file.to_string_lossy();
                    let expr = wasmbake_compiler::embed_expr(&baked, &display, "::wasmbake");
                    source.push_str(&format!(
                        "/// The plugin baked from `{display}`.\npub static {name}: ::wasmbake::Embedded = {expr};\n"
                    ));
                    plugins.push(Plugin { name, file, cache_hit: baked.cache_hit });
                }
                Err(e) => errors.push(format!("wasmbake: {}: {e}", file.display())),
            }
        }
        if !errors.is_empty() {
            return Err(Error(errors));
        }
        std::fs::write(out_dir.join(OUT_FILE), source).map_err(|e| {
            Error(vec![format!("wasmbake: cannot write {}: {e}", out_dir.join(OUT_FILE).display())])
        })?;
        Ok(plugins)
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

/// Bakes every file, in parallel on the available cores.
fn bake_all(
    files: &[PathBuf],
    manifest_dir: &Path,
    compiler: &wasmbake_compiler::Compiler,
    cache: &Path,
) -> Vec<Result<wasmbake_compiler::Baked, wasmbake_compiler::Error>> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<_> = files.iter().map(|_| None).collect();
    let done = std::sync::Mutex::new(&mut results);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let result = compiler.bake(&manifest_dir.join(file), &file.to_string_lossy(), cache);
                    done.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
                }
            });
        }
    });
    results.into_iter().map(|r| r.expect("every file is baked by one worker")).collect()
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
    fn errors_name_the_file_one_line_each() {
        let dir = temp("errors");
        std::fs::write(dir.join("plugins/bad.wat"), "(module (func i32.bogus))").unwrap();
        std::fs::write(dir.join("plugins/good.wat"), "(module)").unwrap();
        std::fs::write(dir.join("plugins/trunc.wasm"), b"\0asm\x01\0\0\0\x01").unwrap();
        let err = Builder::new().dir("plugins").compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c"));
        let lines: Vec<String> = err.unwrap_err().0;
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
