//! End-to-end tests of `include_module!` and `Embedded`: names, in-place
//! loading, memory protections, concurrency, traps, compatibility errors, and
//! real modules from the shared corpus (skipped with a message when absent).
//!
//! Tests that assert *how* a module was loaded each use a plugin static of
//! their own: the first engine to load a plugin gets it in place, so sharing
//! one across concurrently running tests would make that racy.

use std::sync::{Arc, Barrier};

use wasmbake::wasmtime::{Engine, Instance, Linker, Module, Store};
use wasmbake::{Embedded, LoadKind, include_module};

static NAMED: Embedded = include_module!("fixtures/names.wat");
static UNNAMED: Embedded = include_module!("fixtures/unnamed.wat");
static FEATURES: Embedded = include_module!("fixtures/features.wat");
static IN_PLACE: Embedded = include_module!("fixtures/names.wat");
static MAPS: Embedded = include_module!("fixtures/names.wat");
static TWO_ENGINES: Embedded = include_module!("fixtures/names.wat");
static PLAIN_ENGINE: Embedded = include_module!("fixtures/names.wat");
static THREADS: Embedded = include_module!("fixtures/names.wat");
static TRAPS: Embedded = include_module!("fixtures/names.wat");

fn engine() -> Engine {
    wasmbake::engine().expect("wasmbake engine")
}

/// Instantiates the `names.wat` fixture (its import logs to nowhere).
fn instantiate(engine: &Engine, module: &Module) -> (Store<()>, Instance) {
    let mut store = Store::new(engine, ());
    let mut linker = Linker::new(engine);
    linker.func_wrap("env", "host_log", |_: i32| {}).unwrap();
    let instance = linker.instantiate(&mut store, module).unwrap();
    (store, instance)
}

fn call_run(engine: &Engine, module: &Module, x: i32) -> wasmbake::wasmtime::Result<i32> {
    let (mut store, instance) = instantiate(engine, module);
    instance.get_typed_func::<i32, i32>(&mut store, "run")?.call(&mut store, x)
}

fn inside(range: std::ops::Range<*const u8>, outer: &[u8]) -> bool {
    let outer = outer.as_ptr_range();
    range.start >= outer.start && range.end <= outer.end
}

#[test]
fn names_resolve_both_ways() {
    let names = NAMED.names();
    assert_eq!(names.module_name(), Some("fixture"));
    let expected = [
        (0, "host_log"),
        (1, "add"),
        (2, "héllo wörld"),
        (3, "_ZN7mycrate5inner7explode17h0123456789abcdefE"),
        (4, "_Z7cpp_fooi"),
        (5, "run"),
    ];
    assert_eq!(names.len(), expected.len());
    for (index, name) in expected {
        assert_eq!(names.name_of(index), Some(name));
        assert_eq!(names.index_of(name), Some(index));
    }
    assert_eq!(names.name_of(6), None);
    assert_eq!(names.index_of("missing"), None);
    assert_eq!(names.iter().collect::<Vec<_>>(), expected);
    assert_eq!(NAMED.source(), "fixtures/names.wat");
}

#[test]
fn module_without_name_section_has_an_empty_table() {
    assert!(UNNAMED.names().is_empty());
    assert_eq!(UNNAMED.names().module_name(), None);
    assert_eq!(UNNAMED.names().name_of(0), None);
    let engine = engine();
    let module = UNNAMED.load(&engine).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let answer = instance.get_typed_func::<(), i32>(&mut store, "answer").unwrap();
    assert_eq!(answer.call(&mut store, ()).unwrap(), 42);
}

#[test]
fn artifact_carries_no_function_names() {
    // The name section was stripped before precompiling: Wasmtime knows no names.
    let engine = engine();
    let module = NAMED.load(&engine).unwrap();
    let err = call_run(&engine, &module, 0).unwrap_err();
    let backtrace = err.downcast_ref::<wasmbake::wasmtime::WasmBacktrace>().unwrap();
    assert!(backtrace.frames().iter().all(|f| f.func_name().is_none()));
    let artifact = NAMED.artifact();
    // (`host_log` is absent from this list: it is also the import's field name.)
    for name in ["héllo wörld", "_Z7cpp_fooi", "inner7explode"] {
        let needle = name.as_bytes();
        assert!(!artifact.windows(needle.len()).any(|w| w == needle), "{name} found in the artifact");
    }
}

#[test]
fn load_is_in_place_and_cached() {
    let engine = engine();
    let (module, kind) = IN_PLACE.load_with_kind(&engine).unwrap();
    assert_eq!(kind, LoadKind::InPlace);
    assert!(inside(module.image_range(), IN_PLACE.artifact()), "image was copied");
    assert_eq!(IN_PLACE.artifact().as_ptr() as usize % 65536, 0);
    let (again, kind) = IN_PLACE.load_with_kind(&engine).unwrap();
    assert!(Module::same(&module, &again));
    assert_eq!(kind, LoadKind::InPlace);
    assert_eq!(call_run(&engine, &again, 5).unwrap(), 5);
}

#[cfg(target_os = "linux")]
fn perms_at(addr: *const u8) -> String {
    wasmbake_test_support::process::permissions_at(addr as usize).unwrap()
}

#[cfg(target_os = "linux")]
fn assert_no_rwx(when: &str) {
    let wx = wasmbake_test_support::process::writable_and_executable_mappings();
    assert!(wx.is_empty(), "{when}: writable and executable: {wx:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn code_pages_are_never_writable_and_executable() {
    assert_no_rwx("before load");
    let engine = engine();
    let (module, kind) = MAPS.load_with_kind(&engine).unwrap();
    assert_eq!(kind, LoadKind::InPlace);
    let code = module.image_range().start;
    assert_no_rwx("after load");
    assert_eq!(call_run(&engine, &module, 3).unwrap(), 3);
    assert_no_rwx("after running code");
    // The artifact lies in read-only data; only its text became executable.
    let text = MAPS.artifact().as_ptr_range();
    let executable: Vec<_> = wasmbake_test_support::process::mappings()
        .into_iter()
        .filter(|m| m.perms.contains('x') && m.overlaps(text.start as usize..text.end as usize))
        .collect();
    assert!(!executable.is_empty(), "no executable page inside the artifact");
    assert!(executable.iter().all(|m| m.perms.starts_with("r-x")));
    // A copy (second engine) is also never writable while executable.
    let other = wasmbake::engine().unwrap();
    let (copy, kind) = MAPS.load_with_kind(&other).unwrap();
    assert_eq!(kind, LoadKind::Copied);
    assert_eq!(call_run(&other, &copy, 4).unwrap(), 4);
    assert_no_rwx("after running a copy");
    // Once every in-place module is gone the pages are read-only again.
    drop(module);
    assert!(MAPS.evict(&engine));
    assert!(MAPS.evict(&other));
    drop(copy);
    assert_eq!(perms_at(code), perms_at(MAPS.artifact().as_ptr()));
    assert!(!perms_at(code).contains('x'), "code pages still executable: {}", perms_at(code));
}

#[test]
fn second_engine_gets_a_working_copy_then_in_place_again() {
    let first = engine();
    let second = engine();
    let (a, kind_a) = TWO_ENGINES.load_with_kind(&first).unwrap();
    let (b, kind_b) = TWO_ENGINES.load_with_kind(&second).unwrap();
    assert_eq!((kind_a, kind_b), (LoadKind::InPlace, LoadKind::Copied));
    assert!(!inside(b.image_range(), TWO_ENGINES.artifact()));
    assert_eq!(call_run(&first, &a, 1).unwrap(), 1);
    assert_eq!(call_run(&second, &b, 2).unwrap(), 2);

    // While a clone of the in-place module lives, a third engine copies too.
    assert!(TWO_ENGINES.evict(&first));
    let third = engine();
    assert_eq!(TWO_ENGINES.load_with_kind(&third).unwrap().1, LoadKind::Copied);
    assert!(TWO_ENGINES.evict(&third));
    // Once it is gone, the next engine loads in place.
    drop(a);
    let fourth = engine();
    let (d, kind_d) = TWO_ENGINES.load_with_kind(&fourth).unwrap();
    assert_eq!(kind_d, LoadKind::InPlace);
    assert_eq!(call_run(&fourth, &d, 3).unwrap(), 3);
    assert!(!TWO_ENGINES.evict(&engine()), "nothing cached for a new engine");
}

#[test]
fn engine_without_wasmbake_code_memory_gets_a_copy() {
    let plain = Engine::new(&wasmbake::__private::wasm_config()).unwrap();
    let (module, kind) = PLAIN_ENGINE.load_with_kind(&plain).unwrap();
    assert_eq!(kind, LoadKind::Copied);
    assert_eq!(call_run(&plain, &module, 9).unwrap(), 9);
    // The failed in-place attempt left the buffer free for a wasmbake engine.
    let ours = engine();
    assert_eq!(PLAIN_ENGINE.load_with_kind(&ours).unwrap().1, LoadKind::InPlace);
}

#[test]
fn incompatible_engine_configuration_is_an_err() {
    let mut config = wasmbake::config();
    config.consume_fuel(true);
    let engine = Engine::new(&config).unwrap();
    let err = NAMED.load(&engine).unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("fixtures/names.wat"), "{message}");
    assert!(message.contains("fuel"), "{message}");

    let mut config = wasmbake::config();
    config.wasm_simd(false).wasm_relaxed_simd(false);
    let engine = Engine::new(&config).unwrap();
    let message = format!("{:#}", FEATURES.load(&engine).unwrap_err());
    assert!(message.contains("simd"), "{message}");
}

/// Wasmtime turns the component model on by default whenever its
/// `component-model` cargo feature is compiled in, and it is in this test
/// binary (wasmtime-wasi needs it) as it can be in any build script's graph.
/// An artifact compiled there must still load in a host built without the
/// feature (the examples' hosts are), whose engines lack those features.
#[test]
fn artifacts_never_require_component_model_support() {
    let wasm =
        wat::parse_str("(module (func (export \"run\") (param i32) (result i32) local.get 0))").unwrap();
    let mut config = wasmbake::__private::wasm_config();
    config.wasm_features(wasmbake_compiler::COMPONENT_FEATURES, false);
    let host = Engine::new(&config).unwrap();
    // (Without the compiler's setting, its own default config would differ.)
    let unset = Engine::new(&wasmbake::__private::wasm_config()).unwrap().precompile_module(&wasm).unwrap();
    // SAFETY: unmodified precompile_module output.
    let err = unsafe { Module::deserialize(&host, &unset) }.unwrap_err();
    assert!(format!("{err:#}").contains("component_model"), "{err:#}");

    let compiler = wasmbake_compiler::engine(&wasmbake_compiler::Options::default()).unwrap();
    let artifact = compiler.precompile_module(&wasm).unwrap();
    // SAFETY: as above.
    let module = unsafe { Module::deserialize(&host, &artifact) }.unwrap();
    assert_eq!(call_run(&host, &module, 5).unwrap(), 5);
}

#[test]
fn artifact_for_cpu_features_this_host_lacks_is_an_err_or_falls_back_to_pulley() {
    #[cfg(target_arch = "x86_64")]
    let lacking: Vec<&str> =
        [("has_avx512f", "avx512f"), ("has_avx512vl", "avx512vl"), ("has_avx512dq", "avx512dq")]
            .into_iter()
            .filter(|(_, feature)| match *feature {
                "avx512f" => !std::arch::is_x86_feature_detected!("avx512f"),
                "avx512vl" => !std::arch::is_x86_feature_detected!("avx512vl"),
                _ => !std::arch::is_x86_feature_detected!("avx512dq"),
            })
            .map(|(flag, _)| flag)
            .collect();
    #[cfg(not(target_arch = "x86_64"))]
    let lacking: Vec<&str> = Vec::new();
    if lacking.is_empty() {
        eprintln!("skipped: this host has every CPU feature the test could require");
        return;
    }
    let cache = std::env::temp_dir().join(format!("wasmbake-cpu-test-{}", std::process::id()));
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/unnamed.wat");
    let options = wasmbake_compiler::Options {
        target: None,
        cpu: wasmbake_compiler::Cpu::Flags(lacking.iter().map(|f| f.to_string()).collect()),
        ..Default::default()
    };
    let baked = wasmbake_compiler::bake(&source, "fixtures/unnamed.wat", &options, &cache).unwrap();
    let artifact = wasmbake_test_support::leak_aligned(&std::fs::read(&baked.artifact).unwrap());
    // The same module for Pulley, as `Builder::fallback_pulley(true)` bakes it.
    let pulley = wasmbake_compiler::Options {
        target: Some(wasmbake::__private::PULLEY_TARGET.into()),
        ..Default::default()
    };
    let pulley = wasmbake_compiler::bake(&source, "fixtures/unnamed.wat", &pulley, &cache).unwrap();
    let pulley = wasmbake_test_support::leak_aligned(&std::fs::read(&pulley.artifact).unwrap());
    let _ = std::fs::remove_dir_all(&cache);
    // SAFETY: unmodified precompile_module artifacts, 64 KiB-aligned; the
    // empty name table trivially satisfies the name-table contract.
    let plugin = unsafe { Embedded::from_mapped("avx512.wat", artifact, wasmbake::Names::EMPTY) };
    let message = format!("{:#}", plugin.load(&engine()).unwrap_err());
    assert!(message.contains("avx512"), "{message}");
    assert!(message.contains("avx512.wat"), "{message}");

    // With a Pulley artifact beside it, the same host falls back and says why.
    // SAFETY: as above.
    let plugin = unsafe {
        Embedded::from_static_unchecked("avx512.wat", artifact, wasmbake::Names::EMPTY, Some(pulley))
    };
    let loaded = plugin.load_detailed(&engine()).unwrap();
    assert!(loaded.is_pulley());
    let reason = loaded.fallback_reason().expect("a fallback says why");
    assert!(reason.contains("avx512"), "{reason}");
    let module = loaded.module();
    let mut store = Store::new(module.engine(), ());
    let instance = Instance::new(&mut store, module, &[]).unwrap();
    let answer = instance.get_typed_func::<(), i32>(&mut store, "answer").unwrap();
    assert_eq!(answer.call(&mut store, ()).unwrap(), 42);
}

#[test]
fn sixteen_threads_load_at_once() {
    let engines: Vec<Engine> = (0..4).map(|_| engine()).collect();
    let barrier = Arc::new(Barrier::new(16));
    let results: Vec<(usize, Module, LoadKind, i32)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let engine = engines[i % 4].clone();
                let barrier = barrier.clone();
                scope.spawn(move || {
                    barrier.wait();
                    let (module, kind) = THREADS.load_with_kind(&engine).unwrap();
                    let result = call_run(&engine, &module, i as i32 + 1).unwrap();
                    (i % 4, module, kind, result)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, (engine, module, _, result)) in results.iter().enumerate() {
        assert_eq!(*result, i as i32 + 1);
        // Every thread with the same engine got the same cached module.
        let first = results.iter().find(|(e, ..)| e == engine).unwrap();
        assert!(Module::same(module, &first.1));
    }
    let in_place_engines: std::collections::BTreeSet<usize> =
        results.iter().filter(|(_, _, kind, _)| *kind == LoadKind::InPlace).map(|(e, ..)| *e).collect();
    assert_eq!(in_place_engines.len(), 1, "exactly one engine loads in place");
}

#[test]
fn trap_message_names_the_functions() {
    let engine = engine();
    let module = TRAPS.load(&engine).unwrap();
    let err = call_run(&engine, &module, 0).unwrap_err();
    let rendered = TRAPS.render_error(&err);
    let lines: Vec<&str> = rendered.lines().collect();
    assert!(lines[0].contains("unreachable"), "{rendered}");
    assert!(lines[2].contains("fixture!mycrate::inner::explode (function 3)"), "{rendered}");
    assert!(lines[3].contains("fixture!cpp_foo(int) (function 4)"), "{rendered}");
    assert!(lines[4].contains("fixture!run (function 5)"), "{rendered}");
}

#[test]
fn proposals_real_modules_use_compile_and_run() {
    let engine = engine();
    let module = FEATURES.load(&engine).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let simd = instance.get_typed_func::<(i32, i32, i32, i32), i32>(&mut store, "simd_sum").unwrap();
    assert_eq!(simd.call(&mut store, (1, 2, 3, 4)).unwrap(), 20);
    let fill = instance.get_typed_func::<i32, i32>(&mut store, "fill").unwrap();
    assert_eq!(fill.call(&mut store, 10).unwrap(), 7);
    let tail = instance.get_typed_func::<i32, i32>(&mut store, "tail").unwrap();
    assert_eq!(tail.call(&mut store, 1_000_000).unwrap(), 0);
    let catch = instance.get_typed_func::<i32, i32>(&mut store, "catch").unwrap();
    assert_eq!(catch.call(&mut store, 5).unwrap(), 5);
    let swap_sub = instance.get_typed_func::<(i32, i32), i32>(&mut store, "swap_sub").unwrap();
    assert_eq!(swap_sub.call(&mut store, (10, 3)).unwrap(), -7);
}

#[cfg(wasmbake_corpus)]
mod corpus {
    use super::*;

    wasmbake::include_plugins!("corpus.rs");

    fn corpus(file: &str) -> Vec<u8> {
        std::fs::read(wasmbake_test_support::corpus::dir().join(file)).unwrap()
    }

    /// The function names of a module, read independently with wasmparser.
    fn original_names(wasm: &[u8]) -> std::collections::BTreeMap<u32, String> {
        let mut names = std::collections::BTreeMap::new();
        for payload in wasmparser::Parser::new(0).parse_all(wasm) {
            if let wasmparser::Payload::CustomSection(section) = payload.unwrap()
                && let wasmparser::KnownCustom::Name(reader) = section.as_known()
            {
                for sub in reader {
                    if let wasmparser::Name::Function(map) = sub.unwrap() {
                        for naming in map {
                            let naming = naming.unwrap();
                            names.insert(naming.index, naming.name.to_owned());
                        }
                    }
                }
            }
        }
        names
    }

    #[test]
    fn splicer_names_resolve_both_ways() {
        let original = original_names(&corpus("splicer.wasm"));
        assert_eq!(original.len(), 8726, "MANIFEST.md lists 8,726 names");
        let names = SPLICER.names();
        assert_eq!(names.len(), original.len());
        for (&index, name) in &original {
            assert_eq!(names.name_of(index), Some(name.as_str()));
            let lowest = original.iter().find(|(_, n)| *n == name).map(|(&i, _)| i);
            assert_eq!(names.index_of(name), lowest, "{name}");
        }
    }

    #[test]
    fn splicer_loads_in_place() {
        let engine = engine();
        let (module, kind) = SPLICER.load_with_kind(&engine).unwrap();
        assert_eq!(kind, LoadKind::InPlace);
        assert!(inside(module.image_range(), SPLICER.artifact()));
        assert!(module.exports().count() > 0);
    }

    fn run_wasi(plugin: &'static Embedded, args: &[&str]) -> (i32, String) {
        let out = plugin.command().args(args).output().unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    }

    #[test]
    fn hello_c_runs_under_wasi_p1() {
        let (status, out) = run_wasi(&HELLO_C, &["one", "two"]);
        assert_eq!(status, 0);
        assert_eq!(out.trim_end(), "hello from wasi, fib(25)=75025, argc=3");
        assert_eq!(HELLO_C.names().len(), 62);
    }

    #[test]
    fn module_without_names_runs_avr_as() {
        assert!(AVR_AS.names().is_empty());
        let (status, out) = run_wasi(&AVR_AS, &["--version"]);
        assert_eq!(status, 0);
        assert_eq!(out.lines().next(), Some("GNU assembler (GNU Binutils) 2.42"));
    }
}

#[cfg(not(wasmbake_corpus))]
#[test]
fn corpus_tests_skipped() {
    eprintln!("skipped: the shared corpus is absent, corpus tests were not compiled (WASMBAKE_CORPUS)");
}
