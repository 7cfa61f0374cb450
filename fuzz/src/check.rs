#![allow(dead_code)] // (each fuzz target uses part of it)
//! What every fuzz target checks on a module that validates: its names,
//! read by Wasmtime's rules, encode and resolve both ways; stripping the
//! name section leaves a module that validates and has no names.

use wasmbake_compiler::NameTable;

pub fn check_valid_module(wasm: &[u8]) {
    let read = NameTable::read(wasm);
    let encoded = read.table.encode().expect("names of a fuzz input fit");
    wasmbake_compiler::names::assert_round_trip(&read.table, &encoded, &[]);
    let stripped = wasmbake_compiler::strip_name_section(wasm);
    wasmbake_compiler::validate(&stripped, "stripped.wasm").expect("a stripped module still validates");
    assert_eq!(NameTable::read(&stripped).table, NameTable::default(), "nothing named after stripping");
    assert!(stripped.len() <= wasm.len());
}
