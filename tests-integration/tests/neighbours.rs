//! A host that keeps serving while plugins misbehave (the load of
//! `wasmbake_test_support::neighbours`, with bounded counts): every benign
//! call returns the right result, every hostile call ends with its own
//! error within its bound, and the process survives. The report times the
//! same load (section "Untrusted plugins").

use std::time::Duration;

use wasmbake::{Embedded, include_module};
use wasmbake_test_support::neighbours::{Hostile, Load, serve};

static HOSTILE: Embedded = include_module!("fixtures/wasi/hostile.wat", epoch_interruption);

/// How late a stopped call may end here (two shared cores): a correctness
/// bound; the report measures the lateness itself.
const LATE: Duration = Duration::from_millis(250);

#[test]
fn benign_calls_are_served_beside_hostile_ones() {
    let load = Load {
        benign_threads: 2,
        calls: 200,
        work: 10_000,
        pause: Duration::from_millis(1),
        hostile: true,
        deadline: Duration::from_millis(100),
        memory_limit: 16 << 20,
        hostile_nice: 0,
    };
    let served = serve(&HOSTILE, load);
    assert!(served.wrong.is_empty(), "benign calls with a wrong result: {:?}", served.wrong);
    assert_eq!(served.latencies.len(), 400, "every benign call was served");
    for what in [Hostile::Spin, Hostile::Grow, Hostile::Recurse] {
        assert!(served.stops.iter().any(|s| s.what == what), "{what:?} ran");
    }
    for stop in &served.stops {
        assert_eq!(stop.outcome, Ok(()), "{stop:?}");
        if stop.what == Hostile::Spin {
            assert!(stop.took >= load.deadline && stop.took < load.deadline + LATE, "{stop:?}");
        }
    }
}
