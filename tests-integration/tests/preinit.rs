//! Pre-initialisation at bake time (`include_module!(…, preinitialize)`):
//! the snapshot is what is baked, the init function sees only what it was
//! given, the same inputs give the same bytes, and each bad input is an
//! error that names what to fix.

use std::path::{Path, PathBuf};

use wasmbake::wasmtime::{Instance, Linker, Module, Store};
use wasmbake::{Embedded, include_module};
use wasmbake_compiler::{Error, InitWasi, Options, Preinit};

static COUNTER: Embedded = include_module!("fixtures/preinit/counter.wat");
static COUNTER_PREINIT: Embedded = include_module!("fixtures/preinit/counter.wat", preinitialize);
static WASI_PREINIT: Embedded = include_module!(
    "fixtures/preinit/wasi-init.wat",
    preinitialize(wasi, args = ["tool", "a", "b"], env = ["LANG=C"], dir = "fixtures/preinit/dir")
);
static RENAMED: Embedded =
    include_module!("fixtures/preinit/counter.wat", preinitialize(init = "wizer.initialize"));

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/preinit").join(name)
}

/// A fresh cache for one test (tests run in parallel).
fn cache(test: &str) -> PathBuf {
    std::env::temp_dir().join(format!("wasmbake-preinit-{test}-{}", std::process::id()))
}

fn instance(plugin: &'static Embedded) -> (Store<()>, Instance) {
    let engine = wasmbake::engine().unwrap();
    let module = plugin.load(&engine).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

#[test]
fn the_snapshot_is_baked_and_the_init_function_is_gone() {
    for plugin in [&COUNTER_PREINIT, &RENAMED] {
        let (mut store, instance) = instance(plugin);
        let ready = instance.get_typed_func::<(), i32>(&mut store, "ready").unwrap();
        assert_eq!(ready.call(&mut store, ()).unwrap(), 1, "the init function ran at bake time");
        let square = instance.get_typed_func::<i32, i32>(&mut store, "square").unwrap();
        assert_eq!(square.call(&mut store, 999).unwrap(), 998_001);
        assert!(instance.get_func(&mut store, "wizer.initialize").is_none());
    }
    // Without the option, the module is baked as it is.
    let (mut store, instance) = instance(&COUNTER);
    let ready = instance.get_typed_func::<(), i32>(&mut store, "ready").unwrap();
    assert_eq!(ready.call(&mut store, ()).unwrap(), 0);
    assert!(instance.get_func(&mut store, "wizer.initialize").is_some());
}

#[test]
fn an_init_function_with_wasi_sees_what_it_was_given_and_a_stopped_clock() {
    let engine = wasmbake::engine().unwrap();
    let module: Module = WASI_PREINIT.load(&engine).unwrap();
    let linker: Linker<_> = wasmbake::wasi_linker_for(&module).unwrap();
    let mut store = Store::new(&engine, wasmbake::wasi::WasiCtxBuilder::new().build_p1());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let mut get =
        |name: &str| instance.get_typed_func::<(), i32>(&mut store, name).unwrap().call(&mut store, ());
    assert_eq!(get("argc").unwrap(), 3);
    assert_eq!(get("envc").unwrap(), 1);
    let greeting = std::fs::read(fixture("dir/greeting.txt")).unwrap();
    assert_eq!(get("len").unwrap(), greeting.len() as i32);
    let byte = instance.get_typed_func::<i32, i32>(&mut store, "byte").unwrap();
    let read: Vec<u8> = (0..greeting.len() as i32).map(|i| byte.call(&mut store, i).unwrap() as u8).collect();
    assert_eq!(read, greeting);
    let time = instance.get_typed_func::<(), i64>(&mut store, "time").unwrap();
    assert_eq!(time.call(&mut store, ()).unwrap(), 0);
}

/// Bakes `file` with `preinit` into a fresh cache; the artifact's bytes.
fn bake(file: &str, preinit: Preinit, cache: &Path) -> Result<Vec<u8>, Error> {
    let options = Options { preinit: Some(preinit), ..Default::default() };
    let baked = wasmbake_compiler::bake(&fixture(file), file, &options, cache)?;
    Ok(std::fs::read(baked.artifact).unwrap())
}

fn wasi(dir: Option<PathBuf>) -> Preinit {
    Preinit { wasi: Some(InitWasi { args: vec!["tool".into()], env: vec![], dir }), ..Default::default() }
}

#[test]
fn the_same_inputs_give_the_same_snapshot() {
    let (first, second) = (cache("same-1"), cache("same-2"));
    let a = bake("wasi-init.wat", wasi(Some(fixture("dir"))), &first).unwrap();
    let b = bake("wasi-init.wat", wasi(Some(fixture("dir"))), &second).unwrap();
    assert!(a == b, "two bakes of the same inputs differ");
    // And the snapshot itself, before compiling.
    let wasm = wat::parse_file(fixture("counter.wat")).unwrap();
    let once = wasmbake_compiler::preinitialize(&wasm, "counter.wat", &Preinit::default()).unwrap();
    let again = wasmbake_compiler::preinitialize(&wasm, "counter.wat", &Preinit::default()).unwrap();
    assert_eq!(once, again);
    let _ = std::fs::remove_dir_all(first);
    let _ = std::fs::remove_dir_all(second);
}

#[test]
fn a_changed_file_in_the_directory_is_a_new_cache_entry() {
    let cache = cache("dir-key");
    let dir = cache.join("sources");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("greeting.txt"), "one\n").unwrap();
    let options = Options { preinit: Some(wasi(Some(dir.clone()))), ..Default::default() };
    let file = "wasi-init.wat";
    let first = wasmbake_compiler::bake(&fixture(file), file, &options, &cache).unwrap();
    assert!(!first.cache_hit);
    assert!(wasmbake_compiler::bake(&fixture(file), file, &options, &cache).unwrap().cache_hit);
    std::fs::write(dir.join("greeting.txt"), "two\n").unwrap();
    let second = wasmbake_compiler::bake(&fixture(file), file, &options, &cache).unwrap();
    assert!(!second.cache_hit);
    assert_ne!(first.artifact, second.artifact);
    let _ = std::fs::remove_dir_all(cache);
}

/// The error of baking `file` with `preinit`, as the macro and the build
/// helper show it.
fn error(file: &str, preinit: Preinit) -> String {
    let cache = cache(&file.replace('.', "-"));
    let err = bake(file, preinit, &cache).unwrap_err();
    let _ = std::fs::remove_dir_all(cache);
    assert!(matches!(err, Error::Preinit { .. }), "{err:?}");
    err.one_line()
}

#[test]
fn bad_input_names_what_to_fix() {
    // No such export: the default names, then the module's functions.
    let err = error("traps.wat", Preinit { init_func: Some("setup".into()), ..Default::default() });
    assert_eq!(
        err,
        "cannot pre-initialise traps.wat: it exports no function `setup` to pre-initialise with; \
         its functions: `wizer.initialize`"
    );
    let err = error("host-import.wat", Preinit { init_func: Some("nope".into()), ..Default::default() });
    assert!(err.contains("exports no function `nope`"), "{err}");
    let wasm_without = "../unnamed.wat";
    let err = error(wasm_without, Preinit::default());
    assert!(err.contains("exports no `wizer.initialize` (nor `wizer-initialize`) function"), "{err}");
    assert!(err.contains("preinitialize(init = \"…\")"), "{err}");

    // A trap, with the functions it was in.
    let err = error("traps.wat", Preinit::default());
    assert_eq!(
        err,
        "cannot pre-initialise traps.wat: its init function `wizer.initialize` trapped: \
         wasm trap: wasm `unreachable` instruction executed in `fail` ← `check_config` ← `wizer.initialize`"
    );

    // An import no snapshot can hold, and WASI not asked for.
    let err = error("host-import.wat", Preinit::default());
    assert!(
        err.contains("the init function called `env::host_log`, an import pre-initialisation cannot provide"),
        "{err}"
    );
    let err = error("wasi-init.wat", Preinit::default());
    assert!(
        err.contains("called `wasi_snapshot_preview1::args_sizes_get`, and gets no WASI unless asked"),
        "{err}"
    );
    assert!(err.contains("preinitialize(wasi)"), "{err}");

    // A directory that is not there.
    let err = error("wasi-init.wat", wasi(Some(fixture("no-such-dir"))));
    assert!(err.contains("cannot read the directory"), "{err}");
    assert!(err.contains("no-such-dir"), "{err}");
}

/// QuickJS evaluating a script in its init function: pre-initialised, the
/// first call answers at once, and answers the same.
#[test]
fn a_preinitialised_interpreter_answers_its_first_call_as_the_original_does() {
    #[cfg(wasmbake_quickjs)]
    {
        mod cold {
            wasmbake::include_plugins!("qjs_cold.rs");
        }
        mod preinit {
            wasmbake::include_plugins!("qjs_preinit.rs");
        }
        use wasmbake_test_support::quickjs::{FIRST_CALL, eval};
        let (code, expected) = FIRST_CALL;
        let mut original = cold::QJS.command().reactor().unwrap();
        assert_eq!(eval(&mut original, true, code).unwrap(), expected);
        let mut snapshot = preinit::QJS.command().reactor().unwrap();
        assert!(snapshot.instance().get_func(snapshot.store(), "wizer.initialize").is_none());
        assert_eq!(eval(&mut snapshot, false, code).unwrap(), expected);
    }
    #[cfg(not(wasmbake_quickjs))]
    eprintln!("skipped: qjs-reactor.wasm is not in the corpus");
}
