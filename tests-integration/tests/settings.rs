//! Which engine settings a baked artifact depends on, measured against
//! Wasmtime's compatibility check rather than assumed: a host engine is
//! `wasmbake::config()` with one setting changed, and the plugin either
//! loads into it (a run-time setting, free to tune) or is refused with an
//! `Err` naming the setting (it changes compiled code, so it must be baked
//! in). The guide's table ("Tuning the engine") is this list.
//!
//! Then the two such settings a host wants, epoch interruption and fuel,
//! baked with the macro's options: each plugin loads into its own
//! `engine()`, one binary holds plugins of every setting set, a mismatched
//! engine is an `Err` naming the setting and the fix, and `command()` runs
//! them.

use wasmbake::wasmtime::{Config, Engine, Instance, Store};
use wasmbake::{CodeSettings, Embedded, include_module};

static MATH: Embedded = include_module!("plugins/math.wat");
static EPOCH: Embedded = include_module!("plugins/math.wat", epoch_interruption);
static FUEL: Embedded = include_module!("plugins/math.wat", consume_fuel);
static BOTH: Embedded = include_module!("plugins/math.wat", epoch_interruption, consume_fuel);
static ARGS_EPOCH: Embedded = include_module!("fixtures/wasi/args.wat", epoch_interruption);
static ARGS_FUEL: Embedded = include_module!("fixtures/wasi/args.wat", consume_fuel);
static GUEST_EPOCH: wasmbake::EmbeddedComponent =
    wasmbake::include_component!("fixtures/guest.wat", epoch_interruption);

mod instrumented {
    wasmbake::include_plugins!("instrumented.rs");
}

/// `(setting, how to change it, whether the artifact still loads)`.
type Setting = (&'static str, fn(&mut Config), bool);

/// `method(args) => loads`, as a [`Setting`].
macro_rules! settings {
    ($($method:ident($($arg:expr),*) => $loads:expr,)*) => {
        &[$((
            concat!(stringify!($method), "(", stringify!($($arg),*), ")"),
            |c: &mut Config| {
                c.$method($($arg),*);
            },
            $loads,
        )),*]
    };
}

const SETTINGS: &[Setting] = settings! {
    // Change compiled code: bake-time settings.
    epoch_interruption(true) => false,
    consume_fuel(true) => false,
    memory_reservation(1 << 30) => false,
    memory_guard_size(64 << 10) => false,
    memory_may_move(false) => false,
    guard_before_linear_memory(false) => false,
    table_lazy_init(false) => false,
    signals_based_traps(false) => false,
    memory_init_cow(false) => false,
    gc_heap_reservation(1 << 30) => false,
    // Run-time settings: tune them on the host's engine.
    max_wasm_stack(256 << 10) => true,
    async_stack_size(4 << 20) => true,
    memory_reservation_for_growth(0) => true,
    force_memory_init_memfd(true) => true,
    generate_address_map(false) => true,
    wasm_backtrace_max_frames(None) => true,
};

#[test]
fn each_setting_is_a_bake_time_or_a_run_time_setting_as_documented() {
    let mut wrong = Vec::new();
    for (name, change, loads) in SETTINGS {
        let mut config = wasmbake::config();
        change(&mut config);
        let engine = Engine::new(&config).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        let result = MATH.load(&engine);
        if result.is_ok() != *loads {
            wrong.push(format!("{name}: loads = {}, {result:?}", result.is_ok()));
        }
        if let Err(e) = result {
            // Wasmtime's message names what differs, which the wrapping
            // error keeps.
            let message = format!("{e:#}");
            assert!(
                message.contains("plugins/math.wat") && message.contains("compiled with"),
                "{name}: {message}"
            );
        }
        MATH.evict(&engine);
    }
    assert!(wrong.is_empty(), "settings that are not what the guide says:\n{}", wrong.join("\n"));
}

#[test]
fn each_plugin_loads_into_the_engine_of_its_settings() {
    let settings = |epoch, fuel| CodeSettings::DEFAULT.with_epoch_interruption(epoch).with_consume_fuel(fuel);
    let plugins = [(&MATH, settings(false, false)), (&EPOCH, settings(true, false))];
    let plugins = plugins.into_iter().chain([(&FUEL, settings(false, true)), (&BOTH, settings(true, true))]);
    let mut engines: Vec<Engine> = Vec::new();
    for (plugin, settings) in plugins {
        assert_eq!(plugin.code_settings(), settings);
        let engine = plugin.engine().unwrap();
        assert!(Engine::same(&engine, &plugin.engine().unwrap()), "one engine per process and setting set");
        assert!(engines.iter().all(|e| !Engine::same(e, &engine)), "another engine for other settings");
        let module = plugin.load(&engine).unwrap();
        let mut store = Store::new(&engine, ());
        if settings.consume_fuel {
            store.set_fuel(10_000).unwrap();
        }
        if settings.epoch_interruption {
            store.set_epoch_deadline(1);
        }
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let square = instance.get_typed_func::<i32, i32>(&mut store, "square").unwrap();
        assert_eq!(square.call(&mut store, 7).unwrap(), 49);
        if settings.consume_fuel {
            assert!(store.get_fuel().unwrap() < 10_000, "the code counts fuel");
        }
        engines.push(engine);
    }
}

#[test]
fn a_mismatched_engine_is_an_err_naming_the_setting_and_the_fix() {
    let plain = wasmbake::engine().unwrap();
    let cases = [
        (
            EPOCH.load(&plain),
            ["with epoch interruption but it is not", "baked with `epoch_interruption`", "bake it without"],
        ),
        (
            FUEL.load(&plain),
            ["with fuel support but it is not", "baked with `consume_fuel`", "bake it without"],
        ),
        (
            MATH.load(&EPOCH.engine().unwrap()),
            [
                "compiled without epoch interruption",
                "without `epoch_interruption`",
                "bake it with `epoch_interruption`",
            ],
        ),
    ];
    for (result, expected) in cases {
        let message = format!("{:#}", result.unwrap_err());
        for expected in expected.into_iter().chain(["plugins/math.wat", "PLUGIN.engine()"]) {
            assert!(message.contains(expected), "{expected}: {message}");
        }
    }
}

#[test]
fn commands_run_on_the_engine_of_their_settings() {
    for plugin in [&ARGS_EPOCH, &ARGS_FUEL] {
        let out = plugin.command().arg("hello").output().unwrap();
        assert!(out.status.success(), "{}: {}", plugin.source(), String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "args\nhello\n");
    }
}

#[test]
fn the_build_helper_bakes_the_same_settings() {
    let both = CodeSettings::DEFAULT.with_epoch_interruption(true).with_consume_fuel(true);
    assert_eq!(instrumented::MATH.code_settings(), both);
    assert!(Engine::same(&instrumented::MATH.engine().unwrap(), &BOTH.engine().unwrap()));
    assert!(instrumented::MATH.load(&BOTH.engine().unwrap()).is_ok());
    assert!(instrumented::MATH.load(&wasmbake::engine().unwrap()).is_err());
}

#[test]
fn a_command_on_an_engine_of_other_settings_is_an_err_naming_the_setting() {
    // Plugins of `include_plugins!` (the build helper's, baked with both)
    // given an engine without them with `Command::engine`.
    let plain = wasmbake::engine().unwrap();
    let message = format!("{:#}", instrumented::MATH.command().engine(&plain).output().unwrap_err());
    for expected in ["plugins/math.wat", "baked with `consume_fuel`", "PLUGIN.engine()"] {
        assert!(message.contains(expected), "{expected}: {message}");
    }
    // And the other way round: a limit on an engine that has the setting
    // does not make up for a plugin baked without it.
    let timeout = std::time::Duration::from_secs(1);
    let command = MATH.command().engine(&EPOCH.engine().unwrap()).timeout(timeout).output();
    let message = format!("{:#}", command.unwrap_err());
    assert!(message.contains("a timeout needs the plugin baked with `epoch_interruption`"), "{message}");
}

#[test]
fn components_take_the_settings_too() {
    assert!(GUEST_EPOCH.code_settings().epoch_interruption);
    let message = format!("{:#}", GUEST_EPOCH.load(&wasmbake::engine().unwrap()).unwrap_err());
    for expected in ["fixtures/guest.wat", "baked with `epoch_interruption`", "PLUGIN.engine()"] {
        assert!(message.contains(expected), "{expected}: {message}");
    }
    let engine = GUEST_EPOCH.engine().unwrap();
    assert!(Engine::same(&engine, &EPOCH.engine().unwrap()), "modules and components share engines");
    let component = GUEST_EPOCH.load(&engine).unwrap();
    let mut store = Store::new(&engine, ());
    store.set_epoch_deadline(1);
    let instance =
        wasmbake::wasmtime::component::Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    let run = instance.get_typed_func::<(i32,), (i32,)>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, (0,)).unwrap(), (1,));
}
