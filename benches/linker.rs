//! The WASI preview-1 linker, both ways, in one process, for the same
//! modules:
//!
//! * `all_46`: `wasmbake::wasi_linker`, wasmtime-wasi's `add_to_linker_sync`
//!   (every preview-1 function);
//! * `imports_only`: `wasmbake::wasi_linker_for`, the functions the module
//!   imports (what `Command` and `Reactor` build).
//!
//! A linker made again and again in one process is warmer than the first one
//! a short-lived program makes (the engine's type registry and the glue's
//! code are in cache); report section 6's phase host times that first one.
//! Run: `cargo bench -p wasmbake-benches --bench linker`. Modules come from
//! the shared corpus (`wasmbake_test_support::corpus`); without it only the
//! fixture runs.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use wasmbake::wasmtime::{Engine, Module};

/// `(name, module)`: the fixture, and the corpus programs of report section 6.
fn modules(engine: &Engine) -> Vec<(String, Module)> {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests-integration/fixtures/wasi/write.wat");
    let fixture = wat::parse_file(fixture).unwrap();
    let mut modules = vec![("write.wat".to_owned(), Module::new(engine, fixture).unwrap())];
    let corpus = ["hello-c.wasm", "avr-as.wasm", "flite.wasm"];
    if let Some(dir) = wasmbake_test_support::corpus::require(&corpus, "the corpus rows of the linker bench")
    {
        for name in corpus {
            modules.push((name.to_owned(), Module::from_file(engine, dir.join(name)).unwrap()));
        }
    }
    modules
}

fn linker(c: &mut Criterion) {
    let engine = Engine::new(&wasmbake::__private::wasm_config()).unwrap();
    let mut group = c.benchmark_group("linker");
    group.sample_size(50).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    for (name, module) in modules(&engine) {
        let wasi = module.imports().filter(|i| i.module() == "wasi_snapshot_preview1").count();
        eprintln!("linker: {name} imports {wasi} of the 46 preview-1 functions");
        group.bench_function(BenchmarkId::new("all_46", &name), |b| {
            b.iter_with_large_drop(|| wasmbake::wasi_linker(&engine).unwrap())
        });
        group.bench_function(BenchmarkId::new("imports_only", &name), |b| {
            b.iter_with_large_drop(|| wasmbake::wasi_linker_for(&module).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, linker);
criterion_main!(benches);
