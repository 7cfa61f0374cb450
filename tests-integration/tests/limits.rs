//! The runner's limits: `Command::timeout`, `Command::fuel` and
//! `Command::memory_limit`, on commands, reactors and command components;
//! every limit that cannot be kept is an `Err` before anything runs; and
//! `EpochTicker` for hosts that make their own stores.

use std::time::{Duration, Instant};

use wasmbake::wasmtime::{Instance, Store, Trap};
use wasmbake::{
    Embedded, EmbeddedComponent, EpochTicker, TIMEOUT_EXIT_CODE, TRAP_EXIT_CODE, include_component,
    include_module,
};

static SPIN: Embedded = include_module!("fixtures/wasi/spin.wat", epoch_interruption);
static SPIN_FUEL: Embedded = include_module!("fixtures/wasi/spin.wat", consume_fuel);
static SPIN_PLAIN: Embedded = include_module!("fixtures/wasi/spin.wat");
static HOSTILE: Embedded = include_module!("fixtures/wasi/hostile.wat", epoch_interruption, consume_fuel);
static HOSTILE_PLAIN: Embedded = include_module!("fixtures/wasi/hostile.wat");
static ARGS: Embedded = include_module!("fixtures/wasi/args.wat", epoch_interruption, consume_fuel);
static P2_SPIN: EmbeddedComponent = include_component!("fixtures/wasi/p2-spin.wat", epoch_interruption);
static P2_SPIN_PLAIN: EmbeddedComponent = include_component!("fixtures/wasi/p2-spin.wat");

/// How late a stop may come after its deadline here, where tests share two
/// cores: a correctness bound (never stuck, never early) with room for the
/// scheduler. The report measures the actual lateness against its 50 ms.
const LATE: Duration = Duration::from_millis(250);

fn stderr(output: &wasmbake::Output) -> &str {
    std::str::from_utf8(&output.stderr).unwrap()
}

#[test]
fn a_command_past_its_deadline_is_stopped_with_124_and_one_line() {
    let timeout = Duration::from_millis(100);
    let started = Instant::now();
    let out = SPIN.command().timeout(timeout).output().unwrap();
    let took = started.elapsed();
    assert!(out.status.timed_out() && !out.status.trapped(), "{}", out.status);
    assert_eq!(out.status.code(), TIMEOUT_EXIT_CODE);
    assert_eq!(out.status.code(), 124, "what GNU `timeout` returns");
    assert_eq!(out.status.to_string(), "timed out (exit status: 124)");
    assert_eq!(out.stdout, b"spinning\n", "it ran until stopped");
    assert_eq!(
        stderr(&out),
        "wasmbake: plugin `fixtures/wasi/spin.wat` timed out after 100ms in `spin` ← `run_forever` ← `main`\n",
        "one line: the plugin, the deadline, the functions it was in"
    );
    assert!(took >= timeout, "never early: {took:?}");
    assert!(took < timeout + LATE, "start-up plus the lateness: {took:?}");
}

#[test]
fn a_command_that_ends_in_time_is_not_stopped() {
    let out = ARGS.command().arg("x").timeout(Duration::from_secs(60)).fuel(1_000_000).output().unwrap();
    assert!(out.status.success() && !out.status.timed_out(), "{}", out.status);
    assert_eq!(out.stdout, b"args\nx\n");
}

#[test]
fn a_command_out_of_fuel_traps_with_its_own_message() {
    let out = SPIN_FUEL.command().fuel(10_000).output().unwrap();
    assert!(out.status.trapped() && !out.status.timed_out(), "{}", out.status);
    assert_eq!(out.status.code(), TRAP_EXIT_CODE);
    let text = stderr(&out);
    assert!(
        text.starts_with("wasmbake: plugin `fixtures/wasi/spin.wat` ran out of fuel (10000 units)\n"),
        "{text}"
    );
    assert!(text.contains("all fuel consumed") && text.contains("spin!spin (function 1)"), "{text}");
}

#[test]
fn a_command_component_past_its_deadline_is_stopped() {
    let started = Instant::now();
    let out = P2_SPIN.command().timeout(Duration::from_millis(100)).output().unwrap();
    assert!(out.status.timed_out(), "{}", out.status);
    assert_eq!(out.status.code(), 124);
    let text = stderr(&out);
    assert!(
        text.starts_with("wasmbake: plugin `fixtures/wasi/p2-spin.wat` timed out after 100ms in `spin`"),
        "{text}"
    );
    assert!(started.elapsed() < Duration::from_millis(100) + LATE);
}

#[test]
fn a_limit_the_plugin_was_not_baked_for_is_an_err_before_anything_runs() {
    let message = |result: wasmbake::wasmtime::Result<wasmbake::Output>| format!("{:#}", result.unwrap_err());
    let text = message(SPIN_PLAIN.command().timeout(Duration::from_secs(1)).output());
    assert!(text.contains("`fixtures/wasi/spin.wat`"), "{text}");
    assert!(text.contains("a timeout needs the plugin baked with `epoch_interruption`"), "{text}");
    assert!(text.contains("include_module!(\"…\", epoch_interruption)"), "{text}");
    assert!(text.contains("Builder::epoch_interruption(true)"), "{text}");
    let text = message(SPIN.command().fuel(10).output());
    assert!(text.contains("a fuel limit needs the plugin baked with `consume_fuel`"), "{text}");
    let text = message(P2_SPIN_PLAIN.command().timeout(Duration::from_secs(1)).output());
    assert!(text.contains("include_component!(\"…\", epoch_interruption)"), "{text}");
    let err = HOSTILE_PLAIN.command().fuel(10).reactor().unwrap_err();
    assert!(format!("{err:#}").contains("`consume_fuel`"), "{err:#}");
}

#[test]
fn zero_and_absurd_limits_are_an_err_before_anything_runs() {
    let cases: [(wasmbake::Command, &str); 5] = [
        (SPIN.command().timeout(Duration::ZERO).clone(), "a timeout of zero"),
        (SPIN.command().timeout(Duration::from_secs(u64::MAX)).clone(), "longer than any deadline"),
        (SPIN_FUEL.command().fuel(0).clone(), "a fuel of zero"),
        (SPIN.command().memory_limit(0).clone(), "a memory limit of zero bytes"),
        (SPIN.command().memory_limit(usize::MAX).clone(), "more than any host has"),
    ];
    for (mut command, expected) in cases {
        let text = format!("{:#}", command.output().unwrap_err());
        assert!(text.contains(expected) && text.contains("spin.wat"), "{expected}: {text}");
    }
}

#[test]
fn over_the_memory_limit_memory_grow_fails_and_the_program_sees_it() {
    // 1 MiB: the initial page and 15 more.
    let mut reactor = HOSTILE.command().memory_limit(1 << 20).reactor().unwrap();
    assert_eq!(reactor.call::<(), i32>("grow", ()).unwrap(), 15);
    assert_eq!(reactor.call::<(), i32>("grow", ()).unwrap(), 0, "still refused");
    assert_eq!(reactor.call::<(i32, i32), i32>("add", (2, 3)).unwrap(), 5, "and the instance still works");
    // An instance whose initial memory is over the limit does not start.
    let err = HOSTILE.command().memory_limit(1 << 10).reactor().unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("hostile.wat"), "{text}");
    assert_eq!(text.matches("exceeds memory limits").count(), 1, "said once: {text}");
}

#[test]
fn a_reactor_applies_the_deadline_to_each_call_and_stays_usable() {
    let timeout = Duration::from_millis(100);
    let mut reactor = HOSTILE.command().timeout(timeout).fuel(u64::MAX).reactor().unwrap();
    for _ in 0..2 {
        let started = Instant::now();
        let err = reactor.call::<(), ()>("spin", ()).unwrap_err();
        let took = started.elapsed();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt), "{err:?}");
        assert_eq!(
            err.to_string(),
            "wasmbake: plugin `fixtures/wasi/hostile.wat` timed out after 100ms in `spin` ← `function 4`",
        );
        assert!(took >= timeout && took < timeout + LATE, "{took:?}");
        // Each call gets the whole timeout, and the next call works.
        assert_eq!(reactor.call::<(i32, i32), i32>("add", (40, 2)).unwrap(), 42);
    }
    // Between calls no deadline is left armed for the host's own calls.
    std::thread::sleep(timeout);
    let count = reactor.typed_func::<i32, i32>("count").unwrap();
    assert_eq!(count.call(reactor.store(), 1000).unwrap(), 1000);
}

#[test]
fn a_reactor_call_out_of_fuel_is_its_own_trap_and_fuel_is_per_call() {
    let mut reactor = HOSTILE.command().fuel(50_000).reactor().unwrap();
    let err = reactor.call::<i32, i32>("count", 1_000_000).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::OutOfFuel), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("wasmbake: plugin `fixtures/wasi/hostile.wat` ran out of fuel (50000 units)")
    );
    assert_eq!(reactor.call::<i32, i32>("count", 1_000).unwrap(), 1_000, "a fresh 50 000 for the next call");
}

#[test]
fn a_stack_overflow_is_its_own_trap() {
    let mut reactor = HOSTILE.command().timeout(Duration::from_secs(10)).reactor().unwrap();
    let err = reactor.call::<(), i32>("recurse", ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow), "{err:?}");
    assert_eq!(reactor.call::<(i32, i32), i32>("add", (1, 1)).unwrap(), 2);
}

#[test]
fn hosts_with_their_own_store_share_one_ticker() {
    let engine = HOSTILE.engine().unwrap();
    let module = HOSTILE.load(&engine).unwrap();
    let mut store = Store::new(&engine, ());
    store.set_fuel(u64::MAX).unwrap();
    let ticker = EpochTicker::start(&engine);
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin").unwrap();
    let timeout = Duration::from_millis(60);
    ticker.set_deadline(&mut store, timeout);
    let started = Instant::now();
    let err = spin.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
    assert!(started.elapsed() >= timeout && started.elapsed() < timeout + LATE, "{:?}", started.elapsed());
    // A clone ticks the same engine; the store's deadline can be lifted.
    let again = ticker.clone();
    drop(ticker);
    EpochTicker::clear_deadline(&mut store);
    let count = instance.get_typed_func::<i32, i32>(&mut store, "count").unwrap();
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(count.call(&mut store, 10).unwrap(), 10);
    assert!(wasmbake::wasmtime::Engine::same(again.engine(), &engine));
}
