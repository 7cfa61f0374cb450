//! The compiler's front end on valid modules from wasm-smith, each given a
//! name section of arbitrary names for arbitrary (in and out of range)
//! function indices: the module validates, the readable names resolve both
//! ways, stripping leaves a valid module without names.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

#[path = "../src/check.rs"]
mod check;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(module) = wasm_smith::Module::new(wasm_smith::Config::default(), &mut u) else { return };
    let mut wasm = module.to_bytes();
    let Ok(names) = Vec::<(u32, String)>::arbitrary(&mut u) else { return };
    let module_name = Option::<String>::arbitrary(&mut u).unwrap_or(None);
    let mut section = wasm_encoder::NameSection::new();
    if let Some(name) = &module_name {
        section.module(name);
    }
    let mut map = wasm_encoder::NameMap::new();
    for (index, name) in &names {
        map.append(*index % 64, name);
    }
    section.functions(&map);
    // A custom section: id 0, size, the name "name", the contents.
    let mut contents = vec![4];
    contents.extend_from_slice(b"name");
    contents.extend_from_slice(&section.as_custom().data);
    wasm.push(0);
    leb(contents.len() as u64, &mut wasm);
    wasm.extend(contents);
    if wasmbake_compiler::validate(&wasm, "smith.wasm").is_err() {
        // wasm-smith's defaults include proposals the validator's feature
        // set may not: not the front end's concern.
        return;
    }
    check::check_valid_module(&wasm);
});

fn leb(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        out.push(if n == 0 { byte } else { byte | 0x80 });
        if n == 0 {
            return;
        }
    }
}
