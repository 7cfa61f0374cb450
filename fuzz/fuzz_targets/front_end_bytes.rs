//! The compiler's front end on arbitrary bytes (binary or text): whatever it
//! accepts yields a name table that round-trips, and a stripped module that
//! still validates, without names.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../src/check.rs"]
mod check;

fuzz_target!(|data: &[u8]| {
    let Ok(wasm) = wasmbake_compiler::module_bytes(data, "fuzz.wasm") else { return };
    if wasmbake_compiler::validate(&wasm, "fuzz.wasm").is_ok() {
        check::check_valid_module(&wasm);
    }
});
