//! Compile-time half of wasmbake: everything that turns a `.wasm`/`.wat` file
//! into the two files a host binary embeds.
//!
//! 1. read the file (binary, or text through `wat`);
//! 2. reject components and invalid modules (wasmparser, with byte offsets);
//! 3. read the `name` section into a [`names::NameTable`] and encode it;
//! 4. strip the `name` section, so Wasmtime's artifact carries no names;
//! 5. precompile with [`wasmbake_runtime::wasm_config`] plus an explicit
//!    target and a portable CPU baseline ([`Cpu`]);
//! 6. store artifact and table in a content-addressed cache.
//!
//! Both the `include_module!` macro and the build helper call [`bake`].

#![deny(missing_docs)]

mod cache;
pub mod descriptor;
mod embedding;
mod error;
pub mod names;
mod object_file;

use std::hash::Hash;
use std::path::{Path, PathBuf};

use siphasher::sip128::{Hasher128, SipHasher13};
// (wasmparser is the one Wasmtime uses: the lock has a single version.)
use wasmparser::WasmFeatures;
use wasmtime::{Config, Engine};

pub use descriptor::Descriptor;
pub use embedding::{Embedding, LinkedArtifact, embed_expr, executable_section};
pub use error::Error;
pub use names::{NameTable, ReadNames};
pub use object_file::link_object;
pub use wasmbake_runtime::WASMTIME_VERSION;

/// Version of what [`bake`] writes; part of every cache key.
const FORMAT: &str = "wasmbake-artifact-v1";

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
}

impl Options {
    /// Options from the environment of a build: `WASMBAKE_TARGET` (set by a
    /// build script when cross-compiling) or the host.
    pub fn from_env() -> Options {
        Options {
            target: std::env::var("WASMBAKE_TARGET").ok().filter(|t| !t.is_empty()),
            cpu: Cpu::Baseline,
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
fn cpu_flags<'a>(target: &str, cpu: &'a Cpu) -> Vec<&'a str> {
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
        true => wasmbake_runtime::pulley_wasm_config(),
        false => wasmbake_runtime::wasm_config(),
    };
    config.target(&target).map_err(|e| Error::Target(format!("unsupported target `{target}`: {e}")))?;
    config.parallel_compilation(true);
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
    let target = options.target();
    Engine::new(&config(options)?)
        .map_err(|e| Error::Target(format!("cannot configure Wasmtime for `{target}`: {e:#}")))
}

/// Where the cache of baked artifacts lives for a crate: `WASMBAKE_CACHE_DIR`
/// if set, else `wasmbake/` inside Cargo's target directory
/// (`CARGO_TARGET_DIR`, or `target/` beside the workspace's `Cargo.lock`).
pub fn cache_dir(manifest_dir: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("WASMBAKE_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => manifest_dir.join(dir),
        None => manifest_dir
            .ancestors()
            .find(|dir| dir.join("Cargo.lock").is_file())
            .unwrap_or(manifest_dir)
            .join("target"),
    };
    target.join("wasmbake")
}

/// A baked plugin: two files in the cache.
#[derive(Clone, Debug)]
pub struct Baked {
    /// The source file that was baked (absolute).
    pub source: PathBuf,
    /// The Wasmtime artifact (`Engine::precompile_module` output).
    pub artifact: PathBuf,
    /// The encoded name table (see [`names`]).
    pub names: PathBuf,
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
}

/// Bakes `source` (absolute path; `file` is how to call it in messages) into
/// `cache`, or finds it there. To bake several plugins with the same options,
/// make one [`Compiler`] and call [`Compiler::bake`] instead.
pub fn bake(source: &Path, file: &str, options: &Options, cache: &Path) -> Result<Baked, Error> {
    let bytes = read(source)?;
    Compiler::new(options)?.bake_bytes(source, &bytes, file, cache)
}

/// A compiling engine and the options-dependent part of the cache key, made
/// once and shared by every plugin baked with the same [`Options`] (it is
/// `Sync`: threads may bake through one `Compiler`).
pub struct Compiler {
    engine: Engine,
    target: String,
    /// The enabled CPU flags, comma-separated (for descriptors).
    cpu: String,
    /// The cache-key hasher fed with everything but the module bytes.
    key: SipHasher13,
}

impl Compiler {
    /// The engine for `options` (see [`engine`]) and its cache-key prefix.
    pub fn new(options: &Options) -> Result<Compiler, Error> {
        let engine = engine(options)?;
        let mut key = SipHasher13::new();
        FORMAT.hash(&mut key);
        env!("CARGO_PKG_VERSION").hash(&mut key);
        options.target().hash(&mut key);
        options.cpu.hash(&mut key);
        engine.precompile_compatibility_hash().hash(&mut key);
        name_table_fingerprint()?.hash(&mut key);
        let target = options.target();
        let cpu = cpu_flags(&target, &options.cpu).join(",");
        Ok(Compiler { engine, key, target, cpu })
    }

    /// [`bake`] with this compiler's options.
    pub fn bake(&self, source: &Path, file: &str, cache: &Path) -> Result<Baked, Error> {
        self.bake_bytes(source, &read(source)?, file, cache)
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
        // The generated code names the source file (`include_bytes!`), and
        // Rust string literals are UTF-8.
        if source.to_str().is_none() {
            return Err(Error::NonUtf8Path { path: source.to_owned() });
        }
        let mut hasher = self.key;
        bytes.hash(&mut hasher);
        let key = format!("{:032x}", hasher.finish128().as_u128());
        let stem = source.file_stem().and_then(|s| s.to_str()).unwrap_or("plugin");
        let entry = cache::Entry::new(cache, stem, key);
        let baked = |meta: cache::Meta, cache_hit| Baked {
            source: source.to_owned(),
            artifact: entry.artifact.clone(),
            names: entry.names.clone(),
            cache_hit,
            data_image: meta.data_image,
            name_problem: meta.name_problem,
            target: self.target.clone(),
            cpu: self.cpu.clone(),
        };
        if let Some(meta) = entry.verified() {
            return Ok(baked(meta, true));
        }

        let wasm = module_bytes(bytes, file)?;
        validate(&wasm, file)?;
        let read = NameTable::read(&wasm);
        let table = read.table.encode()?;
        let stripped = strip_name_section(&wasm);
        let compiled = self.engine.precompile_module(&stripped).map_err(|e| compile_error(e, file))?;
        let meta = cache::Meta { data_image: data_image(compiled.as_slice()), name_problem: read.summary() };
        entry.write(cache, &compiled, &table, &meta)?;
        Ok(baked(meta, false))
    }
}

/// `message` on one line, its whitespace runs single spaces: wasmparser
/// prints some values over several indented lines (a bad magic number) or
/// padded (a version), and every error is one line, both in the build
/// helper's output and on the macro's path literal.
pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ").replace("[ ", "[").replace(", ]", "]")
}

/// The byte range of an artifact's `.rodata.wasm` section: the data
/// Wasmtime (48) makes copy-on-write memory images of (see [`Baked`]).
/// Empty or absent: `None`.
pub fn data_image<'data, R: object::ReadRef<'data>>(artifact: R) -> Option<std::ops::Range<u64>> {
    use object::{Object as _, ObjectSection as _};
    let file = object::File::parse(artifact).ok()?;
    let (offset, len) = file.section_by_name(".rodata.wasm")?.file_range()?;
    (len > 0).then_some(offset..offset + len)
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

fn read(source: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(source).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Missing { resolved: source.to_owned() },
        _ => Error::Unreadable { resolved: source.to_owned(), source: e },
    })
}

/// A module's binary form from a file's `bytes` (`file` names it in
/// errors): binary modules are used as they are; anything else is parsed as
/// text. A file that starts with a NUL byte, or is not UTF-8, is taken for a
/// binary (so a wrong magic number or version is reported by the validator,
/// with its offset, not as text that does not parse).
pub fn module_bytes(bytes: &[u8], file: &str) -> Result<Vec<u8>, Error> {
    if bytes.is_empty() {
        return Err(Error::Empty { file: file.to_owned() });
    }
    if bytes[0] == 0 || std::str::from_utf8(bytes).is_err() && !bytes.starts_with(b"(") {
        return Ok(bytes.to_vec());
    }
    let text = std::str::from_utf8(bytes).map_err(|e| Error::InvalidWasm {
        file: file.to_owned(),
        message: format!("neither a WebAssembly binary (no `\\0asm` header) nor UTF-8 text ({e})"),
        offset: e.valid_up_to(),
    })?;
    wat::Parser::new()
        .parse_str(Some(Path::new(file)), text)
        .map_err(|e| Error::InvalidWat { message: e.to_string() })
}

/// Rejects components and invalid modules. Feature support is checked by
/// Wasmtime itself when compiling (see [`compile_error`]), so that what
/// counts as "supported" is exactly what the engine enables.
pub fn validate(wasm: &[u8], file: &str) -> Result<(), Error> {
    if wasmparser::Parser::is_component(wasm) {
        return Err(Error::Component { file: file.to_owned() });
    }
    let mut validator = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all());
    validator.validate_all(wasm).map_err(|e| Error::InvalidWasm {
        file: file.to_owned(),
        message: one_line(e.message()),
        offset: e.offset(),
    })?;
    Ok(())
}

/// A module that is valid with every feature on but fails Wasmtime's own
/// validation uses a feature this configuration cannot compile.
fn compile_error(error: wasmtime::Error, file: &str) -> Error {
    match error.downcast_ref::<wasmparser::BinaryReaderError>() {
        Some(e) => Error::UnsupportedFeature {
            file: file.to_owned(),
            message: one_line(e.message()),
            offset: Some(e.offset()),
        },
        None => Error::Compile { file: file.to_owned(), message: one_line(&format!("{error:#}")) },
    }
}

/// The module without its `name` custom section(s); every other byte is kept.
/// Input that does not parse as a sequence of sections is returned unchanged
/// (it was validated before this is called).
pub fn strip_name_section(wasm: &[u8]) -> Vec<u8> {
    name_section_ranges(wasm).map_or_else(
        |_| wasm.to_vec(),
        |ranges| {
            let mut out = Vec::with_capacity(wasm.len());
            let mut kept_until = 0;
            for range in ranges {
                out.extend_from_slice(&wasm[kept_until..range.start]);
                kept_until = range.end;
            }
            out.extend_from_slice(&wasm[kept_until..]);
            out
        },
    )
}

/// Byte ranges (id byte to end of contents) of the top-level `name` sections.
fn name_section_ranges(wasm: &[u8]) -> wasmparser::Result<Vec<std::ops::Range<usize>>> {
    let mut reader = wasmparser::BinaryReader::new(wasm, 0);
    reader.read_bytes(8)?; // magic and version
    let mut ranges = Vec::new();
    while !reader.eof() {
        let start = reader.original_position();
        let id = reader.read_u8()?;
        let size = reader.read_var_u32()? as usize;
        let contents_at = reader.original_position();
        let contents = reader.read_bytes(size)?;
        if id == 0 && wasmparser::BinaryReader::new(contents, contents_at).read_string()? == "name" {
            ranges.push(start..contents_at + size);
        }
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

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

        let other_cpu = Options { target: None, cpu: Cpu::Flags(vec!["has_avx2".into()]) };
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
                        .args(["--exact", "tests::two_processes_share_one_cache", "--test-threads=1"])
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

    #[test]
    fn strip_removes_only_the_name_section() {
        let wasm = wat::parse_str(
            r#"(module $m (func $f) (@custom "keep" "me") (@custom "producers" (after code) ""))"#,
        )
        .unwrap();
        assert!(!NameTable::from_module(&wasm).functions.is_empty());
        let stripped = strip_name_section(&wasm);
        assert!(stripped.len() < wasm.len());
        assert_eq!(NameTable::from_module(&stripped), NameTable::default());
        let mut customs: Vec<String> = wasmparser::Parser::new(0)
            .parse_all(&stripped)
            .filter_map(|p| match p.unwrap() {
                wasmparser::Payload::CustomSection(c) => Some(c.name().to_owned()),
                _ => None,
            })
            .collect();
        customs.sort();
        assert_eq!(customs, ["keep", "producers"]);
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&stripped)
            .unwrap();
        // A module without a name section is returned unchanged.
        assert_eq!(strip_name_section(&stripped), stripped);
    }
}
