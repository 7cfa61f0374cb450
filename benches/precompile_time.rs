//! Precompile time of one module, median of N runs, with the compiler built by
//! whatever profile runs this binary. Comparing the two profiles measures what
//! `[profile.*.build-override] opt-level = 3` buys the macro:
//!
//! ```text
//! cargo run --release -p wasmbake-benches --example precompile_time -- ../shared/corpus/splicer.wasm 5
//! cargo run           -p wasmbake-benches --example precompile_time -- ../shared/corpus/splicer.wasm 3
//! ```
//!
//! (The dev profile builds Cranelift at opt-level 0, as a proc-macro would be
//! built without the override.)

use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let source = PathBuf::from(args.next().ok_or("usage: precompile_time <module.wasm> [runs]")?);
    let runs: usize = args.next().map_or(Ok(3), |n| n.parse())?;
    let source = std::fs::canonicalize(&source)?;
    let file = source.display().to_string();
    let mut times = Vec::with_capacity(runs);
    for run in 0..runs {
        // A fresh cache every run, so every run compiles.
        let cache = std::env::temp_dir().join(format!("wasmbake-precompile-{}-{run}", std::process::id()));
        let start = Instant::now();
        let baked = wasmbake_compiler::bake(&source, &file, &wasmbake_compiler::Options::default(), &cache)?;
        times.push(start.elapsed());
        assert!(!baked.cache_hit);
        std::fs::remove_dir_all(&cache)?;
    }
    times.sort();
    let profile = if cfg!(debug_assertions) { "dev (opt-level 0)" } else { "release (opt-level 3)" };
    println!(
        "{}: precompile median {:.2?} over {runs} runs (min {:.2?}, max {:.2?}), compiler built {profile}",
        source.file_name().unwrap().to_string_lossy(),
        times[runs / 2],
        times[0],
        times[runs - 1]
    );
    Ok(())
}
