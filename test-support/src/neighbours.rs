//! A host that keeps serving while plugins misbehave: the load of the
//! hostile-neighbours test (bounded counts, checked) and of the report's
//! section on untrusted plugins (the same load, timed).
//!
//! Benign threads each serve calls to a reactor instance of their own, as
//! requests arrive (a pause between calls); beside them, with `hostile`,
//! three threads keep misbehaving until the benign calls are done: one
//! calls an export that never returns, under a deadline; one grows its
//! memory until the memory limit refuses; one recurses until the stack
//! overflows. Each hostile call starts on a fresh reactor, as a host would
//! after a plugin misbehaved.
//!
//! The plugin (`tests-integration/fixtures/wasi/hostile.wat`, baked with
//! `epoch_interruption`) provides every export; each thread has its own
//! instance.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wasmbake::Embedded;
use wasmbake::wasmtime::Trap;

/// How much load, and with or without the hostile neighbours.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    /// Threads serving benign calls.
    pub benign_threads: usize,
    /// Calls each benign thread serves.
    pub calls: usize,
    /// The loop count of each benign call (`count(n)`: about a nanosecond
    /// an iteration).
    pub work: i32,
    /// Between two benign calls: requests arriving, not a busy loop.
    pub pause: Duration,
    /// The three hostile threads run beside the benign ones.
    pub hostile: bool,
    /// The deadline of the never-returning call.
    pub deadline: Duration,
    /// The memory limit the growing plugin runs into, in bytes.
    pub memory_limit: usize,
    /// The hostile threads' nice value (0: the benign threads' own): a
    /// host that runs untrusted calls at a lower priority.
    pub hostile_nice: i32,
}

/// What a hostile call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hostile {
    /// Called an export that never returns.
    Spin,
    /// Grew its memory until refused.
    Grow,
    /// Recursed until the stack overflowed.
    Recurse,
}

/// One hostile call: what it was, how long it took, and whether it ended
/// as it must (else what it did instead).
#[derive(Debug)]
pub struct Stop {
    pub what: Hostile,
    pub took: Duration,
    pub outcome: Result<(), String>,
}

/// What a load did: each benign call's latency (and any wrong result), and
/// each hostile call.
#[derive(Debug, Default)]
pub struct Served {
    pub latencies: Vec<Duration>,
    pub wrong: Vec<String>,
    pub stops: Vec<Stop>,
}

/// Runs `load` on `plugin`'s reactors and returns what happened. Panics
/// only if a thread could not start a reactor at all.
pub fn serve(plugin: &'static Embedded, load: Load) -> Served {
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let hostile: Vec<_> = match load.hostile {
            true => [Hostile::Spin, Hostile::Grow, Hostile::Recurse]
                .into_iter()
                .map(|what| {
                    let done = &done;
                    scope.spawn(move || misbehave(plugin, what, &load, done))
                })
                .collect(),
            false => Vec::new(),
        };
        let benign: Vec<_> =
            (0..load.benign_threads).map(|_| scope.spawn(|| benign(plugin, &load))).collect();
        let mut served = Served::default();
        for thread in benign {
            let (latencies, wrong) = thread.join().expect("a benign thread panicked");
            served.latencies.extend(latencies);
            served.wrong.extend(wrong);
        }
        done.store(true, Ordering::Relaxed);
        for thread in hostile {
            served.stops.extend(thread.join().expect("a hostile thread panicked"));
        }
        served
    })
}

/// One benign thread: `load.calls` calls, each checked.
fn benign(plugin: &'static Embedded, load: &Load) -> (Vec<Duration>, Vec<String>) {
    // A deadline far off: benign calls run under one too, as a host
    // guarding every call would.
    let mut reactor = plugin.command().timeout(Duration::from_secs(10)).reactor().expect("a benign reactor");
    let mut latencies = Vec::with_capacity(load.calls);
    let mut wrong = Vec::new();
    for i in 0..load.calls {
        let started = Instant::now();
        let result = reactor.call::<i32, i32>("count", load.work);
        latencies.push(started.elapsed());
        match result {
            Ok(n) if n == load.work => {}
            other => wrong.push(format!("call {i}: count({}) = {other:?}", load.work)),
        }
        std::thread::sleep(load.pause);
    }
    (latencies, wrong)
}

/// One hostile thread: `what`, again and again, until `done` (at least
/// once).
fn misbehave(plugin: &'static Embedded, what: Hostile, load: &Load, done: &AtomicBool) -> Vec<Stop> {
    if load.hostile_nice != 0 {
        nice(load.hostile_nice);
    }
    let mut stops = Vec::new();
    while stops.is_empty() || !done.load(Ordering::Relaxed) {
        let mut command = plugin.command();
        match what {
            Hostile::Spin => command.timeout(load.deadline),
            Hostile::Grow => command.memory_limit(load.memory_limit),
            Hostile::Recurse => &mut command,
        };
        let started = Instant::now();
        let outcome = command.reactor().map_err(|e| format!("{e:#}")).and_then(|mut reactor| match what {
            Hostile::Spin => expect_trap(reactor.call::<(), ()>("spin", ()), Trap::Interrupt),
            Hostile::Recurse => expect_trap(reactor.call::<(), i32>("recurse", ()), Trap::StackOverflow),
            Hostile::Grow => {
                // The limit less the initial page, in pages.
                let pages = (load.memory_limit / 65536) as i32 - 1;
                match reactor.call::<(), i32>("grow", ()) {
                    Ok(grown) if grown == pages => Ok(()),
                    other => Err(format!("grow: {other:?}, not {pages} pages and a refusal")),
                }
            }
        });
        stops.push(Stop { what, took: started.elapsed(), outcome });
    }
    stops
}

fn expect_trap<T: std::fmt::Debug>(result: wasmbake::wasmtime::Result<T>, trap: Trap) -> Result<(), String> {
    match result {
        Err(e) if e.downcast_ref::<Trap>() == Some(&trap) => Ok(()),
        other => Err(format!("expected {trap:?}, got {other:?}")),
    }
}

/// Sets this thread's nice value (Linux: `setpriority` of a thread id is
/// per thread).
fn nice(value: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on this thread's own id.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        assert_eq!(libc::setpriority(libc::PRIO_PROCESS, tid, value), 0, "setpriority");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = value;
}
