//! Components: their core modules, and their names taken out without moving
//! a byte.
//!
//! Wasmtime keeps only the core modules' `name` sections of a component
//! (the `component-name` section is ignored), and numbers the core modules
//! in parse order, nested components included (its `StaticModuleIndex`;
//! adapter modules it synthesises come after them and have no names). A
//! frame's `module_offset` is an offset in the component file, so the core
//! module a frame is in is the one whose byte range holds it.
//!
//! A module plugin's `name` section is removed (it ends the file, so no
//! offset moves); a component's sit in the middle of the file, and removing
//! them would shift every later offset in backtraces. So their section
//! names are overwritten in place instead: same length, a custom section
//! Wasmtime does not read, every offset kept.

use std::ops::Range;

use wasmparser::{Parser, Payload};

/// What a `name` section is renamed to: as long as `name`, and read by no
/// one.
const BLANKED: &[u8; 4] = b"nam_";

/// A component's core modules in Wasmtime's static-module order: each one's
/// byte range in the file.
pub fn core_modules(component: &[u8]) -> wasmparser::Result<Vec<Range<usize>>> {
    let mut modules = Vec::new();
    for payload in Parser::new(0).parse_all(component) {
        if let Payload::ModuleSection { unchecked_range, .. } = payload? {
            modules.push(unchecked_range);
        }
    }
    Ok(modules)
}

/// `component` with every core module's `name` section renamed in place
/// (see the module documentation): the same length, the same offsets, and
/// no function names left for Wasmtime to put in the artifact.
pub fn blank_name_sections(component: &[u8]) -> wasmparser::Result<Vec<u8>> {
    let mut out = component.to_vec();
    // Depth in core modules: only a module's own `name` section counts (a
    // component-level custom section called `name` is not Wasmtime's).
    let mut in_module = 0usize;
    for payload in Parser::new(0).parse_all(component) {
        match payload? {
            Payload::ModuleSection { .. } => in_module += 1,
            Payload::End(_) if in_module > 0 => in_module -= 1,
            Payload::CustomSection(section) if in_module > 0 && section.name() == "name" => {
                // The section's name is the four bytes before its data.
                let name = section.data_offset() - 4..section.data_offset();
                out[name].copy_from_slice(BLANKED);
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NameTable, component_names};

    const TWO_MODULES: &str = r#"(component
        (core module $a (func $first) (func $second))
        (component $nested (core module $b (func $third)))
        (core module $c (func $fourth)))"#;

    #[test]
    fn core_modules_come_in_parse_order_nested_ones_included() {
        let wasm = wat::parse_str(TWO_MODULES).unwrap();
        let modules = core_modules(&wasm).unwrap();
        let names: Vec<Vec<String>> = modules
            .iter()
            .map(|r| NameTable::from_module(&wasm[r.clone()]).functions.into_values().collect())
            .collect();
        assert_eq!(names, [vec!["first", "second"], vec!["third"], vec!["fourth"]]);
    }

    #[test]
    fn blanking_keeps_every_offset_and_no_name() {
        let wasm = wat::parse_str(TWO_MODULES).unwrap();
        let blanked = blank_name_sections(&wasm).unwrap();
        assert_eq!(blanked.len(), wasm.len());
        assert_eq!(core_modules(&blanked).unwrap(), core_modules(&wasm).unwrap());
        for range in core_modules(&blanked).unwrap() {
            assert_eq!(NameTable::from_module(&blanked[range]), NameTable::default());
        }
        // Only the section names changed (`name` to `nam_`): one byte per
        // core module.
        let changed = wasm.iter().zip(&blanked).filter(|(a, b)| a != b).count();
        assert_eq!(changed, 3);
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&blanked)
            .unwrap();
    }

    #[test]
    fn the_tables_round_trip_through_the_runtime_reader() {
        let wasm = wat::parse_str(TWO_MODULES).unwrap();
        let modules: Vec<_> = core_modules(&wasm)
            .unwrap()
            .into_iter()
            .map(|r| {
                let table = NameTable::from_module(&wasm[r.clone()]);
                (r, table)
            })
            .collect();
        let bytes = component_names::encode(&modules).unwrap();
        let read = wasmbake_runtime::ComponentNames::parse(&bytes).expect("parses");
        assert_eq!(read.len(), 3);
        for (i, (range, table)) in modules.iter().enumerate() {
            let module = read.module(i).unwrap();
            assert_eq!(module.range, *range);
            crate::names::assert_round_trip(table, module.names.as_bytes(), &["nope"]);
            assert_eq!(read.module_at(range.start + 1).unwrap().index, i);
        }
        assert!(read.module_at(0).is_none(), "the component header is in no module");
        // Damage is refused, never read out of bounds.
        for cut in [0, 4, 8, 20, bytes.len() - 1] {
            assert!(wasmbake_runtime::ComponentNames::parse(&bytes[..cut]).is_none(), "cut at {cut}");
        }
    }
}
