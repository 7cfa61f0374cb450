#![allow(dead_code)] // (each fuzz target uses part of it)
//! What every fuzz target checks on a module that validates: its names,
//! read by Wasmtime's rules, encode and resolve both ways; stripping the
//! name section leaves a module that validates and has no names.

use wasmbake_compiler::NameTable;
use wasmbake_runtime::Names;

/// Runs `f` on `bytes` as a `&'static [u8]` (the form `Names::parse` takes,
/// as the runtime gets tables from static memory), then frees them: millions
/// of runs must not keep every input.
pub fn with_static<R>(bytes: Vec<u8>, f: impl FnOnce(&'static [u8]) -> R) -> R {
    let raw = Box::into_raw(bytes.into_boxed_slice());
    // SAFETY: `raw` is a live allocation until it is freed below; `f` is a
    // fuzz check that keeps nothing of it beyond its return (`R` holds no
    // borrow of it: every caller returns `()`).
    let result = f(unsafe { &*raw });
    // SAFETY: made by `Box::into_raw` above, freed once.
    drop(unsafe { Box::from_raw(raw) });
    result
}

pub fn check_valid_module(wasm: &[u8]) {
    let read = NameTable::read(wasm);
    with_static(read.table.encode().expect("names of a fuzz input fit"), |bytes| check_names(&read, bytes));
    let stripped = wasmbake_compiler::strip_name_section(wasm);
    wasmbake_compiler::validate(&stripped, "stripped.wasm").expect("a stripped module still validates");
    assert_eq!(NameTable::read(&stripped).table, NameTable::default(), "nothing named after stripping");
    assert!(stripped.len() <= wasm.len());
}

fn check_names(read: &wasmbake_compiler::ReadNames, bytes: &'static [u8]) {
    let names = Names::parse(bytes).expect("an encoded table parses");
    assert_eq!(names.len(), read.table.functions.len());
    for (&index, name) in &read.table.functions {
        assert_eq!(names.name_of(index), Some(name.as_str()));
        let lowest = read.table.functions.iter().find(|(_, n)| *n == name).map(|(&i, _)| i);
        assert_eq!(names.index_of(name), lowest);
    }
}
