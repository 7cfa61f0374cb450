//! `WASMBAKE_RUNNER_TRACE=phases`: where an output's start-up goes. The
//! program runs through `Command::run_traced` (which tears the instance down
//! before returning, where a normal run leaves that to the OS), and after it
//! the runner prints to stderr one `STEP=NANOSECONDS` line (`CLOCK_MONOTONIC`)
//! for the start of `main` and for each step that ended: `engine`, `load`,
//! `linker`, `wasi`, `runtime`, `instantiate`, `program`, `teardown`. The
//! benchmark report's phase table is read from these lines.

use wasmbake::Command;

/// The variable and the value that ask for the trace.
const VARIABLE: &str = "WASMBAKE_RUNNER_TRACE";

/// The start of `main`, when a trace was asked for.
pub fn start() -> Option<u64> {
    std::env::var_os(VARIABLE).is_some_and(|v| v == "phases").then(now)
}

/// Runs `command` traced and ends the process with its status.
pub fn run(mut command: Command, name: &str, started: u64) -> String {
    let mut marks = vec![("main", started)];
    match command.run_traced(&mut |step| marks.push((step, now()))) {
        Ok(status) => {
            let lines: String = marks.iter().map(|(step, t)| format!("{step}={t}\n")).collect();
            eprint!("{lines}");
            std::process::exit(status.code())
        }
        Err(error) => format!("{name}: {error:#}"),
    }
}

fn now() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid clock id and a pointer to a timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
