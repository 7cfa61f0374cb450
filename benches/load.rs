//! Load paths side by side, in one process, on the same artifact:
//!
//! * `embedded_load`: `Embedded::load`, first (uncached) load: in place;
//! * `deserialize`: `Module::deserialize` of the same bytes (a copy);
//! * `deserialize_file`: `Module::deserialize_file` of the same bytes written
//!   to a `.cwasm` file (mmap; page cache warm);
//! * `module_new`: compiling the original module (small modules only).
//!
//! and name lookups both ways (the plugins' tables and a synthetic one of
//! 100k long names). Run: `cargo bench -p wasmbake-benches --bench load`.
//! Modules come from the shared corpus (`wasmbake_test_support::corpus`);
//! without it only the fixture runs.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use wasmbake::wasmtime::{Engine, Module};
use wasmbake::{Embedded, LoadKind, Names, include_module};
use wasmbake_compiler::NameTable;
use wasmbake_test_support::{mangled_name, shuffled};

static FIXTURE: Embedded = include_module!("../tests-integration/fixtures/names.wat");
#[cfg(wasmbake_corpus)]
mod corpus {
    wasmbake::include_plugins!("corpus.rs");
}

/// `(name, plugin, original wasm file if it is small enough to compile per iteration)`.
fn plugins() -> Vec<(&'static str, &'static Embedded, Option<PathBuf>)> {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests-integration/fixtures/names.wat");
    #[allow(unused_mut)]
    let mut plugins = vec![("names.wat", &FIXTURE, Some(fixture))];
    #[cfg(wasmbake_corpus)]
    {
        plugins.push(("hello-c.wasm", &corpus::HELLO_C, wasmbake_test_support::corpus::file("hello-c.wasm")));
        plugins.push(("splicer.wasm", &corpus::SPLICER, None));
    }
    #[cfg(not(wasmbake_corpus))]
    eprintln!("shared corpus absent: benchmarking the fixture only");
    plugins
}

/// Times `load` only: dropping the module (and, for in-place loads, evicting
/// it so the next load is a first load again) happens outside the clock.
fn time_loads(iters: u64, mut load: impl FnMut() -> Module, mut release: impl FnMut(Module)) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let start = Instant::now();
        let module = black_box(load());
        total += start.elapsed();
        release(module);
    }
    total
}

fn load(c: &mut Criterion) {
    let ours = wasmbake::engine().unwrap();
    // The baselines use a plain engine with the same settings, as an
    // application without wasmbake would.
    let plain = Engine::new(&wasmbake::__private::wasm_config()).unwrap();
    let dir = std::env::temp_dir().join(format!("wasmbake-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let mut group = c.benchmark_group("load");
    group.sample_size(30).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    for (name, plugin, source) in plugins() {
        assert_eq!(plugin.load_with_kind(&ours).unwrap().1, LoadKind::InPlace);
        assert!(plugin.evict(&ours));

        group.bench_function(BenchmarkId::new("embedded_load", name), |b| {
            b.iter_custom(|iters| {
                time_loads(
                    iters,
                    || plugin.load(&ours).unwrap(),
                    |module| {
                        plugin.evict(&ours);
                        drop(module);
                    },
                )
            })
        });
        group.bench_function(BenchmarkId::new("deserialize", name), |b| {
            // SAFETY: an unmodified artifact for this Wasmtime and configuration.
            b.iter_custom(|iters| {
                time_loads(iters, || unsafe { Module::deserialize(&plain, plugin.artifact()) }.unwrap(), drop)
            })
        });
        let cwasm = dir.join(name).with_extension("cwasm");
        std::fs::write(&cwasm, plugin.artifact()).unwrap();
        group.bench_function(BenchmarkId::new("deserialize_file", name), |b| {
            // SAFETY: as above; the file is not modified while mapped.
            b.iter_custom(|iters| {
                time_loads(iters, || unsafe { Module::deserialize_file(&plain, &cwasm) }.unwrap(), drop)
            })
        });
        if let Some(source) = source {
            let wasm = wat::parse_file(&source).unwrap();
            let compiling = Engine::new(&wasmbake::__private::wasm_config()).unwrap();
            group.bench_function(BenchmarkId::new("module_new", name), |b| {
                b.iter_custom(|iters| time_loads(iters, || Module::new(&compiling, &wasm).unwrap(), drop))
            });
        }
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The name table of a synthetic `n`-function module (long mangled names),
/// encoded by the compiler exactly as for a baked plugin; heap memory, 4 KiB
/// pages like `.rodata` (THP is `madvise` here).
fn synthetic_table(n: u32) -> Vec<u8> {
    let table = NameTable { module: None, functions: (0..n).map(|i| (i, mangled_name(i))).collect() };
    table.encode().unwrap()
}

fn names(c: &mut Criterion) {
    let mut group = c.benchmark_group("names");
    group.sample_size(50).measurement_time(Duration::from_secs(2));
    let synthetic = synthetic_table(100_000);
    let synthetic = Names::parse(&synthetic).expect("a table the compiler wrote");
    let subjects = plugins().into_iter().map(|(name, plugin, _)| (name, *plugin.names()));
    for (name, names) in subjects.chain([("synthetic-100k", synthetic)]) {
        // A fixed random order of the table, so lookups do not walk it
        // sequentially. The queries are the application's own strings,
        // allocated in the order they are asked (as names read from input):
        // the query stream is sequential, the table's accesses are random.
        let asked: Vec<(u32, String)> = shuffled(&names.iter().collect::<Vec<_>>(), 0x9e37_79b9_7f4a_7c15)
            .into_iter()
            .map(|(i, n)| (i, n.to_owned()))
            .collect();
        let misses: Vec<String> = asked.iter().map(|(_, n)| format!("{n}_")).collect();
        // Measure lookups that succeed: every name must resolve both ways.
        for ((index, name), miss) in asked.iter().zip(&misses) {
            assert_eq!(names.name_of(*index), Some(name.as_str()));
            assert!(names.index_of(name).is_some_and(|i| names.name_of(i) == Some(name)), "{name}");
            assert_eq!(names.index_of(miss), None);
        }
        let mut i = 0;
        group.bench_function(BenchmarkId::new("name_of", name), |b| {
            b.iter(|| {
                i = (i + 1) % asked.len();
                black_box(names.name_of(black_box(asked[i].0)))
            })
        });
        group.bench_function(BenchmarkId::new("index_of", name), |b| {
            b.iter(|| {
                i = (i + 1) % asked.len();
                black_box(names.index_of(black_box(&asked[i].1)))
            })
        });
        group.bench_function(BenchmarkId::new("index_of_miss", name), |b| {
            b.iter(|| {
                i = (i + 1) % misses.len();
                black_box(names.index_of(black_box(&misses[i])))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, load, names);
criterion_main!(benches);
