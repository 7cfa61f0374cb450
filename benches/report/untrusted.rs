//! Section 10: untrusted plugins. What the runner's limits cost and
//! guarantee, measured:
//!
//! * **Hostile neighbours**: benign reactor calls served by two threads as
//!   requests arrive, alone and beside three hostile threads (a call that
//!   never returns under a 100 ms deadline, a plugin growing its memory
//!   until refused, one recursing into a stack overflow): the load of
//!   `wasmbake_test_support::neighbours`, which the test checks with
//!   bounded counts. Latency percentiles of the benign calls, and how late
//!   after its deadline each stopped call ended.
//! * **The instrumentation's cost** on real programs (hello-c, avr-as,
//!   flite): each baked without instrumentation, with `epoch_interruption`
//!   and with `consume_fuel`; the program's own time (`Command::run_traced`
//!   from instantiated to returned, in this process) and the whole process
//!   of a `wasmbake exe` output (`--timeout 1h`, `--fuel` 10^18: limits
//!   never reached, so only the checks cost).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use wasmbake::{CodeSettings, Embedded, Names, Stdio, include_module};
use wasmbake_test_support::neighbours::{self, Hostile, Load};

use crate::cli::{TOOLS, Tool};
use crate::stats::{Samples, time};

static HOSTILE: Embedded =
    include_module!("../tests-integration/fixtures/wasi/hostile.wat", epoch_interruption);

/// The three ways a program is baked here, and the `exe` flags that bake it
/// so (limits far beyond any run).
const BAKES: [(&str, CodeSettings, &[&str]); 3] = [
    ("neither", CodeSettings::DEFAULT, &[]),
    ("`epoch_interruption`", CodeSettings::DEFAULT.with_epoch_interruption(true), &["--timeout", "1h"]),
    ("`consume_fuel`", CodeSettings::DEFAULT.with_consume_fuel(true), &["--fuel", "1000000000000000000"]),
];

pub struct Neighbours {
    pub alone: Samples,
    pub beside: Samples,
    /// Beside hostile threads at nice 19.
    pub beside_nice: Samples,
    /// How late each never-returning call ended after its deadline.
    pub late: Samples,
    /// Hostile calls by kind, in the run beside.
    pub stops: [(Hostile, usize); 3],
    pub calls: usize,
}

pub struct Cost {
    pub tool: &'static str,
    /// Per [`BAKES`]: the program's own time, and the whole process.
    pub program: [Samples; 3],
    pub process: Result<[Samples; 3], String>,
}

pub struct Report {
    pub neighbours: Neighbours,
    pub costs: Vec<Cost>,
}

pub fn measure(root: &Path, corpus: &Path, quick: bool, runs: usize) -> Report {
    eprintln!("report: hostile neighbours");
    let load = Load {
        benign_threads: 2,
        calls: if quick { 200 } else { 3000 },
        work: 10_000,
        pause: Duration::from_millis(1),
        hostile: false,
        deadline: Duration::from_millis(100),
        memory_limit: 16 << 20,
        hostile_nice: 0,
    };
    let alone = neighbours::serve(&HOSTILE, load);
    let beside = neighbours::serve(&HOSTILE, Load { hostile: true, ..load });
    let beside_nice = neighbours::serve(&HOSTILE, Load { hostile: true, hostile_nice: 19, ..load });
    for served in [&alone, &beside, &beside_nice] {
        assert!(served.wrong.is_empty(), "benign calls went wrong: {:?}", served.wrong);
        assert!(served.stops.iter().all(|s| s.outcome.is_ok()), "a hostile call: {:?}", served.stops);
    }
    let seconds = |d: &[Duration]| Samples::new(d.iter().map(Duration::as_secs_f64).collect());
    let late: Vec<Duration> = beside
        .stops
        .iter()
        .filter(|s| s.what == Hostile::Spin)
        .map(|s| s.took.saturating_sub(load.deadline))
        .collect();
    let count = |what| beside.stops.iter().filter(|s| s.what == what).count();
    let neighbours = Neighbours {
        alone: seconds(&alone.latencies),
        beside: seconds(&beside.latencies),
        beside_nice: seconds(&beside_nice.latencies),
        late: seconds(&late),
        stops: [Hostile::Spin, Hostile::Grow, Hostile::Recurse].map(|what| (what, count(what))),
        calls: load.calls * load.benign_threads,
    };
    let names: &[&str] = if quick { &["hello-c"] } else { &["hello-c", "avr-as", "flite"] };
    let costs = TOOLS
        .iter()
        .filter(|t| names.contains(&t.name) && corpus.join(format!("{}.wasm", t.name)).is_file())
        .map(|tool| cost(root, corpus, tool, quick, runs))
        .collect();
    Report { neighbours, costs }
}

/// The three bakes of `tool`, timed.
fn cost(root: &Path, corpus: &Path, tool: &'static Tool, quick: bool, runs: usize) -> Cost {
    eprintln!("report: instrumentation cost of {}", tool.name);
    let wasm = corpus.join(format!("{}.wasm", tool.name));
    let bytes = std::fs::read(&wasm).unwrap();
    let plugins = BAKES.map(|(_, settings, _)| {
        let options = wasmbake_compiler::Options { settings, ..Default::default() };
        let artifact = wasmbake_compiler::engine(&options).unwrap().precompile_module(&bytes).unwrap();
        let artifact = wasmbake_test_support::leak_aligned(&artifact);
        let source: &'static str = Box::leak(format!("{}.wasm", tool.name).into_boxed_str());
        // SAFETY: `precompile_module` output of the compiler's engine for
        // these settings, in 64 KiB-aligned memory never freed.
        let plugin =
            unsafe { Embedded::from_mapped(source, artifact, Names::EMPTY) }.with_code_settings(settings);
        &*Box::leak(Box::new(plugin))
    });
    let program = own_times(&plugins, tool, runs);
    let process = exe_outputs(root, &wasm, tool, quick).map(|outputs| {
        let commands: Vec<(Command, &str)> = outputs
            .iter()
            .map(|exe| {
                let mut command = Command::new(exe);
                command.args(tool.args);
                (command, tool.expect)
            })
            .collect();
        let samples = crate::process::whole_process(&commands, runs);
        let mut samples = samples.into_iter();
        [(); 3].map(|()| samples.next().unwrap())
    });
    Cost { tool: tool.name, program, process }
}

/// Each plugin's own time: from instantiated to `_start` returned, `runs`
/// rounds (the plugins in turn in each, so drift hits all alike) after one
/// checked run each.
fn own_times(plugins: &[&'static Embedded; 3], tool: &Tool, runs: usize) -> [Samples; 3] {
    for plugin in plugins {
        let out = plugin.command().args(tool.args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && stdout.contains(tool.expect), "{}: {stdout:?}", tool.name);
    }
    let mut samples: [Vec<f64>; 3] = Default::default();
    for _ in 0..runs {
        for (plugin, samples) in plugins.iter().zip(samples.iter_mut()) {
            let mut started = None;
            let mut took = Duration::ZERO;
            let mut command = plugin.command();
            command.args(tool.args).stdout(Stdio::null()).stderr(Stdio::null());
            command
                .run_traced(&mut |step| match step {
                    "instantiate" => started = Some(Instant::now()),
                    "program" => took = started.map_or(Duration::ZERO, |s| s.elapsed()),
                    _ => {}
                })
                .unwrap();
            samples.push(took.as_secs_f64());
        }
    }
    samples.map(Samples::new)
}

/// `wasmbake exe` of `wasm` per [`BAKES`] (static in full runs).
fn exe_outputs(
    root: &Path,
    wasm: &Path,
    tool: &Tool,
    quick: bool,
) -> Result<[std::path::PathBuf; 3], String> {
    let cli = crate::cli::wasmbake_cli(root, quick)?;
    let dir = root.join("target/wasmbake-report/untrusted");
    std::fs::create_dir_all(&dir).unwrap();
    let mut outputs = Vec::new();
    for (i, (_, _, flags)) in BAKES.iter().enumerate() {
        let out = dir.join(format!("{}.{i}", tool.name));
        let mut command = Command::new(&cli);
        command.arg("exe").arg(wasm).arg("-o").arg(&out).args(*flags);
        command.env("WASMBAKE_CACHE_DIR", root.join("target/wasmbake"));
        if !quick {
            command.arg("--static");
        }
        let done = command.output().map_err(|e| format!("{cli:?}: {e}"))?;
        if !done.status.success() {
            return Err(String::from_utf8_lossy(&done.stderr).trim().to_owned());
        }
        outputs.push(out);
    }
    Ok(outputs.try_into().unwrap())
}

fn pass(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

/// The worst cost of a bake against "neither", program time and whole
/// process alike: `(ratio − 1)` as a fraction, per tool.
fn overhead(cost: &Cost, bake: usize) -> f64 {
    let program = cost.program[bake].median() / cost.program[0].median();
    let process = cost.process.as_ref().map_or(1.0, |samples| samples[bake].median() / samples[0].median());
    program.max(process) - 1.0
}

pub fn targets(w: &mut String, report: &Report) {
    let n = &report.neighbours;
    let r = n.beside.percentile(99.0) / n.alone.percentile(99.0);
    let _ = writeln!(
        w,
        "| benign p99 with hostile neighbours ≤ 1.5× without | hostile.wat | {r:.2}× ({} vs {}) | {} |",
        time(n.beside.percentile(99.0)),
        time(n.alone.percentile(99.0)),
        pass(r <= 1.5)
    );
    let late = n.late.percentile(100.0);
    let _ = writeln!(
        w,
        "| a call past its deadline stops within 50 ms | hostile.wat | {} late at most ({} runs) | {} |",
        time(late),
        n.late.len(),
        pass(late <= 0.050)
    );
    for cost in &report.costs {
        let o = overhead(cost, 1);
        let _ = writeln!(
            w,
            "| epoch interruption costs ≤ 10 % | {}.wasm | {:+.1} % | {} |",
            cost.tool,
            100.0 * o,
            pass(o <= 0.10)
        );
    }
}

pub fn markdown(w: &mut String, report: &Report, runs: usize) {
    let n = &report.neighbours;
    let _ = writeln!(
        w,
        "\n## 10. Untrusted plugins\n\n**Hostile neighbours.** Two threads serve {} benign calls (`count(10000)` \
         on a reactor instance each, 1 ms between calls, as requests arrive), alone and beside three hostile \
         threads that keep misbehaving on fresh instances until the benign calls are done: {} calls that never \
         return stopped by a 100 ms deadline, {} that grew their memory until a 16 MiB limit refused, {} that \
         recursed into a stack overflow. Every benign result was right and every hostile call ended with its own \
         error.\n\n| benign calls | p50 | p99 | max |\n|---|---|---|---|",
        n.calls, n.stops[0].1, n.stops[1].1, n.stops[2].1
    );
    let rows = [
        ("alone", &n.alone),
        ("beside the hostile threads", &n.beside),
        ("beside them, the hostile threads at nice 19", &n.beside_nice),
    ];
    for (label, s) in rows {
        let _ = writeln!(
            w,
            "| {label} | {} | {} | {} |",
            time(s.median()),
            time(s.percentile(99.0)),
            time(s.percentile(100.0))
        );
    }
    let _ = writeln!(
        w,
        "\nA never-returning call ended {} (median) and {} (max) after its deadline (the ticker advances \
         epochs every {} ms).\n",
        time(n.late.median()),
        time(n.late.percentile(100.0)),
        wasmbake::EpochTicker::TICK.as_millis()
    );
    let _ = writeln!(
        w,
        "**The instrumentation's cost.** Each program baked three ways; *program* is its own time (instantiated \
         to `_start` returned, in the report's process, median of {runs}), *process* the whole process of its \
         `wasmbake exe` output (`--timeout 1h` or `--fuel 10^18`: never reached), median of {runs}; × against \
         the uninstrumented bake.\n\n| program | how | program | process |\n|---|---|---|---|"
    );
    for cost in &report.costs {
        for (i, (label, _, _)) in BAKES.iter().enumerate() {
            let program = &cost.program[i];
            let process = match &cost.process {
                Ok(samples) => format!(
                    "{} ({:.2}×)",
                    time(samples[i].median()),
                    samples[i].median() / samples[0].median()
                ),
                Err(why) => format!("not run: {why}"),
            };
            let _ = writeln!(
                w,
                "| {} | {label} | {} ({:.2}×) | {process} |",
                if i == 0 { cost.tool } else { "" },
                time(program.median()),
                program.median() / cost.program[0].median()
            );
        }
    }
}
