//! Section 9: components. For each component in the corpus:
//!
//! * **bake**: `Compiler::bake_as` (validate, one name table per core module,
//!   names blanked in place, precompile, write) with an empty cache, against
//!   `Engine::precompile_component` alone and `wasmtime compile`;
//! * **load**: `EmbeddedComponent::load` in place against
//!   `Component::deserialize` (a copy) and `Component::deserialize_file`,
//!   all on the same artifact, interleaved, none building memory images
//!   (in place with `MemoryImage::AtFirstInstance`, as `deserialize` makes
//!   none at load either);
//! * **first instantiation**: load, then one instantiation (imports are stubs
//!   that trap), each sample a fresh process (`--first-component <path>
//!   <cwasm> <warm-up cwasm>`), with the RSS both add.
//!
//! The whole-process rows of command components are in section 6, beside
//! the same programs as core modules.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use wasmbake::wasmtime::component::{Component, Linker};
use wasmbake::wasmtime::{Engine, Store};
use wasmbake::{ComponentNames, EmbeddedComponent, LoadKind, MemoryImage};
use wasmbake_compiler::{Compiler, Kind};

use crate::load::{forget_pages, map_static};
use crate::stats::{Samples, interleaved};

/// The load paths of the first-instantiation table, in its order.
pub const PATHS: [&str; 3] = ["in place", "deserialize_file", "deserialize"];

/// One corpus component and what was measured of it.
pub struct Row {
    pub name: String,
    pub size: u64,
    pub core_modules: usize,
    /// Bytes of the artifact's memory-image data (all core modules).
    pub data: usize,
    pub artifact_len: u64,
    /// `Compiler::bake_as` with an empty cache, seconds per run.
    pub bake: Samples,
    /// `Engine::precompile_component` alone, names kept.
    pub precompile: Samples,
    /// `wasmtime compile` 48.0.8 (full runs; `Err` says why not).
    pub wasmtime_compile: Result<Samples, String>,
    /// In place, `deserialize`, `deserialize_file`.
    pub load: [Samples; 3],
    /// Per [`PATHS`]: load, first instantiation, RSS added (KiB).
    pub first: Result<Vec<[Samples; 3]>, String>,
}

/// The corpus's components, smallest first (`--quick`: hello-c's only).
pub fn corpus(dir: &Path, quick: bool) -> Vec<PathBuf> {
    let mut files = crate::modules::wasm_files(dir);
    files.retain(|p| is_component(p));
    files.retain(|p| !quick || p.file_name().is_some_and(|n| n == "hello-c.component.wasm"));
    files
}

/// Whether `path` holds a component (by its header).
pub fn is_component(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| wasmparser::Parser::is_component(&bytes))
}

/// What `measure` needs besides the component.
pub struct Setup<'a> {
    pub compiler: &'a Compiler,
    pub work: &'a Path,
    pub bake_runs: usize,
    pub load_rounds: (usize, usize),
    pub load_budget: Duration,
    pub first_runs: usize,
    /// A small component artifact every fresh process loads first.
    pub warm_up: Option<&'a Path>,
    pub wasmtime: &'a Result<PathBuf, String>,
}

/// Bakes and measures one component; returns its row and its artifact.
pub fn measure(path: &Path, setup: &Setup) -> (Row, PathBuf) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    eprintln!("report: component {name}");
    let wasm = std::fs::read(path).unwrap();
    let mut bake = Vec::new();
    let mut baked = None;
    for run in 0..setup.bake_runs {
        let cache = setup.work.join(format!("cache-{name}-{run}"));
        let _ = std::fs::remove_dir_all(&cache);
        let start = Instant::now();
        let b = setup.compiler.bake_as(path, &name, &cache, Some(Kind::Component)).unwrap();
        bake.push(start.elapsed().as_secs_f64());
        assert!(!b.cache_hit);
        baked = Some((b, cache));
    }
    let (b, cache) = baked.expect("at least one bake");
    let cwasm = setup.work.join(format!("{name}.stripped.cwasm"));
    let table = setup.work.join(format!("{name}.names"));
    std::fs::copy(&b.artifact, &cwasm).unwrap();
    std::fs::copy(&b.names, &table).unwrap();
    let _ = std::fs::remove_dir_all(cache);
    let components = wasmbake_compiler::component_engine(&wasmbake_compiler::Options::default()).unwrap();
    let precompile = Samples::new(
        (0..setup.bake_runs)
            .map(|_| {
                let start = Instant::now();
                components.precompile_component(&wasm).unwrap();
                start.elapsed().as_secs_f64()
            })
            .collect(),
    );
    let wasmtime_compile = setup.wasmtime.clone().and_then(|bin| {
        let out = setup.work.join(format!("{name}.wasmtime.cwasm"));
        crate::cli::timed(
            setup.bake_runs,
            || {},
            || {
                let mut command = Command::new(&bin);
                command.arg("compile").arg(path).arg("-o").arg(&out);
                command
            },
        )
    });
    let names: &'static [u8] = Box::leak(std::fs::read(&table).unwrap().into_boxed_slice());
    let names = ComponentNames::parse(names).expect("the compiler's name tables parse");
    let core_modules = names.len();
    let source: &'static str = Box::leak(name.clone().into_boxed_str());
    let load = load(embedded(source, map_static(&cwasm), names), &cwasm, setup);
    eprintln!("report: first instantiation of {name}");
    let first = first_instances(&cwasm, setup.warm_up.unwrap_or(&cwasm), setup.first_runs);
    let row = Row {
        name,
        size: wasm.len() as u64,
        core_modules,
        data: b.data_image.map_or(0, |r| (r.end - r.start) as usize),
        artifact_len: std::fs::metadata(&cwasm).unwrap().len(),
        bake: Samples::new(bake),
        precompile,
        wasmtime_compile,
        load,
        first,
    };
    (row, cwasm)
}

/// In place (its pages dropped from our page tables before each load, so
/// they fault in as in a fresh process), `deserialize`, `deserialize_file`.
/// An `EmbeddedComponent` over a [`map_static`] mapping of a baked
/// component (as `load::embedded` is for modules), with its data image.
fn embedded(
    source: &'static str,
    artifact: &'static [u8],
    names: ComponentNames<'static>,
) -> &'static EmbeddedComponent {
    let data = crate::instantiate::data_range(artifact);
    // SAFETY: `artifact` is unmodified `bake_as` output for a component,
    // mapped at 64 KiB and never unmapped; `names` came from the same bake
    // (or hold no tables).
    Box::leak(Box::new(
        unsafe { EmbeddedComponent::from_mapped(source, artifact, names) }
            .with_data_image(data.start, data.len()),
    ))
}

fn load(plugin: &'static EmbeddedComponent, cwasm: &Path, setup: &Setup) -> [Samples; 3] {
    let name = plugin.source();
    let ours = wasmbake::engine().unwrap();
    let plain = Engine::new(&wasmbake::config()).unwrap();
    let loaded = plugin.load_with(&ours, MemoryImage::AtFirstInstance).unwrap();
    assert_eq!(loaded.kind(), LoadKind::InPlace, "{name}");
    drop(loaded);
    plugin.evict(&ours);
    let copy = std::fs::read(cwasm).unwrap();
    let path: &Path = cwasm;
    interleaved(
        setup.load_rounds.0,
        setup.load_rounds.1,
        setup.load_budget,
        [
            &mut |_| {
                forget_pages(plugin.artifact());
                let start = Instant::now();
                let loaded = plugin.load_with(&ours, MemoryImage::AtFirstInstance).unwrap();
                let time = start.elapsed();
                plugin.evict(&ours);
                drop(loaded);
                Some(time)
            },
            &mut |_| {
                let start = Instant::now();
                // SAFETY: an unmodified artifact for this configuration.
                let component = unsafe { Component::deserialize(&plain, &copy) }.unwrap();
                let time = start.elapsed();
                drop(component);
                Some(time)
            },
            &mut |_| {
                let start = Instant::now();
                // SAFETY: as above; the file is not modified while mapped.
                let component = unsafe { Component::deserialize_file(&plain, path) }.unwrap();
                let time = start.elapsed();
                drop(component);
                Some(time)
            },
        ],
    )
}

fn load_by(path: &str, cwasm: &Path) -> (Engine, Component) {
    match path {
        "in place" => {
            let engine = wasmbake::engine().unwrap();
            // No names (they cost nothing at load): a container of no tables.
            let names = ComponentNames::parse(b"WBC1\0\0\0\0").expect("an empty name container");
            let component = embedded("plugin", map_static(cwasm), names).load(&engine).unwrap();
            (engine, component)
        }
        "deserialize_file" => {
            let engine = Engine::new(&wasmbake::config()).unwrap();
            // SAFETY: an unmodified artifact for this configuration, not
            // modified while mapped.
            let component = unsafe { Component::deserialize_file(&engine, cwasm) }.unwrap();
            (engine, component)
        }
        "deserialize" => {
            let engine = Engine::new(&wasmbake::config()).unwrap();
            let bytes = std::fs::read(cwasm).unwrap();
            // SAFETY: as above.
            let component = unsafe { Component::deserialize(&engine, &bytes) }.unwrap();
            (engine, component)
        }
        other => panic!("unknown path {other}"),
    }
}

fn instantiate(engine: &Engine, component: &Component) -> wasmbake::wasmtime::Result<Store<()>> {
    let mut linker = Linker::new(engine);
    linker.define_unknown_imports_as_traps(component)?;
    let mut store = Store::new(engine, ());
    linker.instantiate(&mut store, component)?;
    Ok(store)
}

fn rss_kib() -> f64 {
    wasmbake_test_support::process::status_kb("VmRSS").expect("/proc/self/status has VmRSS") as f64
}

/// The child: `--first-component <path> <cwasm> <warm-up cwasm>`. Goes
/// through the path once with the warm-up component (its code paged in),
/// then prints `first <load s> <first instantiation s> <RSS added KiB>`.
pub fn child(args: &[String]) {
    let [path, cwasm, warm_up] = args else {
        panic!("usage: --first-component <path> <cwasm> <warm-up cwasm>")
    };
    let (engine, warm) = load_by(path, Path::new(warm_up));
    drop(instantiate(&engine, &warm).unwrap());
    drop((engine, warm));
    let before = rss_kib();
    let start = Instant::now();
    let (engine, component) = load_by(path, Path::new(cwasm));
    let loaded = start.elapsed();
    let start = Instant::now();
    let store = match instantiate(&engine, &component) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("cannot instantiate: {e:#}");
            std::process::exit(1);
        }
    };
    let first = start.elapsed();
    println!("first {} {} {}", loaded.as_secs_f64(), first.as_secs_f64(), rss_kib() - before);
    drop(store);
}

/// `runs` fresh processes per path, interleaved path by path.
fn first_instances(cwasm: &Path, warm_up: &Path, runs: usize) -> Result<Vec<[Samples; 3]>, String> {
    let mut raw: Vec<[Vec<f64>; 3]> = PATHS.iter().map(|_| Default::default()).collect();
    for _ in 0..runs {
        for (path, out) in PATHS.iter().zip(raw.iter_mut()) {
            let result = Command::new(std::env::current_exe().unwrap())
                .args(["--first-component", path])
                .args([cwasm, warm_up])
                .output()
                .unwrap();
            if !result.status.success() {
                let stderr = String::from_utf8_lossy(&result.stderr);
                return Err(format!("{path}: {}", stderr.lines().last().unwrap_or("failed")));
            }
            let text = String::from_utf8_lossy(&result.stdout);
            let line =
                text.lines().find_map(|l| l.strip_prefix("first ")).expect("the child prints its figures");
            for (value, series) in line.split(' ').zip(out.iter_mut()) {
                series.push(value.parse().unwrap());
            }
        }
    }
    Ok(raw.into_iter().map(|series| series.map(Samples::new)).collect())
}

/// Rows of the report's targets table.
pub fn targets(w: &mut String, rows: &[Row]) {
    use std::fmt::Write as _;
    for row in rows {
        let [in_place, deserialize, _] = &row.load;
        if row.name.starts_with("pygreet") {
            let r = deserialize.median() / in_place.median();
            let _ = writeln!(
                w,
                "| component load in place ≥ 10× `Component::deserialize` (no images built) | {} | {r:.1}× | {} |",
                row.name,
                crate::pass(r >= 10.0)
            );
        }
        if row.data <= 1 << 20 {
            let cell = match &row.first {
                Ok(first) => {
                    let sum = |p: &[Samples; 3]| p[0].median() + p[1].median();
                    let r = sum(&first[0]) / sum(&first[1]);
                    format!("{r:.2}× | {}", crate::pass(r <= 1.2))
                }
                Err(why) => format!("not run: {} | not measured", why.replace('|', "/")),
            };
            let _ = writeln!(
                w,
                "| component load + first instantiation ≤ 1.2× `deserialize_file` (data {}) | {} | {cell} |",
                crate::stats::bytes(row.data as u64),
                row.name
            );
        }
    }
}

/// Section 9 of BENCHMARKS.md.
pub fn markdown(w: &mut String, rows: &[Row], first_runs: usize) {
    use crate::stats::{bytes, ratio, time};
    use std::fmt::Write as _;
    let _ = writeln!(
        w,
        "\n## 9. Components\n\n\
         Every component of the corpus (`benches/report/components.rs`); its command components' whole-process \
         rows are in section 6, beside the same programs as core modules.\n\n\
         **Bake**: `Compiler::bake_as` with an empty cache (validate, one name table per core module, names \
         blanked in place, precompile, write), against `Engine::precompile_component` alone (names kept) and \
         Wasmtime's CLI making its `.cwasm`.\n\n\
         | component | size | core modules | data image | artifact | bake | precompile alone | `wasmtime compile` |\n\
         |---|---|---|---|---|---|---|---|"
    );
    for row in rows {
        let wasmtime = match &row.wasmtime_compile {
            Ok(s) => time(s.median()),
            Err(why) => format!("not run: {}", why.replace('|', "/")),
        };
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} | {wasmtime} |",
            row.name,
            bytes(row.size),
            row.core_modules,
            bytes(row.data as u64),
            bytes(row.artifact_len),
            time(row.bake.median()),
            time(row.precompile.median()),
        );
    }
    let _ = writeln!(
        w,
        "\n**Load**: the same (names blanked) artifact every way, interleaved; in place with its pages dropped \
         from the page tables before each load (they fault in again, as in a fresh process); no path builds \
         memory images (in place with `MemoryImage::AtFirstInstance`). × is how many times longer the \
         baseline takes.\n\n\
         | component | in place | `Component::deserialize` | × | `deserialize_file` | × |\n|---|---|---|---|---|---|"
    );
    for row in rows {
        let [ours, copy, file] = &row.load;
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |",
            row.name,
            time(ours.median()),
            time(copy.median()),
            ratio(copy.median(), ours.median()),
            time(file.median()),
            ratio(file.median(), ours.median()),
        );
    }
    let _ = writeln!(
        w,
        "\n**Load + first instantiation**, each sample a fresh process (median of {first_runs}) after the same \
         path ran once on the smallest component; imports are stubs that trap; in place is what \
         `EmbeddedComponent::load` does by default (`MemoryImage::Auto`). × is over `deserialize_file`'s load + \
         first instantiation. RSS is what both add, the component and its instance alive.\n\n\
         | component | path | load | first instantiation | load + first | × | RSS added |\n|---|---|---|---|---|---|---|"
    );
    for row in rows {
        match &row.first {
            Ok(first) => {
                let sum = |p: &[Samples; 3]| p[0].median() + p[1].median();
                let file = sum(&first[1]);
                for (path, p) in PATHS.iter().zip(first) {
                    let _ = writeln!(
                        w,
                        "| {} | {path} | {} | {} | {} | {} | {} |",
                        row.name,
                        time(p[0].median()),
                        time(p[1].median()),
                        time(sum(p)),
                        ratio(sum(p), file),
                        bytes((p[2].median().max(0.0) * 1024.0) as u64),
                    );
                }
            }
            Err(why) => {
                let _ = writeln!(w, "| {} | not run: {} | | | | | |", row.name, why.replace('|', "/"));
            }
        }
    }
}
