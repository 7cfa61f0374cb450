//! Name lookups: wasmbake's static table against Wasmtime's own names (from an
//! artifact that keeps them) and a `HashMap` built from the name section with
//! wasmparser at run time.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use wasmbake::Names;
use wasmbake::wasmtime::{Engine, Module};

use crate::load::{forget_pages, map_static};
use crate::modules::{Baked, Subject};
use wasmbake_test_support::{allocations, shuffled};

use crate::stats::{Clock, Samples};

/// One kind of lookup: the time per lookup in batches of 256 (the median
/// over batches is the headline figure: lookups back to back, as criterion
/// measures them), single lookups (each timed alone, serialised by the
/// clock: their p99 is the tail), and allocations per lookup.
pub struct Lookup {
    pub batched: Samples,
    pub single: Samples,
    pub allocs: f64,
}

pub struct NamesRow {
    pub count: usize,
    pub ours_name_of: Lookup,
    pub ours_index_of: Lookup,
    pub ours_miss: Lookup,
    pub map_name_of: Lookup,
    pub map_index_of: Lookup,
    pub map_miss: Lookup,
    pub wasmtime_name_of: Lookup,
    /// Wasmtime has no name → index: a scan of `Module::functions()`.
    pub wasmtime_index_of: Lookup,
    /// Time to the first name from a cold start of each path (seconds).
    pub first_ours: Samples,
    pub first_map: Samples,
    pub first_wasmtime: Samples,
}

/// Index → name, as an application builds it from the name section with
/// wasmparser.
pub fn index_map(wasm: &[u8]) -> HashMap<u32, String> {
    let mut by_index = HashMap::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::CustomSection(c)) = payload
            && let wasmparser::KnownCustom::Name(reader) = c.as_known()
        {
            for subsection in reader.into_iter().flatten() {
                if let wasmparser::Name::Function(map) = subsection {
                    for naming in map.into_iter().flatten() {
                        by_index.insert(naming.index, naming.name.to_owned());
                    }
                }
            }
        }
    }
    by_index
}

/// Name → index from [`index_map`] (lowest index wins, as in wasmbake).
pub fn name_map(by_index: &HashMap<u32, String>) -> HashMap<String, u32> {
    let mut by_name = HashMap::with_capacity(by_index.len());
    for (&index, name) in by_index {
        by_name.entry(name.clone()).and_modify(|i: &mut u32| *i = (*i).min(index)).or_insert(index);
    }
    by_name
}

/// The cost of an empty timing, subtracted from every single-lookup sample.
fn timer_overhead(clock: &Clock) -> u64 {
    let mut samples: Vec<u64> = (0..10_001)
        .map(|_| {
            let start = clock.now();
            black_box(());
            clock.now() - start
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Times each query on its own (after a warm-up pass) with the cycle clock,
/// minus the clock's own cost; counts allocations over the timed pass.
fn each<Q>(queries: &[Q], clock: &Clock, lookup: impl FnMut(&Q)) -> Lookup {
    each_batched(queries, clock, 256, 30, lookup)
}

/// [`each`] with batches of `batch` lookups, at least `min_batches` of them.
fn each_batched<Q>(
    queries: &[Q],
    clock: &Clock,
    batch: usize,
    min_batches: usize,
    mut lookup: impl FnMut(&Q),
) -> Lookup {
    for q in queries {
        lookup(q);
    }
    let overhead = timer_overhead(clock);
    let mut samples = Vec::with_capacity(queries.len());
    let before = allocations();
    for q in queries {
        let start = clock.now();
        lookup(q);
        samples.push(clock.seconds((clock.now() - start).saturating_sub(overhead)));
    }
    let allocs = (allocations() - before) as f64 / queries.len().max(1) as f64;
    // Batches go round the queries (a table of two names still gets full
    // batches), three passes over the queries or `min_batches`.
    let mut batched = Vec::new();
    let mut next = (0..).map(|i| &queries[i % queries.len()]);
    for _ in 0..(3 * queries.len() / batch).max(min_batches) {
        let start = Instant::now();
        for q in next.by_ref().take(batch) {
            lookup(q);
        }
        batched.push(start.elapsed().as_secs_f64() / batch as f64);
    }
    Lookup { batched: Samples::new(batched), single: Samples::new(samples), allocs }
}

pub fn measure(
    subject: &Subject,
    baked: &Baked,
    plain: &Engine,
    max_queries: usize,
    first_runs: usize,
) -> NamesRow {
    let table = map_static(&baked.table);
    let names = Names::parse(table).expect("a table the compiler wrote");
    // Queries are the application's own strings (not pointers into the
    // table), asked in a fixed random order of the table, and allocated in
    // the order they are asked, as a program holds names it read from its
    // input: the query stream is sequential, the table's accesses random.
    let all: Vec<(u32, &str)> = names.iter().collect();
    let queries: Vec<(u32, String)> =
        shuffled(&all, 0x5eed).into_iter().take(max_queries).map(|(i, n)| (i, n.to_owned())).collect();
    let misses: Vec<String> = queries.iter().map(|(_, n)| format!("{n}_")).collect();
    let clock = Clock::calibrate();
    eprintln!(
        "report: clock {:.3} ns/tick, empty timing {} ticks",
        clock.seconds(1_000_000) * 1e3,
        timer_overhead(&clock)
    );

    let ours_name_of = each(&queries, &clock, |(i, _)| {
        black_box(names.name_of(black_box(*i)));
    });
    let ours_index_of = each(&queries, &clock, |(_, n)| {
        black_box(names.index_of(black_box(n)));
    });
    let ours_miss = each(&misses, &clock, |n| {
        black_box(names.index_of(black_box(n)));
    });

    let by_index = index_map(&subject.wasm);
    let by_name = name_map(&by_index);
    let map_name_of = each(&queries, &clock, |(i, _)| {
        black_box(by_index.get(black_box(i)));
    });
    let map_index_of = each(&queries, &clock, |(_, n)| {
        black_box(by_name.get(black_box(n.as_str())));
    });
    let map_miss = each(&misses, &clock, |n| {
        black_box(by_name.get(black_box(n.as_str())));
    });

    // Wasmtime names only defined functions, through `Module::functions()`,
    // an iterator that makes a `String` of every name it passes (`nth` walks:
    // O(functions) per lookup). A few hundred queries suffice.
    // SAFETY: an unmodified artifact for this configuration.
    let module = unsafe { Module::deserialize_file(plain, &baked.kept) }.unwrap();
    let imported = subject.imported;
    let defined: Vec<(u32, String)> =
        queries.iter().filter(|(i, _)| *i >= imported).take(200).cloned().collect();
    let wasmtime_name_of = each_batched(&defined, &clock, 4, 10, |(i, _)| {
        black_box(module.functions().nth((*i - imported) as usize).and_then(|f| f.name));
    });
    // No name → index API: a scan of the same iterator.
    let scan: Vec<&str> = defined.iter().map(|(_, n)| n.as_str()).collect();
    let wasmtime_index_of = each_batched(&scan, &clock, 4, 10, |n| {
        black_box(module.functions().find(|f| f.name.as_deref() == Some(*n)).map(|f| f.index));
    });
    for (i, n) in defined.iter().take(20) {
        let found = module.functions().nth((*i - imported) as usize).and_then(|f| f.name);
        assert_eq!(found.as_deref(), Some(n.as_str()), "{}: Wasmtime's name of {i}", subject.name);
    }
    drop(module);

    // Time to the first name from a cold start: the table's pages are not
    // mapped yet (as right after exec); the map path reads and parses the
    // module file; the Wasmtime path loads the artifact that keeps names.
    let first = queries.first().map_or(0, |q| q.0);
    let mut first_ours = Vec::new();
    let mut first_map = Vec::new();
    let mut first_wasmtime = Vec::new();
    let wasm_path: &Path = &subject.path;
    for _ in 0..first_runs {
        forget_pages(table);
        let start = Instant::now();
        let name = names.name_of(first).map(str::len);
        first_ours.push(start.elapsed().as_secs_f64());
        black_box(name);

        let start = Instant::now();
        let wasm = std::fs::read(wasm_path).unwrap();
        let by_index = index_map(&wasm);
        let name = by_index.get(&first).map(String::len);
        first_map.push(start.elapsed().as_secs_f64());
        black_box(name);

        if first >= imported {
            let start = Instant::now();
            // SAFETY: as above.
            let module = unsafe { Module::deserialize_file(plain, &baked.kept) }.unwrap();
            let name = module.functions().nth((first - imported) as usize).and_then(|f| f.name);
            first_wasmtime.push(start.elapsed().as_secs_f64());
            black_box(name);
        }
    }

    NamesRow {
        count: all.len(),
        ours_name_of,
        ours_index_of,
        ours_miss,
        map_name_of,
        map_index_of,
        map_miss,
        wasmtime_name_of,
        wasmtime_index_of,
        first_ours: Samples::new(first_ours),
        first_map: Samples::new(first_map),
        first_wasmtime: Samples::new(first_wasmtime),
    }
}
