//! The benchmark report: every module in the shared corpus (drop a `.wasm`
//! in, get a row), synthetic modules with up to 100k long mangled names, and
//! the bundled example plugin, measured side by side in one run:
//! load paths, name lookups, memory, whole processes and build cost. Writes
//! `BENCHMARKS.md` and `BENCHMARKS.svg` at the repository root:
//!
//! ```sh
//! cargo bench -p wasmbake-benches --bench report             # full: BENCHMARKS.md (about 45 minutes)
//! cargo bench -p wasmbake-benches --bench report -- --quick  # smoke run, into target/
//! cargo bench -p wasmbake-benches --bench report -- --components  # components' sections alone
//! cargo bench -p wasmbake-benches --bench report -- --untrusted   # untrusted plugins' section alone
//! cargo bench -p wasmbake-benches --bench report -- --startup     # section 6 alone (core-module commands)
//! cargo bench --workspace --profile dev --bench report -- --quick  # CI's: no release build
//! ```
//!
//! A debug build of the report builds what it measures in debug too
//! (`process::RELEASE`), so CI's smoke run reuses the test command's
//! build; only a release build may regenerate BENCHMARKS.md.
//!
//! The hand-written analysis at the end of BENCHMARKS.md comes from
//! `ANALYSIS.md` beside this file.

mod cli;
mod components;
mod hardened;
mod instantiate;
mod load;
mod memory;
mod modules;
mod names;
mod plot;
mod process;
mod stats;
mod untrusted;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use modules::{Baked, Subject};
use stats::{Samples, bytes, ratio, time};
use wasmbake::wasmtime::Engine;

#[global_allocator]
static GLOBAL: wasmbake_test_support::Counting = wasmbake_test_support::Counting;

/// How much of everything to do.
struct Plan {
    quick: bool,
    synthetic: &'static [u32],
    precompile_runs: usize,
    load_rounds: (usize, usize),
    load_budget: Duration,
    /// Modules below this size are also compiled (`Module::new`) per round.
    compile_below: usize,
    /// Name queries per module: every name up to this many (the full run asks
    /// all 100k names of the largest table, so no subset stays in cache).
    queries: usize,
    first_runs: usize,
    rss_runs: usize,
    process_runs: usize,
    rebuild_runs: usize,
    /// Fresh processes per path and module for first instantiation.
    first_instance_runs: usize,
}

const FULL: Plan = Plan {
    quick: false,
    synthetic: &[1_000, 10_000, 20_000, 100_000],
    precompile_runs: 3,
    load_rounds: (15, 400),
    load_budget: Duration::from_secs(6),
    compile_below: 1_000_000,
    queries: 100_000,
    first_runs: 21,
    rss_runs: 3,
    process_runs: 21,
    rebuild_runs: 3,
    first_instance_runs: 11,
};

const QUICK: Plan = Plan {
    quick: true,
    synthetic: &[1_000],
    precompile_runs: 1,
    load_rounds: (3, 3),
    load_budget: Duration::ZERO,
    compile_below: 200_000,
    queries: 1_000,
    first_runs: 3,
    rss_runs: 1,
    process_runs: 3,
    rebuild_runs: 1,
    first_instance_runs: 2,
};

fn main() {
    // `cargo bench` passes `--bench`; criterion filters meant for the other
    // bench (`cargo bench -- names`) are not ours.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    match args.first().map(String::as_str) {
        Some("--rss") => return memory::child(&args[1..]),
        Some("--host-compile") => return process::compile_child(&args[1..]),
        Some("--first-instance") => return instantiate::child(&args[1..]),
        Some("--first-component") => return components::child(&args[1..]),
        Some("--quick") if args.len() == 1 => return report(&QUICK),
        Some("--components") if args.len() == 1 && process::RELEASE => return components_report(),
        Some("--untrusted") if args.len() == 1 && process::RELEASE => return untrusted_report(),
        Some("--startup") if args.len() == 1 && process::RELEASE => return startup_report(),
        None if process::RELEASE => return report(&FULL),
        None => {
            eprintln!(
                "report: a full run regenerates BENCHMARKS.md and needs a release build: cargo bench -p wasmbake-benches --bench report"
            );
            std::process::exit(2);
        }
        _ => {}
    }
    eprintln!(
        "report: not run (arguments {args:?}); run it alone: cargo bench -p wasmbake-benches --bench report [-- --quick]"
    );
}

struct Measured {
    subject: Subject,
    baked: Baked,
    load: load::LoadRow,
    names: Option<names::NamesRow>,
    memory: [memory::Added; 3],
    process: Option<ProcessRow>,
    /// Load + first instantiation per image path (not for synthetic modules).
    first: Option<Vec<instantiate::Row>>,
}

struct ProcessRow {
    call: &'static str,
    embedded: Samples,
    file: Samples,
    compile: Option<Samples>,
    host: process::Host,
}

fn report(plan: &Plan) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned();
    let corpus_dir = wasmbake_test_support::corpus::dir();
    let work = root.join("target/wasmbake-report");
    let out_dir = if plan.quick { work.join("quick") } else { root.clone() };
    std::fs::create_dir_all(&out_dir).unwrap();
    let synth_dir = work.join("modules");
    std::fs::create_dir_all(&synth_dir).unwrap();

    // Subjects: the bundled example plugin, the corpus, synthetic modules.
    let calc = root.join("examples/plugins/calc.wat");
    let calc_wasm = synth_dir.join("calc.wasm");
    std::fs::write(&calc_wasm, wat::parse_file(&calc).unwrap()).unwrap();
    let mut subjects = vec![Subject::from_wasm(
        "calc.wat (bundled)".into(),
        false,
        std::fs::read(&calc_wasm).unwrap(),
        calc_wasm,
    )];
    let mut corpus = modules::corpus(&corpus_dir);
    if corpus.is_empty() {
        eprintln!("report: no corpus at {}: corpus rows are skipped", corpus_dir.display());
    }
    if plan.quick {
        corpus.retain(|s| s.name == "hello-c.wasm");
    }
    subjects.extend(corpus);
    for &n in plan.synthetic {
        eprintln!("report: generating synthetic module with {n} functions");
        subjects.push(modules::synthetic(n, &synth_dir));
    }

    let compiler = wasmbake_compiler::Compiler::new(&wasmbake_compiler::Options::default()).unwrap();
    let compile_engine = wasmbake_compiler::engine(&wasmbake_compiler::Options::default()).unwrap();
    let ours = wasmbake::engine().unwrap();
    let plain = Engine::new(&wasmbake::__private::wasm_config()).unwrap();

    let none_host = process::build(&root, None, plan.rebuild_runs);
    let mut measured = Vec::new();
    let mut warm_up = None;
    let mut warm_up_cow_off = None;
    for subject in subjects {
        eprintln!("report: {} ({})", subject.name, bytes(subject.wasm.len() as u64));
        let baked = modules::bake(&subject, &compiler, &compile_engine, &work, plan.precompile_runs);
        let load = load::measure(
            &subject,
            &baked,
            &ours,
            &plain,
            plan.compile_below,
            plan.load_rounds,
            plan.load_budget,
        );
        let names = (subject.named > 0)
            .then(|| names::measure(&subject, &baked, &plain, plan.queries, plan.first_runs));
        // The first subject (the bundled plugin, a few kB) warms up each path.
        let warm_up = warm_up.get_or_insert_with(|| baked.stripped.clone()).clone();
        let memory = memory::measure(&baked.stripped, &warm_up, plan.rss_runs);
        let process = (!subject.synthetic).then(|| {
            let module =
                if subject.name.starts_with("calc.wat") { calc.clone() } else { subject.path.clone() };
            let call = if subject.name.starts_with("calc.wat") { "add" } else { "" };
            let expect = if call == "add" { "add(2, 3) = 5" } else { "instantiated" };
            let host = process::build(&root, Some(&module), plan.rebuild_runs);
            let mut commands = vec![
                (cmd(&host.binary, [call]), expect),
                (cmd(&none_host.binary, [baked.stripped.to_str().unwrap(), call]), expect),
            ];
            let compile = subject.wasm.len() < plan.compile_below;
            if compile {
                let exe = std::env::current_exe().unwrap();
                commands.push((cmd(&exe, ["--host-compile", subject.path.to_str().unwrap(), call]), expect));
            }
            let mut samples = process::whole_process(&commands, plan.process_runs).into_iter();
            ProcessRow {
                call,
                embedded: samples.next().unwrap(),
                file: samples.next().unwrap(),
                compile: samples.next(),
                host,
            }
        });
        let first = (!subject.synthetic).then(|| {
            let cow_off = work.join(format!("{}.cow-off.cwasm", subject.name));
            instantiate::bake_cow_off(&subject.wasm, &cow_off);
            let warm_up_cow_off = warm_up_cow_off.get_or_insert_with(|| cow_off.clone()).clone();
            eprintln!("report: first instantiation of {}", subject.name);
            instantiate::measure(
                &instantiate::Artifacts { cwasm: &baked.stripped, cow_off: &cow_off },
                &instantiate::Artifacts { cwasm: &warm_up, cow_off: &warm_up_cow_off },
                plan.first_instance_runs,
            )
        });
        measured.push(Measured { subject, baked, load, names, memory, process, first });
    }

    let svg = out_dir.join("BENCHMARKS.svg");
    let series = |label, color, f: &dyn Fn(&load::LoadRow) -> f64| plot::Series {
        label,
        color,
        points: measured
            .iter()
            .map(|m| (m.subject.wasm.len() as f64, f(&m.load)))
            .filter(|p| !p.1.is_nan())
            .collect(),
    };
    plot::load_time_vs_size(
        &svg,
        &[
            series("wasmbake in place", plotters::style::RGBColor(0, 114, 178), &|l| l.in_place.median()),
            series("in place, names kept", plotters::style::RGBColor(86, 180, 233), &|l| {
                l.in_place_kept.median()
            }),
            series("Module::deserialize_file", plotters::style::RGBColor(0, 158, 115), &|l| {
                l.deserialize_file.median()
            }),
            series("Module::deserialize", plotters::style::RGBColor(213, 94, 0), &|l| l.deserialize.median()),
            series("Module::new (compile)", plotters::style::RGBColor(204, 121, 167), &|l| {
                l.module_new.median()
            }),
        ],
    )
    .unwrap();
    let cli = match corpus_dir.join("hello-c.c").is_file() {
        true => {
            Some(cli::measure(&root, &work, &corpus_dir, plan.quick, plan.process_runs, &cli::tools(None)))
        }
        false => None,
    };
    // Section 8: the bundled plugin and the corpus commands that have a
    // first call to make (hello-c, avr-as; full runs: flite too).
    let mut hardened_rows =
        vec![hardened::measure(&root, "calc.wat (bundled)", &calc, "add", plan.process_runs)];
    let hardened_corpus: &[&str] = if plan.quick { &["hello-c"] } else { &["hello-c", "avr-as", "flite"] };
    for name in hardened_corpus {
        let wasm = corpus_dir.join(format!("{name}.wasm"));
        if wasm.is_file() {
            hardened_rows.push(hardened::measure(
                &root,
                &format!("{name}.wasm"),
                &wasm,
                "",
                plan.process_runs,
            ));
        }
    }
    // Section 9: after section 6, which installs Wasmtime's CLI in full runs.
    let component_rows = measure_components(plan, &compiler, &root, &corpus_dir);
    // Section 10.
    let untrusted = untrusted::measure(&root, &corpus_dir, plan.quick, plan.process_runs);
    let sections = Sections {
        cli: cli.as_ref(),
        hardened: &hardened_rows,
        components: &component_rows,
        untrusted: &untrusted,
    };
    let md = markdown(plan, &measured, &none_host, &sections, &root);
    let path = out_dir.join("BENCHMARKS.md");
    std::fs::write(&path, md).unwrap();
    eprintln!("report: wrote {} and {}", path.display(), svg.display());
}

/// Section 9's rows: every corpus component (`--quick`: hello-c's).
fn measure_components(
    plan: &Plan,
    compiler: &wasmbake_compiler::Compiler,
    root: &Path,
    corpus_dir: &Path,
) -> Vec<components::Row> {
    let work = &root.join("target/wasmbake-report");
    let wasmtime = cli::wasmtime_cli(root, false);
    let mut rows = Vec::new();
    let mut warm_up: Option<PathBuf> = None;
    for path in components::corpus(corpus_dir, plan.quick) {
        let setup = components::Setup {
            compiler,
            work,
            bake_runs: plan.precompile_runs,
            load_rounds: plan.load_rounds,
            load_budget: plan.load_budget,
            first_runs: plan.first_instance_runs,
            warm_up: warm_up.as_deref(),
            wasmtime: &wasmtime,
        };
        let (row, cwasm) = components::measure(&path, &setup);
        // The smallest component warms up every later one's path.
        warm_up.get_or_insert(cwasm);
        rows.push(row);
    }
    rows
}

/// `--components`: the component figures alone, with the full run's sample
/// counts, into `target/wasmbake-report/components/BENCHMARKS.md`: section 9,
/// and section 6 for the command components beside the same programs as
/// core modules. Its runners are built as in `--quick` (the dynamic toolbox
/// and phase host in this build's profile, the `wasmbake` the test command
/// built; no static toolbox, nothing installed: Wasmtime's CLI is used when
/// a full run has installed it).
fn components_report() {
    let plan = &FULL;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned();
    let corpus_dir = wasmbake_test_support::corpus::dir();
    let work = root.join("target/wasmbake-report");
    let out_dir = work.join("components");
    std::fs::create_dir_all(&out_dir).unwrap();
    let compiler = wasmbake_compiler::Compiler::new(&wasmbake_compiler::Options::default()).unwrap();
    let tools = cli::tools(Some(&["hello-c", "avr-as", "hello-c.component", "avr-as.component"]));
    let cli = cli::measure(&root, &work, &corpus_dir, true, plan.process_runs, &tools);
    let rows = measure_components(plan, &compiler, &root, &corpus_dir);
    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(
        w,
        "# wasmbake benchmarks: components\n\nGenerated by `cargo bench -p wasmbake-benches --bench report -- \
         --components` (sections 6 and 9 of the full report, for components). **Machine:** {}.\n",
        machine(&root)
    );
    let _ = writeln!(w, "## Targets\n\n| target | module | measured | |\n|---|---|---|---|");
    cli::targets(w, &cli);
    components::targets(w, &rows);
    cli::markdown(w, &cli, plan.process_runs);
    components::markdown(w, &rows, plan.first_instance_runs);
    let path = out_dir.join("BENCHMARKS.md");
    std::fs::write(&path, md).unwrap();
    eprintln!("report: wrote {}", path.display());
}

/// `--startup`: section 6 alone for the core-module commands, as a full run
/// measures it (static toolboxes, the exe outputs, Wasmtime's CLI, WAMR,
/// the native program), into `target/wasmbake-report/startup/BENCHMARKS.md`.
fn startup_report() {
    let plan = &FULL;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned();
    let corpus_dir = wasmbake_test_support::corpus::dir();
    let work = root.join("target/wasmbake-report");
    let out_dir = work.join("startup");
    std::fs::create_dir_all(&out_dir).unwrap();
    let tools = cli::tools(Some(&["hello-c", "avr-as", "flite"]));
    let cli = cli::measure(&root, &work, &corpus_dir, false, plan.process_runs, &tools);
    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(
        w,
        "# wasmbake benchmarks: start-up\n\nGenerated by `cargo bench -p wasmbake-benches --bench report -- \
         --startup` (section 6 of the full report, core-module commands). **Machine:** {}.\n",
        machine(&root)
    );
    let _ = writeln!(w, "## Targets\n\n| target | module | measured | |\n|---|---|---|---|");
    cli::targets(w, &cli);
    cli::markdown(w, &cli, plan.process_runs);
    let path = out_dir.join("BENCHMARKS.md");
    std::fs::write(&path, md).unwrap();
    eprintln!("report: wrote {}", path.display());
}

/// `--untrusted`: section 10 alone, with the full run's sample counts, into
/// `target/wasmbake-report/untrusted/BENCHMARKS.md`.
fn untrusted_report() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned();
    let corpus_dir = wasmbake_test_support::corpus::dir();
    let out_dir = root.join("target/wasmbake-report/untrusted");
    std::fs::create_dir_all(&out_dir).unwrap();
    let report = untrusted::measure(&root, &corpus_dir, false, FULL.process_runs);
    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(
        w,
        "# wasmbake benchmarks: untrusted plugins\n\nGenerated by `cargo bench -p wasmbake-benches --bench report -- \
         --untrusted` (section 10 of the full report). **Machine:** {}.\n",
        machine(&root)
    );
    let _ = writeln!(w, "## Targets\n\n| target | module | measured | |\n|---|---|---|---|");
    untrusted::targets(w, &report);
    untrusted::markdown(w, &report, FULL.process_runs);
    let path = out_dir.join("BENCHMARKS.md");
    std::fs::write(&path, md).unwrap();
    eprintln!("report: wrote {}", path.display());
}

fn cmd<const N: usize>(program: &Path, args: [&str; N]) -> Command {
    let mut c = Command::new(program);
    c.args(args.iter().filter(|a| !a.is_empty()));
    c
}

fn machine(root: &Path) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu =
        cpuinfo.lines().find_map(|l| l.strip_prefix("model name")?.split(':').nth(1)).unwrap_or("?").trim();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let wasmtime = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"wasmtime\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
        .unwrap_or("?")
        .trim_matches('"');
    format!(
        "{cpu}, {cores} cores, {:.0} GiB RAM, Linux {}; {rustc}; Wasmtime {wasmtime}",
        mem_kb as f64 / 1048576.0,
        kernel.trim()
    )
}

fn pass(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

/// The sections measured apart from the modules' rows.
struct Sections<'a> {
    cli: Option<&'a cli::CliReport>,
    hardened: &'a [hardened::Row],
    components: &'a [components::Row],
    untrusted: &'a untrusted::Report,
}

fn markdown(
    plan: &Plan,
    measured: &[Measured],
    none: &process::Host,
    sections: &Sections,
    root: &Path,
) -> String {
    let Sections { cli, hardened: hardened_rows, components: component_rows, untrusted } = *sections;
    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(w, "# wasmbake benchmarks\n");
    let _ = writeln!(
        w,
        "Generated by `cargo bench -p wasmbake-benches --bench report`{} — do not edit by hand; the \
         analysis at the end is `benches/report/ANALYSIS.md`. The plot is [BENCHMARKS.svg](BENCHMARKS.svg).\n",
        if plan.quick { " -- --quick (a smoke run: few samples, not for quoting)" } else { "" }
    );
    let _ = writeln!(w, "**Machine:** {}.\n", machine(root));
    let _ = writeln!(
        w,
        "**Method.** One process measures everything side by side, interleaving the paths round by round \
         (so drift on this noisy VM hits all alike) and reports medians; ratios are baseline ÷ wasmbake \
         from the same run. Artifacts are compiled once per module by wasmbake's compiler (x86-64-v2 \
         baseline, the shared `wasmbake::__private::wasm_config()`): *stripped* is what wasmbake embeds (name section \
         removed before precompiling), *kept* the same module precompiled with its names, as an application \
         without wasmbake would ship it.\n\n\
         - **First load per process state.** *In place* is `Embedded::load` over the artifact mapped \
         privately and read-only from its file at a 64 KiB boundary — what `.rodata` is in a freshly started \
         binary — with the pages dropped from the page tables (`MADV_DONTNEED`) before every load, so each \
         load faults them in from the page cache as the first load after exec does. `deserialize` copies \
         bytes already in memory; `deserialize_file` maps a `.cwasm` (page cache warm); `Module::new` compiles \
         (modules under {} only). Every module is dropped (and evicted) outside the clock.\n\
         - **Name lookups** over up to {} of the module's names in a fixed random order, after a warm-up \
         pass; queries are strings the application owns; misses are the same names with `_` appended. The \
         headline figure is the median, over batches of 256 lookups made back to back, of the time per lookup \
         (what criterion measures). Beside it, single lookups each timed alone with the TSC between `lfence`s \
         (calibrated against `Instant`, minus the cost of an empty timing): their median and p99. A lone \
         lookup cannot overlap with its neighbours, so its median is higher than the batched one. \
         Allocations are counted by the report's global allocator.\n\
         - **Time to first name** from a cold start of each path: wasmbake: the table's pages are not mapped \
         (as right after exec) and nothing is initialised; *HashMap*: read the `.wasm` and parse its name section \
         with wasmparser into a `HashMap<u32, String>`; *Wasmtime*: `deserialize_file` of the artifact that keeps \
         names, then `Module::functions()`. Engine creation is not counted.\n\
         - **Memory:** a fresh process per path and module (`--rss`), `/proc/self/smaps_rollup` before and \
         after the load with the module alive. *Anon* is private memory (copies, decoded metadata); *file* are \
         clean pages of the mapped artifact, shared with the page cache.\n\
         - **Whole process:** wall time from spawn to exit, {} runs per host after one warm-up run, interleaved. \
         The hosts are small generated crates (`target/wasmbake-report/hosts/`): the plugin host bakes the \
         module with `wasmbake_build` and loads it in place; the file host is the same program without plugins, \
         loading the same artifact with `deserialize_file`; the compile host is the report binary (it links \
         Cranelift) compiling with `Module::from_file`. Each instantiates the module (imports are stubs that \
         trap) and calls `add(2, 3)` where the plugin has it.\n\
         - **Build cost:** `Compiler::bake` per module (median of {}), and the rebuild of each host after \
         touching its `main.rs` (median of {}), against the host without plugins.\n",
        bytes(plan.compile_below as u64),
        plan.queries,
        plan.process_runs,
        plan.precompile_runs,
        plan.rebuild_runs,
    );

    // Targets, from this run's numbers.
    let _ = writeln!(w, "## Targets\n\n| target | module | measured | |\n|---|---|---|---|");
    for m in measured.iter().filter(|m| !m.subject.synthetic && m.subject.wasm.len() >= 5_000_000) {
        let l = &m.load;
        let r = l.deserialize.median() / l.in_place.median();
        let _ = writeln!(
            w,
            "| in place ≥ 25× `deserialize` | {} | {r:.1}× | {} |",
            m.subject.name,
            pass(r >= 25.0)
        );
        let r = l.deserialize_file.median() / l.in_place.median();
        let _ = writeln!(
            w,
            "| in place ≥ 1.3× `deserialize_file` | {} | {r:.2}× | {} |",
            m.subject.name,
            pass(r >= 1.3)
        );
    }
    for m in measured.iter().filter(|m| m.subject.named >= 20_000) {
        let r = m.load.in_place_kept.median() / m.load.in_place.median();
        let _ = writeln!(
            w,
            "| stripping names ≥ 1.25× faster in place (≥ 20k names) | {} | {r:.2}× | {} |",
            m.subject.name,
            pass(r >= 1.25)
        );
    }
    for m in measured.iter().filter(|m| m.subject.named >= 100_000) {
        let n = m.names.as_ref().unwrap();
        for (what, l) in
            [("index → name", &n.ours_name_of), ("name → index", &n.ours_index_of), ("miss", &n.ours_miss)]
        {
            let med = l.batched.median();
            let _ = writeln!(
                w,
                "| lookups ≤ 50 ns median, 0 allocations ({what}, 100k names) | {} | {}, {} allocs | {} |",
                m.subject.name,
                time(med),
                l.allocs,
                pass(med <= 50e-9 && l.allocs == 0.0)
            );
        }
    }
    for m in measured.iter() {
        if let Some(p) = &m.process {
            let r = p.embedded.median() / p.file.median();
            let _ = writeln!(
                w,
                "| whole process ≤ ½ of the `deserialize_file` host | {} | {:.2} of it | {} |",
                m.subject.name,
                r,
                pass(r <= 0.5)
            );
        }
    }

    // The cache check on the largest corpus module (as a host rebuild).
    if let Some(m) = measured
        .iter()
        .filter(|m| !m.subject.synthetic && m.process.is_some())
        .max_by_key(|m| m.subject.wasm.len())
    {
        let hit = Samples::new(m.baked.cache_hit.clone()).median();
        let rebuild = m.process.as_ref().unwrap().host.rebuild.median();
        let r = hit / rebuild;
        let _ = writeln!(
            w,
            "| verifying a cache hit ≤ 5 % of a cached rebuild (largest module) | {} | {:.1} % ({} of {}) | {} |",
            m.subject.name,
            100.0 * r,
            time(hit),
            time(rebuild),
            pass(r <= 0.05)
        );
    }
    if let Some(cli) = cli {
        cli::targets(w, cli);
    }
    for m in measured {
        if let Some(rows) = &m.first {
            instantiate::targets(w, &m.subject.name, instantiate::data_len(&m.baked.stripped), rows);
        }
    }
    components::targets(w, component_rows);
    untrusted::targets(w, untrusted);

    let _ = writeln!(w, "\n![load time vs module size](BENCHMARKS.svg)\n");

    let _ = writeln!(
        w,
        "## Modules\n\n| module | size | functions (imported) | named | name section | artifact (names stripped) | artifact (names kept) | wasmbake name table |\n|---|---|---|---|---|---|---|---|"
    );
    for m in measured {
        let s = &m.subject;
        let _ = writeln!(
            w,
            "| {} | {} | {} ({}) | {} | {} | {} | {} | {} |",
            s.name,
            bytes(s.wasm.len() as u64),
            s.functions,
            s.imported,
            s.named,
            bytes(s.name_section as u64),
            bytes(m.baked.stripped_len),
            bytes(m.baked.kept_len),
            bytes(m.baked.table_len)
        );
    }

    let _ = writeln!(
        w,
        "\n## 1. Load\n\nSame (stripped) artifact for every path; × is how many times longer the baseline takes.\n\n\
         | module | samples | wasmbake in place | `deserialize` | `deserialize_file` | `Module::new` |\n|---|---|---|---|---|---|"
    );
    for m in measured {
        let l = &m.load;
        let ours = l.in_place.median();
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} ({}) | {} ({}) | {} |",
            m.subject.name,
            l.in_place.len(),
            time(ours),
            time(l.deserialize.median()),
            ratio(l.deserialize.median(), ours),
            time(l.deserialize_file.median()),
            ratio(l.deserialize_file.median(), ours),
            if l.module_new.len() == 0 {
                "not run".to_owned()
            } else {
                format!("{} ({})", time(l.module_new.median()), ratio(l.module_new.median(), ours))
            }
        );
    }
    let _ = writeln!(
        w,
        "\n**What stripping names buys.** In place with the name section kept in the artifact, and the \
         application's usual alternative: `deserialize_file` of an artifact that keeps names.\n\n\
         | module | named | in place (stripped) | in place (names kept) | stripping buys | `deserialize_file` (names kept) |\n|---|---|---|---|---|---|"
    );
    for m in measured {
        let l = &m.load;
        let ours = l.in_place.median();
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} ({}) |",
            m.subject.name,
            m.subject.named,
            time(ours),
            time(l.in_place_kept.median()),
            ratio(l.in_place_kept.median(), ours),
            time(l.deserialize_file_kept.median()),
            ratio(l.deserialize_file_kept.median(), ours)
        );
    }

    let _ = writeln!(
        w,
        "\n## 2. Names\n\nMedian time per lookup in batches of 256 (single lookups: median / p99); allocations per lookup.\n\n\
         | module | names | how | index → name | name → index | miss | allocs |\n|---|---|---|---|---|---|---|"
    );
    let cell = |l: &names::Lookup| {
        format!(
            "{} ({} / {})",
            time(l.batched.median()),
            time(l.single.median()),
            time(l.single.percentile(99.0))
        )
    };
    for m in measured {
        let Some(n) = &m.names else { continue };
        let _ = writeln!(
            w,
            "| {} | {} | **wasmbake** | {} | {} | {} | {} |",
            m.subject.name,
            n.count,
            cell(&n.ours_name_of),
            cell(&n.ours_index_of),
            cell(&n.ours_miss),
            n.ours_name_of.allocs + n.ours_index_of.allocs + n.ours_miss.allocs
        );
        let _ = writeln!(
            w,
            "| | | wasmparser → `HashMap` | {} | {} | {} | {} |",
            cell(&n.map_name_of),
            cell(&n.map_index_of),
            cell(&n.map_miss),
            n.map_name_of.allocs + n.map_index_of.allocs + n.map_miss.allocs
        );
        let _ = writeln!(
            w,
            "| | | Wasmtime `Module::functions()` | {} | {} (a scan: no such API) | – | {:.0} + {:.0} |",
            cell(&n.wasmtime_name_of),
            cell(&n.wasmtime_index_of),
            n.wasmtime_name_of.allocs,
            n.wasmtime_index_of.allocs
        );
    }
    let _ = writeln!(
        w,
        "\n**Time to first name** (median of {} cold starts; × against wasmbake):\n\n\
         | module | wasmbake | wasmparser → `HashMap` | Wasmtime (names kept) |\n|---|---|---|---|",
        plan.first_runs
    );
    for m in measured {
        let Some(n) = &m.names else { continue };
        let ours = n.first_ours.median();
        let _ = writeln!(
            w,
            "| {} | {} | {} ({}) | {} ({}) |",
            m.subject.name,
            time(ours),
            time(n.first_map.median()),
            ratio(n.first_map.median(), ours),
            time(n.first_wasmtime.median()),
            ratio(n.first_wasmtime.median(), ours)
        );
    }

    let _ = writeln!(
        w,
        "\n## 3. Memory\n\nRSS a load adds (module alive): total = anon + file-backed.\n\n\
         | module | artifact | in place | `deserialize` | `deserialize_file` |\n|---|---|---|---|---|"
    );
    let kb = |k: i64| stats::signed_bytes(k * 1024);
    for m in measured {
        let cells: Vec<String> = m
            .memory
            .iter()
            .map(|a| format!("{} = {} anon + {} file", kb(a.rss), kb(a.anon), kb(a.file)))
            .collect();
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} |",
            m.subject.name,
            bytes(m.baked.stripped_len),
            cells[0],
            cells[1],
            cells[2]
        );
    }

    let _ = writeln!(
        w,
        "\n## 4. Whole process\n\nSpawn → load → instantiate → first call → exit (median of {} runs; × against the wasmbake host).\n\n\
         | module | first call | wasmbake host (in place) | `deserialize_file` host | compile at start |\n|---|---|---|---|---|",
        plan.process_runs
    );
    for m in measured {
        let Some(p) = &m.process else { continue };
        let ours = p.embedded.median();
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} ({}) | {} |",
            m.subject.name,
            if p.call.is_empty() { "instantiate only" } else { "`add(2, 3)`" },
            time(ours),
            time(p.file.median()),
            ratio(p.file.median(), ours),
            p.compile.as_ref().map_or("not run".to_owned(), |c| format!(
                "{} ({})",
                time(c.median()),
                ratio(c.median(), ours)
            ))
        );
    }

    let _ = writeln!(
        w,
        "\n## 5. Build cost\n\nThe host without plugins: rebuild {} after touching `main.rs`, binary {}. \
         *Overhead* is the plugin host's binary minus the plugin-free one minus (artifact + name table): \
         alignment padding and the generated code.\n\n\
         *Cache hit* is `Compiler::bake` on a warm cache (median of 5): what the macro or the helper pays \
         on every rebuild to verify the cache entry (both files read, digest checked), and its share of the \
         host's rebuild.\n\n\
         | module | precompile (`Compiler::bake`) | cache hit (verified) | host rebuild | vs no plugins | binary | artifact + names | overhead |\n|---|---|---|---|---|---|---|---|",
        time(none.rebuild.median()),
        bytes(none.size)
    );
    for m in measured {
        let precompile = Samples::new(m.baked.precompile.clone()).median();
        let hit = Samples::new(m.baked.cache_hit.clone()).median();
        let Some(p) = &m.process else {
            let _ = writeln!(
                w,
                "| {} | {} | {} | – | – | – | – | – |",
                m.subject.name,
                time(precompile),
                time(hit)
            );
            continue;
        };
        let payload = m.baked.stripped_len + m.baked.table_len;
        let _ = writeln!(
            w,
            "| {} | {} | {} ({:.1} % of the rebuild) | {} | {} | {} | {} | {} |",
            m.subject.name,
            time(precompile),
            time(hit),
            100.0 * hit / p.host.rebuild.median(),
            time(p.host.rebuild.median()),
            {
                let d = p.host.rebuild.median() - none.rebuild.median();
                if d >= 0.0 { format!("+{}", time(d)) } else { time(d) }
            },
            bytes(p.host.size),
            bytes(payload),
            stats::signed_bytes(p.host.size as i64 - none.size as i64 - payload as i64)
        );
    }
    let _ = hosts_note(w, measured);

    match cli {
        Some(cli) => cli::markdown(w, cli, plan.process_runs),
        None => {
            let _ = writeln!(
                w,
                "\n## 6. Static CLI tools\n\nNot run: the tools come from the shared corpus, which is absent (`WASMBAKE_CORPUS`)."
            );
        }
    }

    let firsts: Vec<(&str, usize, &[instantiate::Row])> = measured
        .iter()
        .filter_map(|m| {
            let rows = m.first.as_deref()?;
            Some((m.subject.name.as_str(), instantiate::data_len(&m.baked.stripped), rows))
        })
        .collect();
    instantiate::markdown(w, &firsts, plan.first_instance_runs);
    hardened::markdown(w, hardened_rows, plan.process_runs);
    if component_rows.is_empty() {
        let _ =
            writeln!(w, "\n## 9. Components\n\nNot run: the corpus has no components (`WASMBAKE_CORPUS`).");
    } else {
        components::markdown(w, component_rows, plan.first_instance_runs);
    }
    untrusted::markdown(w, untrusted, plan.process_runs);

    // The first-contact times take fresh clones (`scripts/first-contact.sh`
    // writes them): the report carries the last measured table.
    let first_contact = Path::new(env!("CARGO_MANIFEST_DIR")).join("report/FIRST-CONTACT.md");
    if let Ok(table) = std::fs::read_to_string(first_contact) {
        let _ = writeln!(w, "\n## First contact\n\n{}", table.trim_end());
    }
    let analysis = Path::new(env!("CARGO_MANIFEST_DIR")).join("report/ANALYSIS.md");
    let _ = writeln!(w, "\n{}", std::fs::read_to_string(analysis).unwrap_or_default().trim_end());
    md
}

/// Where the generated hosts are, for whoever wants to poke at them.
fn hosts_note(w: &mut String, measured: &[Measured]) -> std::fmt::Result {
    if let Some(p) = measured.iter().find_map(|m| m.process.as_ref()) {
        let dir: PathBuf = p.host.dir.parent().unwrap().to_owned();
        let rel = dir.components().rev().take(3).collect::<Vec<_>>();
        let rel: PathBuf = rel.into_iter().rev().collect();
        writeln!(w, "\n(Host crates: `{}/`.)", rel.display())?;
    }
    Ok(())
}
