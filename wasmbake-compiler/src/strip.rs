//! Taking the `name` section out of a module, every other byte kept.

/// The module without its `name` custom section(s); every other byte is kept.
/// Input that does not parse as a sequence of sections is returned unchanged
/// (it was validated before this is called).
pub fn strip_name_section(wasm: &[u8]) -> Vec<u8> {
    name_section_ranges(wasm).map_or_else(
        |_| wasm.to_vec(),
        |ranges| {
            let mut out = Vec::with_capacity(wasm.len());
            let mut kept_until = 0;
            for range in ranges {
                out.extend_from_slice(&wasm[kept_until..range.start]);
                kept_until = range.end;
            }
            out.extend_from_slice(&wasm[kept_until..]);
            out
        },
    )
}

/// Byte ranges (id byte to end of contents) of the top-level `name` sections.
fn name_section_ranges(wasm: &[u8]) -> wasmparser::Result<Vec<std::ops::Range<usize>>> {
    let mut reader = wasmparser::BinaryReader::new(wasm, 0);
    reader.read_bytes(8)?; // magic and version
    let mut ranges = Vec::new();
    while !reader.eof() {
        let start = reader.original_position();
        let id = reader.read_u8()?;
        let size = reader.read_var_u32()? as usize;
        let contents_at = reader.original_position();
        let contents = reader.read_bytes(size)?;
        if id == 0 && wasmparser::BinaryReader::new(contents, contents_at).read_string()? == "name" {
            ranges.push(start..contents_at + size);
        }
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NameTable;

    #[test]
    fn strip_removes_only_the_name_section() {
        let wasm = wat::parse_str(
            r#"(module $m (func $f) (@custom "keep" "me") (@custom "producers" (after code) ""))"#,
        )
        .unwrap();
        assert!(!NameTable::from_module(&wasm).functions.is_empty());
        let stripped = strip_name_section(&wasm);
        assert!(stripped.len() < wasm.len());
        assert_eq!(NameTable::from_module(&stripped), NameTable::default());
        let mut customs: Vec<String> = wasmparser::Parser::new(0)
            .parse_all(&stripped)
            .filter_map(|p| match p.unwrap() {
                wasmparser::Payload::CustomSection(c) => Some(c.name().to_owned()),
                _ => None,
            })
            .collect();
        customs.sort();
        assert_eq!(customs, ["keep", "producers"]);
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&stripped)
            .unwrap();
        // A module without a name section is returned unchanged.
        assert_eq!(strip_name_section(&stripped), stripped);
    }
}
