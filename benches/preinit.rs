//! Pre-initialisation on a real interpreter, in one process: the time to a
//! QuickJS plugin's first result (`wasmbake_test_support::quickjs`: a
//! script that builds a 20,000-entry index, then one look-up), through
//! wasmbake's `Reactor`:
//!
//! * `original`: `command().reactor()`, the init function (QuickJS starts
//!   and evaluates the script), then the first call;
//! * `preinitialized`: the snapshot baked with `preinitialize`:
//!   `command().reactor()`, then the first call.
//!
//! Each iteration is a fresh instance, as each process or request of a
//! plugin host would be. Run: `cargo bench -p wasmbake-benches --bench
//! preinit`. Needs the corpus's `qjs-reactor.wasm`.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

#[cfg(wasmbake_quickjs)]
mod cold {
    wasmbake::include_plugins!("qjs_cold.rs");
}
#[cfg(wasmbake_quickjs)]
mod preinit {
    wasmbake::include_plugins!("qjs_preinit.rs");
}

fn first_result(c: &mut Criterion) {
    #[cfg(wasmbake_quickjs)]
    {
        use wasmbake_test_support::quickjs::{FIRST_CALL, eval};
        let (code, expected) = FIRST_CALL;
        let mut group = c.benchmark_group("first_result");
        group
            .sample_size(30)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        for (name, plugin, init) in [("original", &cold::QJS, true), ("preinitialized", &preinit::QJS, false)]
        {
            group.bench_function(name, |b| {
                b.iter(|| {
                    let mut reactor = plugin.command().reactor().unwrap();
                    assert_eq!(eval(&mut reactor, init, code).unwrap(), expected);
                    reactor
                })
            });
        }
        group.finish();
        for (name, plugin) in [("original", &cold::QJS), ("preinitialized", &preinit::QJS)] {
            eprintln!("first_result: the {name} plugin's artifact is {} bytes", plugin.artifact().len());
        }
    }
    #[cfg(not(wasmbake_quickjs))]
    {
        let _ = (c, Duration::ZERO);
        eprintln!("skipped: qjs-reactor.wasm is not in the corpus");
    }
}

criterion_group!(benches, first_result);
criterion_main!(benches);
