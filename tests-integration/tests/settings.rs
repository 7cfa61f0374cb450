//! Which engine settings a baked artifact depends on, measured against
//! Wasmtime's compatibility check rather than assumed: a host engine is
//! `wasmbake::config()` with one setting changed, and the plugin either
//! loads into it (a run-time setting, free to tune) or is refused with an
//! `Err` naming the setting (it changes compiled code, so it must be baked
//! in). The guide's table ("Tuning the engine") is this list.

use wasmbake::wasmtime::{Config, Engine};

static MATH: wasmbake::Embedded = wasmbake::include_module!("plugins/math.wat");

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
