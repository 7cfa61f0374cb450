//! Baking: a plugin file to a cached artifact and name table, through a
//! [`Compiler`] shared by every plugin of the same options.

use std::hash::Hash;
use std::path::{Path, PathBuf};

use siphasher::sip128::{Hasher128, SipHasher13};
use wasmtime::Engine;

use crate::config::{CodeSettings, component_engine, cpu_flags, engine};
use crate::front_end::{compile_error, module_bytes, read, validate_as};
use crate::{
    Error, Kind, NameTable, Options, cache, component, component_names, data_image, strip_name_section,
};

/// Version of what [`bake`] writes; part of every cache key.
const FORMAT: &str = "wasmbake-artifact-v1";

/// A baked plugin: two files in the cache.
#[derive(Clone, Debug)]
pub struct Baked {
    /// The source file that was baked (absolute).
    pub source: PathBuf,
    /// The Wasmtime artifact (`Engine::precompile_module` output).
    pub artifact: PathBuf,
    /// The encoded name table (see [`crate::names`]); a component's: one
    /// per core module (see [`crate::component_names`]).
    pub names: PathBuf,
    /// A core module or a component.
    pub kind: Kind,
    /// Whether both came from the cache, without compiling.
    pub cache_hit: bool,
    /// Where the artifact holds the module's initial linear-memory data (its
    /// `.rodata.wasm` section, page-aligned): what Wasmtime makes each
    /// memory's copy-on-write image of. `None` when the module has none.
    pub data_image: Option<std::ops::Range<u64>>,
    /// What was wrong with the module's `name` section, on one line (see
    /// [`NameTable::read`]): the readable names are in the table, and the
    /// caller reports this (or, in strict mode, fails).
    pub name_problem: Option<String>,
    /// The target triple the artifact was compiled for.
    pub target: String,
    /// The Cranelift CPU flags it was compiled with, comma-separated.
    pub cpu: String,
    /// The settings it was compiled with that an engine must match.
    pub settings: CodeSettings,
}

/// Bakes `source` (absolute path; `file` is how to call it in messages) into
/// `cache`, or finds it there. To bake several plugins with the same options,
/// make one [`Compiler`] and call [`Compiler::bake`] instead.
pub fn bake(source: &Path, file: &str, options: &Options, cache: &Path) -> Result<Baked, Error> {
    bake_as(source, file, options, cache, Some(Kind::Module))
}

/// [`bake`] of a core module or a component (see [`Compiler::bake_kind`]).
pub fn bake_as(
    source: &Path,
    file: &str,
    options: &Options,
    cache: &Path,
    expected: Option<Kind>,
) -> Result<Baked, Error> {
    let bytes = read(source)?;
    Compiler::new(options)?.bake_kind(source, &bytes, file, cache, expected)
}

/// A compiling engine and the options-dependent part of the cache key, made
/// once and shared by every plugin baked with the same [`Options`] (it is
/// `Sync`: threads may bake through one `Compiler`).
pub struct Compiler {
    engine: Engine,
    /// The same settings with the component model, for components.
    components: Engine,
    target: String,
    /// The enabled CPU flags, comma-separated (for descriptors).
    cpu: String,
    settings: CodeSettings,
    preinit: Option<crate::Preinit>,
    /// The cache-key hasher fed with everything but the module bytes (and
    /// the files pre-initialisation reads).
    key: SipHasher13,
}

impl Compiler {
    /// The engine for `options` (see [`engine`]) and its cache-key prefix.
    pub fn new(options: &Options) -> Result<Compiler, Error> {
        let engine = engine(options)?;
        let components = component_engine(options)?;
        let mut key = SipHasher13::new();
        FORMAT.hash(&mut key);
        env!("CARGO_PKG_VERSION").hash(&mut key);
        options.target().hash(&mut key);
        options.cpu.hash(&mut key);
        options.settings.hash(&mut key);
        engine.precompile_compatibility_hash().hash(&mut key);
        components.precompile_compatibility_hash().hash(&mut key);
        name_table_fingerprint()?.hash(&mut key);
        let target = options.target();
        let cpu = cpu_flags(&target, &options.cpu).join(",");
        options.preinit.hash(&mut key);
        Ok(Compiler {
            engine,
            components,
            key,
            target,
            cpu,
            settings: options.settings,
            preinit: options.preinit.clone(),
        })
    }

    /// [`bake`] with this compiler's options.
    pub fn bake(&self, source: &Path, file: &str, cache: &Path) -> Result<Baked, Error> {
        self.bake_bytes(source, &read(source)?, file, cache)
    }

    /// [`bake_as`] with this compiler's options.
    pub fn bake_as(
        &self,
        source: &Path,
        file: &str,
        cache: &Path,
        expected: Option<Kind>,
    ) -> Result<Baked, Error> {
        self.bake_kind(source, &read(source)?, file, cache, expected)
    }

    /// `wasm` (binary) precompiled as it is, name section included: what an
    /// application without wasmbake would ship (`wasmbake inspect` shows
    /// what stripping the names saves).
    pub fn precompile_unstripped(&self, wasm: &[u8], file: &str) -> Result<Vec<u8>, Error> {
        self.engine.precompile_module(wasm).map_err(|e| compile_error(e, file))
    }

    /// [`Compiler::bake`] of `bytes` already read from `source` (which
    /// names the cache entry and [`Baked::source`]; `file` names the module
    /// in errors).
    pub fn bake_bytes(&self, source: &Path, bytes: &[u8], file: &str, cache: &Path) -> Result<Baked, Error> {
        self.bake_kind(source, bytes, file, cache, Some(Kind::Module))
    }

    /// [`Compiler::bake_bytes`] of a core module or a component:
    /// `expected` is the kind the caller takes (the other is an error that
    /// names the right macro), or `None` for either (a folder of plugins).
    pub fn bake_kind(
        &self,
        source: &Path,
        bytes: &[u8],
        file: &str,
        cache: &Path,
        expected: Option<Kind>,
    ) -> Result<Baked, Error> {
        // The generated code names the source file (`include_bytes!`), and
        // Rust string literals are UTF-8.
        if source.to_str().is_none() {
            return Err(Error::NonUtf8Path { path: source.to_owned() });
        }
        let mut hasher = self.key;
        bytes.hash(&mut hasher);
        expected.hash(&mut hasher);
        if let Some(preinit) = &self.preinit {
            preinit.hash_files(&mut hasher, file)?;
        }
        let key = format!("{:032x}", hasher.finish128().as_u128());
        let stem = source.file_stem().and_then(|s| s.to_str()).unwrap_or("plugin");
        let entry = cache::Entry::new(cache, stem, key);
        let baked = |meta: cache::Meta, cache_hit| Baked {
            source: source.to_owned(),
            artifact: entry.artifact.clone(),
            names: entry.names.clone(),
            kind: meta.kind,
            cache_hit,
            data_image: meta.data_image,
            name_problem: meta.name_problem,
            target: self.target.clone(),
            cpu: self.cpu.clone(),
            settings: self.settings,
        };
        if let Some(meta) = entry.verified() {
            return Ok(baked(meta, true));
        }

        let wasm = module_bytes(bytes, file)?;
        let kind = expected.unwrap_or_else(|| Kind::of(&wasm));
        validate_as(&wasm, file, kind)?;
        let wasm = match (&self.preinit, kind) {
            (Some(preinit), Kind::Module) => crate::preinitialize(&wasm, file, preinit)?,
            (Some(_), Kind::Component) => {
                return Err(Error::Preinit {
                    file: file.to_owned(),
                    message: "it is a component, and pre-initialisation takes core modules".to_owned(),
                });
            }
            (None, _) => wasm,
        };
        let done = match kind {
            Kind::Module => {
                let read = NameTable::read(&wasm);
                let names = read.table.encode()?;
                let stripped = strip_name_section(&wasm);
                let artifact =
                    self.engine.precompile_module(&stripped).map_err(|e| compile_error(e, file))?;
                Precompiled { artifact, names, name_problem: read.summary() }
            }
            Kind::Component => self.precompile_component(&wasm, file)?,
        };
        let meta = cache::Meta {
            data_image: data_image(done.artifact.as_slice()),
            name_problem: done.name_problem,
            kind,
        };
        entry.write(cache, &done.artifact, &done.names, &meta)?;
        Ok(baked(meta, false))
    }

    /// A component's artifact, its name tables, and the first problem with
    /// a core module's `name` section (naming the module by its index).
    fn precompile_component(&self, wasm: &[u8], file: &str) -> Result<Precompiled, Error> {
        // (Validated: both parses below succeed.)
        let invalid = |e: wasmparser::BinaryReaderError| Error::InvalidWasm {
            file: file.to_owned(),
            message: crate::one_line(e.message()),
            offset: e.offset(),
        };
        let mut problem = None;
        let mut tables = Vec::new();
        for (index, range) in component::core_modules(wasm).map_err(invalid)?.into_iter().enumerate() {
            let read = NameTable::read(&wasm[range.clone()]);
            if let (None, Some(summary)) = (&problem, read.summary()) {
                problem = Some(format!("core module {index}: {summary}"));
            }
            tables.push((range, read.table));
        }
        let names = component_names::encode(&tables)?;
        let blanked = component::blank_name_sections(wasm).map_err(invalid)?;
        let artifact = self.components.precompile_component(&blanked).map_err(|e| compile_error(e, file))?;
        Ok(Precompiled { artifact, names, name_problem: problem })
    }
}

/// What compiling a plugin gives: the two files of its cache entry, and
/// what was wrong with its names.
struct Precompiled {
    artifact: Vec<u8>,
    names: Vec<u8>,
    name_problem: Option<String>,
}

/// The encoding of a fixed sample table: any change to the name-table format
/// changes it, and with it every cache key, so a cached table is never read
/// with a reader of another layout.
fn name_table_fingerprint() -> Result<Vec<u8>, Error> {
    let sample = NameTable {
        module: Some("m".to_owned()),
        functions: [(0, "a"), (1, "b"), (7, "a"), (9, "é")].map(|(i, n)| (i, n.to_owned())).into(),
    };
    sample.encode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cpu;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wasmbake-compiler-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    const PLUGIN: &str = r#"(module $p (func $answer (export "answer") (result i32) i32.const 42))"#;

    #[test]
    fn unchanged_plugin_is_a_cache_hit_and_an_edit_is_a_miss() {
        let dir = temp_dir("cache");
        let (source, cache) = (dir.join("p.wat"), dir.join("cache"));
        std::fs::write(&source, PLUGIN).unwrap();
        let first = bake(&source, "p.wat", &Options::default(), &cache).unwrap();
        assert!(!first.cache_hit);
        let artifact = std::fs::read(&first.artifact).unwrap();

        let second = bake(&source, "p.wat", &Options::default(), &cache).unwrap();
        assert!(second.cache_hit, "an unchanged plugin must not be recompiled");
        assert_eq!(second.artifact, first.artifact);
        assert_eq!(std::fs::read(&second.artifact).unwrap(), artifact);

        std::fs::write(&source, PLUGIN.replace("42", "43")).unwrap();
        let third = bake(&source, "p.wat", &Options::default(), &cache).unwrap();
        assert!(!third.cache_hit, "an edited plugin must be recompiled");
        assert_ne!(third.artifact, first.artifact);

        let other_cpu = Options { cpu: Cpu::Flags(vec!["has_avx2".into()]), ..Options::default() };
        assert!(
            !bake(&source, "p.wat", &other_cpu, &cache).unwrap().cache_hit,
            "CPU flags are part of the key"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn concurrent_bakes_into_one_cache_agree() {
        let dir = temp_dir("race");
        let (source, cache) = (dir.join("p.wat"), dir.join("cache"));
        std::fs::write(&source, PLUGIN).unwrap();
        let baked: Vec<Baked> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| bake(&source, "p.wat", &Options::default(), &cache).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let artifact = std::fs::read(&baked[0].artifact).unwrap();
        assert!(artifact.starts_with(b"\x7fELF"));
        for b in &baked {
            assert_eq!(std::fs::read(&b.artifact).unwrap(), artifact);
        }
        // Only the three final files remain: no temporary file is left behind.
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Damage to a cache entry is never embedded: each kind of damage is a
    /// miss, the entry is compiled again, and the result is what a clean
    /// cache gives.
    #[test]
    fn a_damaged_cache_entry_is_rebuilt_never_used() {
        let dir = temp_dir("damage");
        let cache = dir.join("cache");
        let (a, b) = (dir.join("a.wat"), dir.join("b.wat"));
        std::fs::write(&a, PLUGIN).unwrap();
        std::fs::write(&b, PLUGIN.replace("42", "7").replace("$p", "$q")).unwrap();
        let bake_a = || bake(&a, "a.wat", &Options::default(), &cache).unwrap();
        let clean = bake_a();
        let (artifact, names) =
            (std::fs::read(&clean.artifact).unwrap(), std::fs::read(&clean.names).unwrap());
        let other = bake(&b, "b.wat", &Options::default(), &cache).unwrap();
        assert!(bake_a().cache_hit, "an intact entry is a hit");

        type Damage = Box<dyn Fn()>;
        let (ca, cn, oa, on) =
            (clean.artifact.clone(), clean.names.clone(), other.artifact.clone(), other.names.clone());
        let meta = clean.artifact.with_extension("meta");
        let damages: Vec<(&str, Damage)> = vec![
            (
                "a flipped byte in the artifact",
                Box::new({
                    let p = ca.clone();
                    move || flip(&p, 300)
                }),
            ),
            (
                "a flipped byte in the name table",
                Box::new({
                    let p = cn.clone();
                    move || flip(&p, 20)
                }),
            ),
            (
                "a truncated artifact",
                Box::new({
                    let p = ca.clone();
                    move || truncate(&p)
                }),
            ),
            (
                "a truncated name table",
                Box::new({
                    let p = cn.clone();
                    move || truncate(&p)
                }),
            ),
            (
                "another plugin's artifact",
                Box::new({
                    let (p, q) = (ca.clone(), oa.clone());
                    move || {
                        std::fs::copy(&q, &p).unwrap();
                    }
                }),
            ),
            (
                "another plugin's name table",
                Box::new({
                    let (p, q) = (cn.clone(), on.clone());
                    move || {
                        std::fs::copy(&q, &p).unwrap();
                    }
                }),
            ),
            (
                "a deleted artifact",
                Box::new({
                    let p = ca.clone();
                    move || std::fs::remove_file(&p).unwrap()
                }),
            ),
            (
                "a deleted name table",
                Box::new({
                    let p = cn.clone();
                    move || std::fs::remove_file(&p).unwrap()
                }),
            ),
            (
                "a deleted .meta file",
                Box::new({
                    let p = meta.clone();
                    move || std::fs::remove_file(&p).unwrap()
                }),
            ),
            (
                "a corrupted .meta file",
                Box::new({
                    let p = meta.clone();
                    move || flip(&p, 40)
                }),
            ),
        ];
        for (what, damage) in damages {
            damage();
            let again = bake_a();
            assert!(!again.cache_hit, "{what}: the damaged entry was taken as a hit");
            assert!(
                std::fs::read(&again.artifact).unwrap() == artifact,
                "{what}: the rebuilt artifact differs"
            );
            assert_eq!(std::fs::read(&again.names).unwrap(), names, "{what}: the rebuilt name table differs");
            assert!(bake_a().cache_hit, "{what}: the rebuilt entry is a hit again");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Two processes (two builds of different crates, say) baking into one
    /// cache at once, plugins of their own and shared ones, from an empty
    /// cache each round: both succeed, and every entry they leave verifies.
    #[test]
    fn two_processes_share_one_cache() {
        if let Ok(role) = std::env::var("WASMBAKE_CACHE_CHILD") {
            let (dir, who) = role.split_once(',').unwrap();
            let dir = Path::new(dir);
            for name in ["shared-1", "shared-2", who] {
                let source = dir.join(format!("{name}.wat"));
                bake(&source, name, &Options::default(), &dir.join("cache")).unwrap();
            }
            return;
        }
        let dir = temp_dir("processes");
        for (i, name) in ["shared-1", "shared-2", "only-a", "only-b"].iter().enumerate() {
            std::fs::write(dir.join(format!("{name}.wat")), PLUGIN.replace("42", &i.to_string())).unwrap();
        }
        let exe = std::env::current_exe().unwrap();
        for round in 0..3 {
            let _ = std::fs::remove_dir_all(dir.join("cache"));
            let children: Vec<_> = ["only-a", "only-b"]
                .iter()
                .map(|who| {
                    std::process::Command::new(&exe)
                        .args(["--exact", "bake::tests::two_processes_share_one_cache", "--test-threads=1"])
                        .env("WASMBAKE_CACHE_CHILD", format!("{},{who}", dir.display()))
                        .stdout(std::process::Stdio::null())
                        .spawn()
                        .unwrap()
                })
                .collect();
            for child in children {
                let out = child.wait_with_output().unwrap();
                assert!(out.status.success(), "round {round}: a baking process failed");
            }
            for name in ["shared-1", "shared-2", "only-a", "only-b"] {
                let again =
                    bake(&dir.join(format!("{name}.wat")), name, &Options::default(), &dir.join("cache"))
                        .unwrap();
                assert!(again.cache_hit, "round {round}: {name} is not a verified entry");
            }
            let files = std::fs::read_dir(dir.join("cache")).unwrap().count();
            assert_eq!(files, 12, "round {round}: three files per plugin, no temporary file left");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The same plugin baked from two directories at different absolute
    /// paths into two caches: artifact, name table and cache entry are
    /// bit-identical (nothing of the paths or the moment goes in), for a
    /// module big enough to be compiled in parallel.
    #[test]
    fn baking_is_reproducible_across_directories() {
        let dir = temp_dir("reproducible");
        let functions: String =
            (0..300).map(|i| format!("(func $f{i} (export \"f{i}\") (param i32) (result i32) local.get 0 i32.const {i} i32.add)\n")).collect();
        let wat = format!("(module $m (memory 1) (data (i32.const 8) \"data\")\n{functions})");
        let baked: Vec<Baked> = ["one/deeper/place", "two"]
            .iter()
            .map(|place| {
                let home = dir.join(place);
                std::fs::create_dir_all(&home).unwrap();
                std::fs::write(home.join("p.wat"), &wat).unwrap();
                bake(&home.join("p.wat"), "p.wat", &Options::default(), &home.join("cache")).unwrap()
            })
            .collect();
        let read = |p: &Path| std::fs::read(p).unwrap();
        assert!(read(&baked[0].artifact) == read(&baked[1].artifact), "artifacts differ");
        assert_eq!(read(&baked[0].names), read(&baked[1].names), "name tables differ");
        let meta = |b: &Baked| read(&b.artifact.with_extension("meta"));
        assert_eq!(meta(&baked[0]), meta(&baked[1]), "cache entries differ");
        assert_eq!(baked[0].artifact.file_name(), baked[1].artifact.file_name(), "cache keys differ");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn flip(path: &Path, at: usize) {
        let mut bytes = std::fs::read(path).unwrap();
        let at = at.min(bytes.len() - 1);
        bytes[at] ^= 0x40;
        std::fs::write(path, bytes).unwrap();
    }

    fn truncate(path: &Path) {
        let bytes = std::fs::read(path).unwrap();
        std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
    }
}
