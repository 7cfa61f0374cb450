//! Section 7: load + first instantiation, and later instantiations, per way
//! of providing a module's linear-memory data image — each sample a fresh
//! process (`--first-instance <path> <cwasm> <warm-up cwasm>`), so every
//! sample builds its image from scratch and faults the artifact's pages in
//! from the page cache, as a freshly started binary does.
//!
//! Wasmtime gives a module a copy-on-write image of its initial memory at
//! the first instantiation. For a module loaded from a file
//! (`deserialize_file`) it maps the data straight from that file; for
//! `deserialize_raw` (in place) it knows no file, so it writes the data into
//! a new memfd (`runtime/vm/cow.rs`, `MemoryImage::new`). The paths:
//!
//! * `in place` — what wasmbake does (`Embedded::load`, `MemoryImage::Auto`):
//!   `AtLoad` for plugins with at least 512 KiB of data, else `AtFirstInstance`;
//! * `in place, image at load` — `MemoryImage::AtLoad`: the image is built
//!   while loading (`Module::initialize_copy_on_write_image`), and the data
//!   pages are dropped from the page tables (`MADV_DONTNEED`: they are in the
//!   memfd now);
//! * `in place, image at first instance` — `MemoryImage::AtFirstInstance`,
//!   Wasmtime's own behaviour (and what wasmbake did before): the memfd is
//!   built at the first instantiation;
//! * `in place, CoW off` — artifact and engine with `memory_init_cow(false)`
//!   (loaded with `MemoryImage::AtFirstInstance`: there is no image to make):
//!   every instantiation copies the data segments;
//! * `deserialize_file` — the yardstick: the image is mapped from the file;
//! * `deserialize` — the artifact copied into memory Wasmtime owns.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use wasmbake::wasmtime::{Engine, Linker, Module, Store};
use wasmbake::{Embedded, MemoryImage, Names};

use crate::load::map_static;
use crate::stats::Samples;

pub const PATHS: [&str; 6] = [
    "in place",
    "in place, image at load",
    "in place, image at first instance",
    "in place, CoW off",
    "deserialize_file",
    "deserialize",
];

/// Later instantiations per sample (each dropped before the next).
const LATER: usize = 5;

/// One path's figures for one module: medians over fresh processes.
pub struct Row {
    pub load: Samples,
    pub first: Samples,
    pub later: Samples,
    /// RSS with the module and its first instance alive, minus before the
    /// load: total, anonymous, file-backed, shared memory (memfd pages mapped
    /// into the instance), KiB.
    pub rss: [Samples; 4],
}

impl Row {
    pub fn load_and_first(&self) -> f64 {
        self.load.median() + self.first.median()
    }
}

/// The artifact's `.rodata.wasm` section (the data its memory images are
/// made of): byte range within the artifact, page-aligned by Wasmtime.
pub fn data_range(artifact: &[u8]) -> std::ops::Range<usize> {
    wasmbake_compiler::data_image(artifact).map_or(0..0, |r| r.start as usize..r.end as usize)
}

fn status() -> [i64; 4] {
    let field = |name: &str| -> i64 {
        wasmbake_test_support::process::status_kb(name)
            .unwrap_or_else(|| panic!("/proc/self/status has no {name}")) as i64
    };
    [field("VmRSS"), field("RssAnon"), field("RssFile"), field("RssShmem")]
}

fn engine_for(path: &str) -> Engine {
    match path {
        "in place, CoW off" => {
            let mut config = wasmbake::config();
            config.memory_init_cow(false);
            Engine::new(&config).unwrap()
        }
        "deserialize_file" | "deserialize" => Engine::new(&wasmbake::__private::wasm_config()).unwrap(),
        _ => wasmbake::engine().unwrap(),
    }
}

/// Loads `cwasm` by `path`; `artifact` is its static mapping for in-place
/// paths. Returns the module; the image work of the path is part of it.
fn load(path: &str, engine: &Engine, cwasm: &Path, artifact: Option<&'static [u8]>) -> Module {
    match path {
        "deserialize" => {
            let bytes = std::fs::read(cwasm).unwrap();
            // SAFETY: an unmodified artifact for this configuration.
            unsafe { Module::deserialize(engine, &bytes) }.unwrap()
        }
        // SAFETY: as above; the file is not modified while mapped.
        "deserialize_file" => unsafe { Module::deserialize_file(engine, cwasm) }.unwrap(),
        _ => {
            let artifact = artifact.unwrap();
            let data = data_range(artifact);
            // SAFETY: `artifact` is unmodified `precompile_module` output of
            // the compiler's engine, mapped at 64 KiB; no names.
            let plugin: &'static Embedded = Box::leak(Box::new(
                unsafe { Embedded::from_mapped("plugin", artifact, Names::EMPTY) }
                    .with_data_image(data.start, data.len()),
            ));
            let image = match path {
                "in place" => MemoryImage::Auto,
                "in place, image at load" => MemoryImage::AtLoad,
                // (CoW off has no image to make.)
                "in place, image at first instance" | "in place, CoW off" => MemoryImage::AtFirstInstance,
                other => panic!("unknown path {other}"),
            };
            plugin.load_with(engine, image).unwrap().into_module()
        }
    }
}

fn instantiate(engine: &Engine, module: &Module) -> Store<()> {
    let mut linker = Linker::new(engine);
    linker.define_unknown_imports_as_traps(module).unwrap();
    let mut store = Store::new(engine, ());
    linker.instantiate(&mut store, module).unwrap();
    store
}

/// The child: `--first-instance <path> <cwasm> <cow-off cwasm> <warm-up cwasm>
/// <warm-up cow-off cwasm>`. Goes through the path once with the small
/// warm-up module (so the path's code is paged in), then measures. Prints
/// `first <load s> <first instantiation s> <later s> <rss> <anon> <file> <shmem>`.
pub fn child(args: &[String]) {
    let [path, cwasm, cow_off, warm_up, warm_up_cow_off] = args else {
        panic!(
            "usage: --first-instance <path> <cwasm> <cow-off cwasm> <warm-up cwasm> <warm-up cow-off cwasm>"
        )
    };
    let off = path == "in place, CoW off";
    let (cwasm, warm_up) = match off {
        true => (Path::new(cow_off), Path::new(warm_up_cow_off)),
        false => (Path::new(cwasm), Path::new(warm_up)),
    };
    let engine = engine_for(path);
    let in_place = path.starts_with("in place");
    let warm = load(path, &engine, warm_up, in_place.then(|| map_static(warm_up)));
    drop(instantiate(&engine, &warm));
    drop(warm);
    // Mapped before the first reading: in a real binary, exec maps `.rodata`.
    let artifact = in_place.then(|| map_static(cwasm));
    let before = status();
    let start = Instant::now();
    let module = load(path, &engine, cwasm, artifact);
    let loaded = start.elapsed();
    let start = Instant::now();
    let store = instantiate(&engine, &module);
    let first = start.elapsed();
    let after = status();
    let mut later = Vec::new();
    for _ in 0..LATER {
        let start = Instant::now();
        let store = instantiate(&engine, &module);
        later.push(start.elapsed().as_secs_f64());
        drop(store);
    }
    let later = Samples::new(later).median();
    let d: Vec<i64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
    println!(
        "first {} {} {later} {} {} {} {}",
        loaded.as_secs_f64(),
        first.as_secs_f64(),
        d[0],
        d[1],
        d[2],
        d[3]
    );
    drop(store);
}

/// Artifacts for one module: stripped (as wasmbake bakes it) and the same
/// compiled with `memory_init_cow(false)`.
pub struct Artifacts<'a> {
    pub cwasm: &'a Path,
    pub cow_off: &'a Path,
}

/// Compiles `wasm` (names stripped) like wasmbake's compiler, but with
/// `memory_init_cow(false)`, into `out`.
pub fn bake_cow_off(wasm: &[u8], out: &Path) {
    let mut config = wasmbake_compiler::config(&wasmbake_compiler::Options::default()).unwrap();
    config.memory_init_cow(false);
    let engine = Engine::new(&config).unwrap();
    let stripped = wasmbake_compiler::strip_name_section(wasm);
    std::fs::write(out, engine.precompile_module(&stripped).unwrap()).unwrap();
}

/// `runs` fresh processes per path, interleaved path by path.
pub fn measure(module: &Artifacts, warm_up: &Artifacts, runs: usize) -> Vec<Row> {
    let mut raw: Vec<[Vec<f64>; 7]> = PATHS.iter().map(|_| Default::default()).collect();
    for _ in 0..runs {
        for (path, out) in PATHS.iter().zip(raw.iter_mut()) {
            let result = Command::new(std::env::current_exe().unwrap())
                .args(["--first-instance", path])
                .args([module.cwasm, module.cow_off, warm_up.cwasm, warm_up.cow_off])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&result.stdout);
            assert!(
                result.status.success(),
                "--first-instance {path} {}: {}",
                module.cwasm.display(),
                String::from_utf8_lossy(&result.stderr)
            );
            let line =
                text.lines().find_map(|l| l.strip_prefix("first ")).expect("the child prints its figures");
            for (value, series) in line.split(' ').zip(out.iter_mut()) {
                series.push(value.parse().unwrap());
            }
        }
    }
    raw.into_iter()
        .map(|[load, first, later, rss, anon, file, shmem]| Row {
            load: Samples::new(load),
            first: Samples::new(first),
            later: Samples::new(later),
            rss: [rss, anon, file, shmem].map(Samples::new),
        })
        .collect()
}

/// The in-place path wasmbake ships as its default (guide, "First
/// instantiation"): the targets are judged on it.
pub const SHIPPED: &str = "in place";

fn row<'a>(rows: &'a [Row], path: &str) -> &'a Row {
    &rows[PATHS.iter().position(|p| *p == path).expect("a known path")]
}

/// Data image size of an artifact file (its `.rodata.wasm` section).
pub fn data_len(cwasm: &Path) -> usize {
    data_range(&std::fs::read(cwasm).unwrap()).len()
}

/// Rows of the report's targets table.
pub fn targets(w: &mut String, name: &str, data: usize, rows: &[Row]) {
    use std::fmt::Write as _;
    let (ours, file) = (row(rows, SHIPPED), row(rows, "deserialize_file"));
    let (limit, what) = if data <= 1 << 20 { (1.1, "≤ 1.1×") } else { (2.0, "≤ 2×") };
    let r = ours.load_and_first() / file.load_and_first();
    let _ = writeln!(
        w,
        "| load + first instantiation {what} `deserialize_file` (data {}) | {name} | {r:.2}× | {} |",
        crate::stats::bytes(data as u64),
        crate::pass(r <= limit)
    );
    let before = row(rows, "in place, image at first instance");
    let r = ours.later.median() / before.later.median();
    let _ = writeln!(
        w,
        "| later instantiations no slower than before (image at first instance; ≤ 1.1× for noise) | {name} | {r:.2}× | {} |",
        crate::pass(r <= 1.1)
    );
    let r = ours.rss[0].median() / file.rss[0].median().max(1.0);
    let _ = writeln!(
        w,
        "| RSS after first instantiation ≤ `deserialize_file` + 10 % | {name} | {r:.2}× | {} |",
        crate::pass(r <= 1.1)
    );
}

/// Section 7 of BENCHMARKS.md: one table per module.
pub fn markdown(w: &mut String, modules: &[(&str, usize, &[Row])], runs: usize) {
    use crate::stats::{bytes, ratio, time};
    use std::fmt::Write as _;
    let _ = writeln!(
        w,
        "\n## 7. First instantiation\n\n\
         Load and first instantiation, each sample in a fresh process (median of {runs}), after the same path \
         ran once on the bundled plugin (its code paged in); then {LATER} more instantiations of the same \
         module (median). Imports are stubs that trap. *×* is the path's load + first instantiation over \
         `deserialize_file`'s. RSS is what load and first instantiation add, the module and instance alive: \
         anonymous (private copies, decoded metadata, written memory), file-backed (pages of the artifact \
         or `.cwasm`), shared (memfd image pages mapped into the instance). A memfd image also holds its data \
         in shared memory that is not mapped, so not counted as RSS. The paths are described at the top of \
         `benches/report/instantiate.rs`; *{SHIPPED}* is what wasmbake does by default.\n"
    );
    for (name, data, rows) in modules {
        let file = row(rows, "deserialize_file").load_and_first();
        let _ = writeln!(
            w,
            "**{name}** (data image {})\n\n| path | load | first instantiation | load + first | × | later instantiation | RSS added |\n|---|---|---|---|---|---|---|",
            bytes(*data as u64)
        );
        for (path, r) in PATHS.iter().zip(rows.iter()) {
            let kb = |s: &Samples| bytes((s.median().max(0.0) * 1024.0) as u64);
            let _ = writeln!(
                w,
                "| {path} | {} | {} | {} | {} | {} | {} = {} anon + {} file + {} shared |",
                time(r.load.median()),
                time(r.first.median()),
                time(r.load_and_first()),
                ratio(r.load_and_first(), file),
                time(r.later.median()),
                kb(&r.rss[0]),
                kb(&r.rss[1]),
                kb(&r.rss[2]),
                kb(&r.rss[3]),
            );
        }
        let _ = writeln!(w);
    }
}
