//! Resident memory a load adds, per load path, each in a fresh process (the
//! report runs itself with `--rss <path> <cwasm>`): `/proc/self/smaps_rollup`
//! before and after, with the module alive.

use std::path::Path;
use std::process::Command;

use wasmbake::Names;
use wasmbake::wasmtime::{Engine, Module};

use crate::load::{embedded, map_static};

pub const PATHS: [&str; 3] = ["in-place", "deserialize", "deserialize_file"];

/// RSS added by one load, KiB: all, anonymous (private memory: copies and
/// decoded metadata), and file-backed (pages of the artifact, clean and
/// droppable, shared with the page cache).
#[derive(Clone, Copy, Debug, Default)]
pub struct Added {
    pub rss: i64,
    pub anon: i64,
    pub file: i64,
}

fn rollup() -> (i64, i64) {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap();
    let field = |name: &str| -> i64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("smaps_rollup has no {name}"))
    };
    (field("Rss"), field("Anonymous"))
}

fn load(path: &str, cwasm: &Path, artifact: Option<&'static [u8]>, ours: &Engine, plain: &Engine) -> Module {
    match path {
        "in-place" => embedded("plugin", artifact.unwrap(), Names::EMPTY).load(ours).unwrap(),
        "deserialize" => {
            let bytes = std::fs::read(cwasm).unwrap();
            // SAFETY: an unmodified artifact for this configuration.
            let module = unsafe { Module::deserialize(plain, &bytes) }.unwrap();
            drop(bytes); // the application keeps only the module
            module
        }
        // SAFETY: as above; the file is not modified while mapped.
        "deserialize_file" => unsafe { Module::deserialize_file(plain, cwasm) }.unwrap(),
        other => panic!("unknown load path {other}"),
    }
}

/// The child: `--rss <path> <cwasm> <warm-up cwasm>`. Loads the warm-up
/// artifact through the same path first (and drops it), so the code of that
/// path is paged in before the first reading and only the module's own
/// memory counts. Prints `added <rss> <anon> <file>`.
pub fn child(args: &[String]) {
    let [path, cwasm, warm_up] = args else { panic!("usage: --rss <path> <cwasm> <warm-up cwasm>") };
    let (cwasm, warm_up) = (Path::new(cwasm), Path::new(warm_up));
    let ours = wasmbake::engine().unwrap();
    let plain = Engine::new(&wasmbake::__private::wasm_config()).unwrap();
    let in_place = path == "in-place";
    drop(load(path, warm_up, in_place.then(|| map_static(warm_up)), &ours, &plain));
    // Mapped before the first reading: in a real binary, exec maps `.rodata`.
    let artifact = in_place.then(|| map_static(cwasm));
    let (rss0, anon0) = rollup();
    let module = load(path, cwasm, artifact, &ours, &plain);
    let (rss1, anon1) = rollup();
    println!("added {} {} {}", rss1 - rss0, anon1 - anon0, (rss1 - anon1) - (rss0 - anon0));
    drop(module);
}

/// Runs the child for each path; `runs` children per path, median of each
/// figure (they are nearly deterministic).
pub fn measure(cwasm: &Path, warm_up: &Path, runs: usize) -> [Added; 3] {
    PATHS.map(|path| {
        let mut all: Vec<Added> = (0..runs)
            .map(|_| {
                let out = Command::new(std::env::current_exe().unwrap())
                    .args(["--rss", path])
                    .arg(cwasm)
                    .arg(warm_up)
                    .output()
                    .unwrap();
                let text = String::from_utf8_lossy(&out.stdout);
                assert!(
                    out.status.success(),
                    "--rss {path} {}: {}",
                    cwasm.display(),
                    String::from_utf8_lossy(&out.stderr)
                );
                let line = text
                    .lines()
                    .find_map(|l| l.strip_prefix("added "))
                    .expect("the child prints its figures");
                let v: Vec<i64> = line.split(' ').map(|x| x.parse().unwrap()).collect();
                Added { rss: v[0], anon: v[1], file: v[2] }
            })
            .collect();
        all.sort_by_key(|a| a.rss);
        all[all.len() / 2]
    })
}
