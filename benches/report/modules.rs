//! What the report measures: every core module in the corpus folder and synthetic
//! modules with many long mangled names; and their baked forms.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use wasmbake::wasmtime::Engine;
use wasmbake_compiler::{Compiler, NameTable};
use wasmbake_test_support::mangled_name;

pub struct Subject {
    /// File name, or `synthetic-<n>`.
    pub name: String,
    pub synthetic: bool,
    /// The module in binary form, name section included.
    pub wasm: Vec<u8>,
    /// The `.wasm` file (synthetic modules are written to the work folder).
    pub path: PathBuf,
    /// Functions (imported and defined) and imported ones.
    pub functions: u32,
    pub imported: u32,
    /// Function names in the name section, and the section's size.
    pub named: usize,
    pub name_section: usize,
}

/// A subject baked both ways.
pub struct Baked {
    /// What wasmbake embeds: names stripped before precompiling.
    pub stripped: PathBuf,
    /// The same module precompiled with its name section kept (what an
    /// application without wasmbake would ship as its `.cwasm`).
    pub kept: PathBuf,
    /// wasmbake's encoded name table.
    pub table: PathBuf,
    pub stripped_len: u64,
    pub kept_len: u64,
    pub table_len: u64,
    /// `Compiler::bake` wall time (read, validate, name table, strip,
    /// precompile, write), one entry per run, seconds.
    pub precompile: Vec<f64>,
    /// `Compiler::bake` on a warm cache: the verified hit every rebuild of a
    /// host crate pays (both files read and their digest checked), seconds.
    pub cache_hit: Vec<f64>,
}

impl Subject {
    pub fn from_wasm(name: String, synthetic: bool, wasm: Vec<u8>, path: PathBuf) -> Subject {
        let (mut functions, mut imported, mut name_section) = (0, 0, 0);
        for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
            match payload.expect("the report's modules are valid") {
                wasmparser::Payload::ImportSection(imports) => {
                    for import in imports.into_imports() {
                        if matches!(import.unwrap().ty, wasmparser::TypeRef::Func(_)) {
                            imported += 1;
                        }
                    }
                }
                wasmparser::Payload::FunctionSection(funcs) => functions += funcs.count(),
                wasmparser::Payload::CustomSection(c) if c.name() == "name" => name_section += c.data().len(),
                _ => {}
            }
        }
        let named = NameTable::from_module(&wasm).functions.len();
        Subject {
            name,
            synthetic,
            wasm,
            path,
            functions: functions + imported,
            imported,
            named,
            name_section,
        }
    }
}

/// Every `*.wasm` file in `dir`, smallest first.
pub fn wasm_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "wasm"));
    files.sort_by_key(|p| std::fs::metadata(p).map_or(0, |m| m.len()));
    files
}

/// Every core module in `dir`, smallest first.
pub fn corpus(dir: &Path) -> Vec<Subject> {
    let mut files = wasm_files(dir);
    // (Components have a section of their own: `components.rs`.)
    files.retain(|p| !crate::components::is_component(p));
    files
        .into_iter()
        .map(|path| {
            let wasm = std::fs::read(&path).unwrap();
            Subject::from_wasm(path.file_name().unwrap().to_string_lossy().into_owned(), false, wasm, path)
        })
        .collect()
}

/// A module of `n` small functions, each named with a long legacy-mangled
/// Rust path (about 130 bytes, like `splicer.wasm`'s 137), written to `dir`.
/// Deterministic: the same `n` gives the same bytes.
pub fn synthetic(n: u32, dir: &Path) -> Subject {
    let mut wat = String::with_capacity(n as usize * 200);
    wat.push_str("(module $synthetic\n");
    for i in 0..n {
        let name = mangled_name(i);
        // Function i adds i to its argument, and calls function i-1 on
        // every 16th one, so bodies are not all alike.
        if i % 16 == 1 {
            let _ = writeln!(
                wat,
                "(func ${name} (param i32) (result i32) local.get 0 call {} i32.const {i} i32.add)",
                i - 1
            );
        } else {
            let _ =
                writeln!(wat, "(func ${name} (param i32) (result i32) local.get 0 i32.const {i} i32.add)");
        }
    }
    wat.push_str("(export \"run\" (func 0)))\n");
    let wasm = wat::parse_str(&wat).unwrap();
    let name = format!("synthetic-{}k", n / 1000);
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, &wasm).unwrap();
    Subject::from_wasm(name, true, wasm, path)
}

/// Bakes `subject` `runs` times with a fresh cache each time (so each run
/// precompiles), and once more with names kept.
pub fn bake(subject: &Subject, compiler: &Compiler, engine: &Engine, work: &Path, runs: usize) -> Baked {
    let mut precompile = Vec::new();
    let mut baked = None;
    for run in 0..runs {
        let cache = work.join(format!("cache-{}-{run}", subject.name));
        let _ = std::fs::remove_dir_all(&cache);
        let start = Instant::now();
        let b = compiler.bake(&subject.path, &subject.name, &cache).unwrap();
        precompile.push(start.elapsed().as_secs_f64());
        assert!(!b.cache_hit);
        baked = Some(b);
    }
    let b = baked.expect("at least one run");
    let last = work.join(format!("cache-{}-{}", subject.name, runs - 1));
    let cache_hit: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            assert!(compiler.bake(&subject.path, &subject.name, &last).unwrap().cache_hit);
            start.elapsed().as_secs_f64()
        })
        .collect();
    let stripped = work.join(format!("{}.stripped.cwasm", subject.name));
    let table = work.join(format!("{}.names", subject.name));
    std::fs::copy(&b.artifact, &stripped).unwrap();
    std::fs::copy(&b.names, &table).unwrap();
    for run in 0..runs {
        let _ = std::fs::remove_dir_all(work.join(format!("cache-{}-{run}", subject.name)));
    }
    let kept = work.join(format!("{}.kept.cwasm", subject.name));
    std::fs::write(&kept, engine.precompile_module(&subject.wasm).unwrap()).unwrap();
    let len = |p: &Path| std::fs::metadata(p).unwrap().len();
    Baked {
        stripped_len: len(&stripped),
        kept_len: len(&kept),
        table_len: len(&table),
        stripped,
        kept,
        table,
        precompile,
        cache_hit,
    }
}
