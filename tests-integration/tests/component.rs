//! End-to-end tests of `include_component!` and `EmbeddedComponent`: names
//! per core module, in-place loading, backtraces whose offsets are the
//! original file's, a second engine, and the corpus components (skipped
//! with a message when the corpus is absent).

use wasmbake::wasmtime::component::{Component, Linker};
use wasmbake::wasmtime::{Engine, Store};
use wasmbake::{EmbeddedComponent, LoadKind, include_component};

static GUEST: EmbeddedComponent = include_component!("fixtures/guest.wat");
static IN_PLACE: EmbeddedComponent = include_component!("fixtures/guest.wat");
static TWO_ENGINES: EmbeddedComponent = include_component!("fixtures/guest.wat");

fn engine() -> Engine {
    wasmbake::engine().expect("wasmbake engine")
}

fn call_run(engine: &Engine, component: &Component, x: i32) -> wasmbake::wasmtime::Result<i32> {
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine).instantiate(&mut store, component)?;
    let run = instance.get_typed_func::<(i32,), (i32,)>(&mut store, "run")?;
    Ok(run.call(&mut store, (x,))?.0)
}

fn inside(range: std::ops::Range<*const u8>, outer: &[u8]) -> bool {
    let outer = outer.as_ptr_range();
    range.start >= outer.start && range.end <= outer.end
}

#[test]
fn each_core_module_keeps_its_names() {
    let names = GUEST.names();
    assert_eq!(names.len(), 2);
    let helpers = names.module(0).unwrap();
    let main = names.module(1).unwrap();
    assert_eq!(helpers.names.name_of(0), Some("helper_one"));
    assert_eq!(main.names.iter().collect::<Vec<_>>(), [(0, "one"), (1, "explode"), (2, "run")]);
    assert_eq!(main.names.index_of("explode"), Some(1));
    assert!(helpers.range.end <= main.range.start, "modules in file order: {helpers:?} {main:?}");
    assert!(names.module(2).is_none());
}

#[test]
fn loads_in_place_and_runs() {
    let engine = engine();
    let (component, kind) = IN_PLACE.load_with_kind(&engine).unwrap();
    assert_eq!(kind, LoadKind::InPlace);
    assert!(inside(component.image_range(), IN_PLACE.artifact()), "the code runs from the binary");
    assert_eq!(call_run(&engine, &component, 0).unwrap(), 1);
    // The second load is the cached component.
    let (again, kind) = IN_PLACE.load_with_kind(&engine).unwrap();
    assert_eq!(kind, LoadKind::InPlace);
    assert_eq!(again.image_range(), component.image_range());
}

#[test]
fn a_second_engine_gets_a_copy_not_a_panic() {
    let (first, second) = (engine(), engine());
    let (a, kind_a) = TWO_ENGINES.load_with_kind(&first).unwrap();
    let (b, kind_b) = TWO_ENGINES.load_with_kind(&second).unwrap();
    assert_eq!((kind_a, kind_b), (LoadKind::InPlace, LoadKind::Copied));
    assert_eq!(call_run(&first, &a, 0).unwrap(), 1);
    assert_eq!(call_run(&second, &b, 0).unwrap(), 1);
}

/// The rendered backtrace names each frame's core module and function, and
/// its offsets are those Wasmtime reports for the original, unstripped
/// component compiled from source.
#[test]
fn traps_render_with_names_and_the_original_offsets() {
    let engine = engine();
    let component = GUEST.load(&engine).unwrap();
    let error = call_run(&engine, &component, 1).unwrap_err();
    assert!(error.downcast_ref::<wasmbake::wasmtime::Trap>().is_some(), "{error:?}");
    let rendered = GUEST.render_error(&error);
    assert!(rendered.contains("main!explode (function 1)"), "{rendered}");
    assert!(rendered.contains("main!run (function 2)"), "{rendered}");

    let mut config = wasmbake::wasmtime::Config::new();
    config.wasm_component_model(true);
    let compiling = Engine::new(&config).unwrap();
    let source = wat::parse_file(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/guest.wat")).unwrap();
    let original = Component::new(&compiling, &source).unwrap();
    let expected = call_run(&compiling, &original, 1).unwrap_err();
    let frames = |e: &wasmbake::wasmtime::Error| -> Vec<(Option<usize>, u32, Option<String>)> {
        e.downcast_ref::<wasmbake::wasmtime::WasmBacktrace>()
            .expect("a backtrace")
            .frames()
            .iter()
            .map(|f| (f.module_offset(), f.func_index(), f.func_name().map(str::to_owned)))
            .collect()
    };
    let (baked, source) = (frames(&error), frames(&expected));
    assert_eq!(baked.len(), source.len());
    for ((offset, index, own_name), (source_offset, source_index, source_name)) in baked.iter().zip(&source) {
        assert_eq!((offset, index), (source_offset, source_index), "{rendered}");
        assert_eq!(*own_name, None, "the artifact carries no names");
        let name = source_name.as_deref().unwrap();
        assert!(rendered.contains(&format!("{:#8x} - main!{name} ", offset.unwrap())), "{rendered}");
    }
}

#[test]
fn a_frame_of_another_component_is_not_named_from_this_one() {
    let engine = engine();
    let component = GUEST.load(&engine).unwrap();
    let error = call_run(&engine, &component, 1).unwrap_err();
    let backtrace = error.downcast_ref::<wasmbake::wasmtime::WasmBacktrace>().unwrap();
    // IN_PLACE holds the same component, but none of these frames.
    let frame = &backtrace.frames()[0];
    assert_eq!(GUEST.frame_name(frame).as_deref(), Some("explode"));
    assert_eq!(IN_PLACE.frame_name(frame), None);
}

mod command {
    use wasmbake::{EmbeddedComponent, TRAP_EXIT_CODE, include_component};

    static TRAP: EmbeddedComponent = include_component!("fixtures/wasi/p2-trap.wat");
    static FAIL: EmbeddedComponent = include_component!("fixtures/wasi/p2-fail.wat");
    static IMPORTS: EmbeddedComponent = include_component!("fixtures/wasi/p2-imports.wat");

    #[test]
    fn a_trap_is_status_134_with_a_named_backtrace() {
        let out = TRAP.command().output().unwrap();
        assert!(out.status.trapped());
        assert_eq!(out.status.code(), TRAP_EXIT_CODE);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("wasm `unreachable` instruction executed"), "{stderr}");
        assert!(stderr.contains("!boom (function 0)"), "{stderr}");
    }

    #[test]
    fn run_returning_its_error_is_status_1() {
        let out = FAIL.command().output().unwrap();
        assert_eq!((out.status.code(), out.status.trapped()), (1, false));
    }

    #[test]
    fn a_component_that_is_not_a_command_is_an_err_naming_its_exports() {
        let err = super::GUEST.command().output().unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("fixtures/guest.wat"), "{message}");
        assert!(message.contains("exports no `wasi:cli/run` (it exports `run`)"), "{message}");
    }

    #[test]
    fn an_import_the_host_cannot_provide_is_an_err_naming_it() {
        let err = IMPORTS.command().output().unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("example:host/missing"), "{message}");
    }

    #[test]
    fn a_component_is_not_a_reactor() {
        let err = TRAP.command().reactor().expect_err("a component is no reactor");
        assert!(format!("{err:#}").contains("a component is not a reactor"), "{err:#}");
    }

    #[cfg(wasmbake_corpus)]
    mod corpus {
        wasmbake::include_plugins!("corpus_components.rs");

        #[test]
        fn hello_c_runs_as_a_command_component() {
            let out = HELLO_C_COMPONENT.command().args(["a", "b"]).output().unwrap();
            assert!(out.status.success(), "{:?}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from wasi, fib(25)=75025, argc=3\n");
        }

        #[test]
        fn the_runner_defines_only_the_wasi_interfaces_a_component_imports() {
            let engine = wasmbake::engine().unwrap();
            let component = HELLO_C_COMPONENT.load(&engine).unwrap();
            let defined = wasmbake::__private::p2_interfaces(&engine, &component).unwrap();
            let imported: Vec<String> = component
                .component_type()
                .imports(&engine)
                .map(|(name, _)| name.split('@').next().unwrap().to_owned())
                .collect();
            // Every import of hello-c.component is a WASI 0.2 interface, and
            // none it does not import is defined (all of them are 27).
            assert_eq!(defined, imported);
            assert!(
                defined.len() < 27 && !defined.iter().any(|n| n.starts_with("wasi:sockets/")),
                "{defined:?}"
            );
            // An import that is no WASI interface is left for the error.
            let engine = super::super::engine();
            let imports = super::IMPORTS.load(&engine).unwrap();
            let defined = wasmbake::__private::p2_interfaces(&engine, &imports).unwrap();
            assert!(!defined.iter().any(|n| n.starts_with("example:")), "{defined:?}");
        }

        mod pygreet {
            use wasmbake::wasi::p2::add_to_linker_sync;
            use wasmbake::wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};
            use wasmbake::wasmtime::Store;
            use wasmbake::wasmtime::component::{HasSelf, Linker};

            // The world of the corpus's pygreet.wit.
            wasmbake::wasmtime::component::bindgen!({
                inline: "package local:plugin;
                    world plugin {
                        import log: func(msg: string);
                        export greet: func(name: string) -> string;
                    }",
                world: "plugin",
                wasmtime_crate: wasmbake::wasmtime,
            });

            /// A host's own store data: WASI preview 2 and the `log` import.
            struct Host {
                ctx: WasiCtx,
                table: ResourceTable,
                logged: Vec<String>,
            }

            impl WasiView for Host {
                fn ctx(&mut self) -> WasiCtxView<'_> {
                    WasiCtxView { ctx: &mut self.ctx, table: &mut self.table }
                }
            }

            impl PluginImports for Host {
                fn log(&mut self, msg: String) {
                    self.logged.push(msg);
                }
            }

            /// CPython inside a component (componentize-py): 14 core
            /// modules, 11 MB of data in one, WASI 0.2 from the host's own
            /// linker, called through `bindgen!`.
            #[test]
            fn pygreet_greets_through_bindgen_on_a_store_the_host_wires() {
                let engine = wasmbake::engine().unwrap();
                let component = super::PYGREET_COMPONENT.load(&engine).unwrap();
                assert_eq!(super::PYGREET_COMPONENT.names().len(), 14, "pygreet's core modules");
                let mut linker = Linker::new(&engine);
                add_to_linker_sync(&mut linker).unwrap();
                Plugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |host| host).unwrap();
                let host =
                    Host { ctx: WasiCtx::builder().build(), table: ResourceTable::new(), logged: Vec::new() };
                let mut store = Store::new(&engine, host);
                let plugin = Plugin::instantiate(&mut store, &component, &linker).unwrap();
                assert_eq!(plugin.call_greet(&mut store, "x").unwrap(), "hello, x");
                assert_eq!(store.data().logged, ["greeting x"]);
            }
        }

        #[test]
        fn hello_c_component_keeps_its_core_modules_names() {
            let names = HELLO_C_COMPONENT.names();
            assert_eq!(names.len(), 4, "hello-c, the adapter, and two shims");
            // The program's own module names its functions.
            assert!(names.iter().any(|m| m.names.index_of("main").is_some()), "{names:?}");
        }
    }
}
