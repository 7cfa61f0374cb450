//! Name-table writer and reader round trip on arbitrary name maps: every
//! encoded table parses, every name resolves both ways (a shared name to its
//! lowest index), names not in the table miss.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use wasmbake_compiler::NameTable;
use wasmbake_runtime::Names;

#[path = "../src/check.rs"]
mod check;

#[derive(arbitrary::Arbitrary, Debug)]
struct Input {
    module: Option<String>,
    functions: Vec<(u32, String)>,
    probes: Vec<String>,
}

fuzz_target!(|input: Input| {
    let functions: BTreeMap<u32, String> = input.functions.into_iter().collect();
    let table = NameTable { module: input.module, functions };
    check::with_static(table.encode().expect("small tables fit"), |bytes| round_trip(&table, &input.probes, bytes));
});

fn round_trip(table: &NameTable, probes: &[String], bytes: &'static [u8]) {
    let names = Names::parse(bytes).expect("an encoded table parses");
    assert_eq!(names.len(), table.functions.len());
    assert_eq!(names.module_name(), table.module.as_deref());
    for (&index, name) in &table.functions {
        assert_eq!(names.name_of(index), Some(name.as_str()));
        let lowest = table.functions.iter().find(|(_, n)| *n == name).map(|(&i, _)| i);
        assert_eq!(names.index_of(name), lowest);
    }
    for probe in probes {
        let expected = table.functions.iter().find(|(_, n)| *n == probe).map(|(&i, _)| i);
        assert_eq!(names.index_of(probe), expected);
    }
    let listed: Vec<(u32, &str)> = names.iter().collect();
    let expected: Vec<(u32, &str)> = table.functions.iter().map(|(&i, n)| (i, n.as_str())).collect();
    assert_eq!(listed, expected);
}
