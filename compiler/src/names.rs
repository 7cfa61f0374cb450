//! Writer of wasmbake's static function-name table.
//!
//! The table is written once at compile time and read in place at run time by
//! `wasmbake_runtime::names::Names` (`runtime/src/names.rs`). It continues the
//! layout of Wasmtime PR #3789 (one blob of names plus a sorted
//! `(index, offset, len)` array) and adds a perfect hash for name → index.
//!
//! ```text
//!  offset  size      field                        (all integers little-endian)
//!  ------  --------  -----------------------------------------------------
//!       0  4         magic "WBN2" (format version 2)
//!       4  4  u32    N  = number of entries (named functions)
//!       8  4  u32    M  = number of PHF slots (distinct names, M <= N)
//!      12  4  u32    D  = number of PHF displacement buckets
//!      16  8  u64    PHF hash key (phf_shared::HashKey)
//!      24  4  u32    module name: offset into STRINGS
//!      28  4  u32    module name: length, or u32::MAX when there is none
//!      32  12*N      ENTRIES: N x { func_index u32, offset u32, len u32 }
//!                    sorted by func_index, indices unique; (offset, len)
//!                    select the function's name in STRINGS
//!       .  8*D       DISPS: D x { d1 u32, d2 u32 }   (phf_generator disps)
//!       .  12*M      SLOTS: M x { func_index u32, offset u32, len u32 }
//!                    slot i is a copy of the entry phf_generator's map[i]
//!                    points at (inline, to save a memory access per lookup)
//!       .  ...       STRINGS: UTF-8 bytes of every name, concatenated
//! ```
//!
//! Name → index: `h = wasmbake_runtime::names::name_hashes(name, key)`
//! (xxh3-64 of the name seeded with the key: g, f1 from its halves, f2 from a
//! remix; see that function),
//! `slot = displace(h.f1, h.f2, DISPS[h.g % D]) % M`, then compare the name
//! SLOTS[slot] points at with the query. A name shared by several functions
//! maps to its lowest index.
//!
//! An empty table (no `name` section) is a header with N = M = D = 0.

use std::collections::BTreeMap;
use std::collections::HashMap;

use wasmbake_runtime::names::{HEADER_LEN, MAGIC, NO_MODULE_NAME, name_hashes};

use crate::Error;

/// Function names read from a module's `name` section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameTable {
    /// The module's name, if the section gives one.
    pub module: Option<String>,
    /// Function index → name. Later entries for the same index replace
    /// earlier ones ("last one wins").
    pub functions: BTreeMap<u32, String>,
}

impl NameTable {
    /// Reads the `name` custom section of a core module, if any. A malformed
    /// name section is read up to its first error, the way Wasmtime does.
    pub fn from_module(wasm: &[u8]) -> NameTable {
        let mut table = NameTable::default();
        for payload in wasmparser::Parser::new(0).parse_all(wasm) {
            let Ok(payload) = payload else { break };
            let wasmparser::Payload::CustomSection(section) = payload else { continue };
            let wasmparser::KnownCustom::Name(reader) = section.as_known() else { continue };
            for subsection in reader {
                match subsection {
                    Ok(wasmparser::Name::Module { name, .. }) => table.module = Some(name.to_owned()),
                    Ok(wasmparser::Name::Function(map)) => {
                        for naming in map {
                            let Ok(naming) = naming else { break };
                            table.functions.insert(naming.index, naming.name.to_owned());
                        }
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        }
        table
    }

    /// Encodes the table in the layout documented at the top of this module.
    ///
    /// # Errors
    ///
    /// When the names do not fit the format's 32-bit offsets (over 4 GiB of
    /// names, or over 2^32 functions).
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let too_big = |what: &str| Error::TooLarge(format!("the name table's {what} exceeds u32"));

        let mut strings = Vec::new();
        let mut push = |s: &str| -> Result<(u32, u32), Error> {
            let offset = u32::try_from(strings.len()).map_err(|_| too_big("string blob"))?;
            let len = u32::try_from(s.len()).map_err(|_| too_big("name length"))?;
            strings.extend_from_slice(s.as_bytes());
            Ok((offset, len))
        };
        let (module_offset, module_len) = match &self.module {
            Some(name) => push(name)?,
            None => (0, NO_MODULE_NAME),
        };
        let mut entries = Vec::with_capacity(self.functions.len());
        for (&index, name) in &self.functions {
            let (offset, len) = push(name)?;
            entries.push((index, offset, len));
        }

        // Distinct names, each mapped to its lowest function index (entries
        // are in index order, so the first occurrence is the lowest).
        let mut first_position: HashMap<&str, u32> = HashMap::new();
        let mut keys: Vec<&str> = Vec::new();
        for (position, name) in self.functions.values().enumerate() {
            first_position.entry(name.as_str()).or_insert_with(|| {
                keys.push(name.as_str());
                position as u32
            });
        }
        let (hash_key, disps, slots) = if keys.is_empty() {
            (0, Vec::new(), Vec::new())
        } else {
            let state = phf_generator::generate_hash_with_hash_fn(&keys, |name, key| phf_hashes(name, *key));
            let slots: Vec<(u32, u32, u32)> =
                state.map.iter().map(|&k| entries[first_position[keys[k]] as usize]).collect();
            (state.key, state.disps, slots)
        };

        let count = |n: usize, what: &str| u32::try_from(n).map_err(|_| too_big(what));
        let mut out = Vec::with_capacity(
            HEADER_LEN + entries.len() * 12 + disps.len() * 8 + slots.len() * 12 + strings.len(),
        );
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&count(entries.len(), "entry count")?.to_le_bytes());
        out.extend_from_slice(&count(slots.len(), "slot count")?.to_le_bytes());
        out.extend_from_slice(&count(disps.len(), "bucket count")?.to_le_bytes());
        out.extend_from_slice(&hash_key.to_le_bytes());
        out.extend_from_slice(&module_offset.to_le_bytes());
        out.extend_from_slice(&module_len.to_le_bytes());
        debug_assert_eq!(out.len(), HEADER_LEN);
        let mut push_u32s =
            |values: &[u32]| values.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        for &(index, offset, len) in &entries {
            push_u32s(&[index, offset, len]);
        }
        for (d1, d2) in disps {
            push_u32s(&[d1, d2]);
        }
        for (index, offset, len) in slots {
            push_u32s(&[index, offset, len]);
        }
        out.extend_from_slice(&strings);
        Ok(out)
    }
}

/// [`name_hashes`] as the `phf_shared::Hashes` that `phf_generator` works
/// with. `Hashes` is `#[non_exhaustive]` (no struct expression outside
/// phf_shared) but its fields are public: take any value `phf_shared::hash`
/// returns and overwrite all three fields.
fn phf_hashes(name: &str, key: u64) -> phf_shared::Hashes {
    let ours = name_hashes(name, key);
    let mut hashes = phf_shared::hash(&[][..] as &[u8], &key);
    (hashes.g, hashes.f1, hashes.f2) = (ours.g, ours.f1, ours.f2);
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use wasmbake_runtime::Names;

    fn round_trip(table: &NameTable) -> Names {
        let bytes: &'static [u8] = table.encode().unwrap().leak();
        Names::parse(bytes).expect("encoded table must validate")
    }

    fn check(table: &NameTable) {
        let names = round_trip(table);
        assert_eq!(names.len(), table.functions.len());
        assert_eq!(names.module_name(), table.module.as_deref());
        for (&index, name) in &table.functions {
            assert_eq!(names.name_of(index), Some(name.as_str()));
            let lowest = table.functions.iter().find(|(_, n)| *n == name).map(|(&i, _)| i);
            assert_eq!(names.index_of(name), lowest, "{name:?}");
        }
        let listed: Vec<(u32, &str)> = names.iter().collect();
        let expected: Vec<(u32, &str)> = table.functions.iter().map(|(&i, n)| (i, n.as_str())).collect();
        assert_eq!(listed, expected);
    }

    fn table(module: Option<&str>, functions: &[(u32, &str)]) -> NameTable {
        NameTable {
            module: module.map(str::to_owned),
            functions: functions.iter().map(|&(i, n)| (i, n.to_owned())).collect(),
        }
    }

    #[test]
    fn empty_table() {
        let names = round_trip(&NameTable::default());
        assert!(names.is_empty());
        assert_eq!(names.name_of(0), None);
        assert_eq!(names.index_of(""), None);
        assert_eq!(names.index_of("main"), None);
        assert_eq!(names.module_name(), None);
    }

    #[test]
    fn sparse_unicode_and_empty_names() {
        let t = table(Some("模块"), &[(0, ""), (3, "héllo"), (7, "🦀::main"), (1000, "x")]);
        check(&t);
        let names = round_trip(&t);
        assert_eq!(names.name_of(1), None);
        assert_eq!(names.name_of(999), None);
        assert_eq!(names.name_of(u32::MAX), None);
        assert_eq!(names.index_of("hello"), None);
    }

    #[test]
    fn shared_names_resolve_to_lowest_index() {
        let t = table(None, &[(2, "dup"), (5, "dup"), (9, "other"), (11, "dup")]);
        check(&t);
        assert_eq!(round_trip(&t).index_of("dup"), Some(2));
    }

    #[test]
    fn duplicate_indices_in_the_name_section_last_one_wins() {
        // A name section that names function 0 twice: "second" must win.
        let wasm = wat::parse_str(
            r#"(module (func) (func)
                 (@custom "name" (after code)
                    "\01\10\02\00\05first\00\06second"))"#,
        )
        .unwrap();
        let t = NameTable::from_module(&wasm);
        assert_eq!(t.functions.get(&0).map(String::as_str), Some("second"));
    }

    #[test]
    fn imports_are_in_the_index_space() {
        let wasm =
            wat::parse_str(r#"(module $m (import "env" "log" (func $log)) (func $run call $log))"#).unwrap();
        let t = NameTable::from_module(&wasm);
        assert_eq!(t, table(Some("m"), &[(0, "log"), (1, "run")]));
        check(&t);
    }

    #[test]
    fn corrupt_tables_are_rejected_or_yield_none() {
        let good = table(Some("m"), &[(0, "a"), (1, "b")]).encode().unwrap();
        for cut in 0..good.len() {
            let bytes: &'static [u8] = good[..cut].to_vec().leak();
            if let Some(names) = Names::parse(bytes) {
                // Only the empty prefix is a valid (empty) table.
                assert!(names.is_empty(), "prefix of {cut} bytes accepted");
            }
            // Unchecked access to a truncated table never panics.
            // SAFETY: every prefix of a valid table holds UTF-8 names only.
            let names = unsafe { Names::from_static_unchecked(bytes) };
            let _ = (names.name_of(0), names.name_of(1), names.index_of("a"), names.module_name());
        }
    }

    proptest! {
        #[test]
        fn random_tables_round_trip(
            module in proptest::option::of(".{0,12}"),
            functions in proptest::collection::btree_map(0u32..5000, "\\PC{0,24}", 0..300),
        ) {
            check(&NameTable { module, functions });
        }

        #[test]
        fn random_tables_with_shared_names(
            functions in proptest::collection::btree_map(0u32..100_000, "[ab]{0,3}", 0..200),
        ) {
            check(&NameTable { module: None, functions });
        }
    }
}
