//! Name-table writer and reader round trip on arbitrary name maps: every
//! encoded table parses, every name resolves both ways (a shared name to its
//! lowest index), names not in the table miss.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use wasmbake_compiler::NameTable;

#[derive(arbitrary::Arbitrary, Debug)]
struct Input {
    module: Option<String>,
    functions: Vec<(u32, String)>,
    probes: Vec<String>,
}

fuzz_target!(|input: Input| {
    let functions: BTreeMap<u32, String> = input.functions.into_iter().collect();
    let table = NameTable { module: input.module, functions };
    let probes: Vec<&str> = input.probes.iter().map(String::as_str).collect();
    wasmbake_compiler::names::assert_round_trip(&table, &table.encode().expect("small tables fit"), &probes);
});
