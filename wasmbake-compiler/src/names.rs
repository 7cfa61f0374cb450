//! Writer of wasmbake's static function-name table.
//!
//! The table is written once at compile time and read in place at run time by
//! `wasmbake_runtime::names::Names` (`runtime/src/names.rs`). It continues the
//! layout of Wasmtime PR #3789 (names apart from the module metadata, a sorted
//! index array for index → name) and adds a perfect hash for name → index.
//!
//! ```text
//!  offset  size      field                        (all integers little-endian)
//!  ------  --------  -----------------------------------------------------
//!       0  4         magic "WBN3" (format version 3)
//!       4  4  u32    N  = number of entries (named functions)
//!       8  4  u32    M  = number of PHF slots (distinct names, M <= N)
//!      12  4  u32    D  = number of PHF displacement buckets
//!      16  8  u64    PHF hash key (the seed of `name_hashes`)
//!      24  8  u64    fastmod_constant(D)   (x % D by multiplication)
//!      32  8  u64    fastmod_constant(M)   (x % M by multiplication)
//!      40  4  u32    module name: offset of its record, or u32::MAX if none
//!      44  4  u32    reserved, 0
//!      48  12*N      ENTRIES: N x { func_index u32, record u32, len u32 }
//!                    sorted by func_index, indices unique; len is the
//!                    record's, so index → name reads no record prefix
//!       .  8*D       DISPS:   D x { d1 u32, d2 u32 }  (phf_generator's)
//!       .  8*M       SLOTS:   M x { tag u32, record u32 }
//!                    slot i holds the name phf_generator's map[i] points
//!                    at; tag = name_hashes(name, key).tag
//!       .  ...       RECORDS: { func_index u32, len u32, bytes[len] } ...
//!                    one per entry in index order (after the module
//!                    name's, whose func_index is u32::MAX), unpadded;
//!                    `record` fields are byte offsets from RECORDS' start
//! ```
//!
//! Index → name: binary search of ENTRIES (direct when names cover 0..N),
//! then the record. Name → index: `h = name_hashes(name, key)` (xxh3-64 of
//! the name seeded with the key, see that function);
//! `bucket = h.g % D`, `slot = displace(h.f1, h.f2, DISPS[bucket]) % M`; a
//! slot whose tag differs from `h.tag` is a miss without reading any name;
//! otherwise the record's bytes are compared with the query and its
//! func_index returned. A name shared by several functions maps to its lowest
//! index (its slot points at that function's record).
//!
//! Why this shape: name → index reads a displacement and a slot, both in
//! arrays of 8 bytes per name (0.8 MB at 100k names), and then one record whose index and length sit beside its
//! bytes, in the cache line the comparison reads anyway. Index → name reads
//! one entry and returns a slice: no record is touched until the caller reads
//! the name.
//!
//! An empty table (no `name` section) is a header with N = M = D = 0.

use std::collections::BTreeMap;
use std::collections::HashMap;

use wasmbake_runtime::__private::names::{
    DISP_LEN, ENTRY_LEN, HEADER_LEN, MAGIC, NO_MODULE_NAME, RECORD_PREFIX_LEN, SLOT_LEN, fastmod_constant,
    name_hashes,
};

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

/// A module's name table, and what was wrong with its `name` section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadNames {
    /// The names that could be read (see [`NameTable::read`]).
    pub table: NameTable,
    /// What was wrong, one item per problem: a custom section never makes a
    /// module invalid, so these are reported, not errors (unless strict).
    pub problems: Vec<String>,
}

impl ReadNames {
    /// One line for a user: the first problem, and how many more there are.
    pub fn summary(&self) -> Option<String> {
        let first = self.problems.first()?;
        Some(match self.problems.len() {
            1 => format!("malformed name section: {first}"),
            n => format!("malformed name section: {first} (and {} more problems)", n - 1),
        })
    }
}

impl NameTable {
    /// Reads the `name` custom section of a core module, if any, keeping
    /// every function name that can be read, by Wasmtime's own rules
    /// (`wasmtime-environ`, `ModuleEnvironment::name_section`): a name for a
    /// function index beyond the module's functions is skipped; of several
    /// names for one index the last wins; on a parse error, everything read
    /// before it is kept and the rest of the section is ignored. One
    /// addition: a subsection that claims more bytes than the section has is
    /// read as far as its bytes go (Wasmtime drops it whole). Names out of
    /// order, duplicate indices and out-of-range indices are kept or skipped
    /// as above and reported as problems.
    pub fn read(wasm: &[u8]) -> ReadNames {
        let mut out = ReadNames::default();
        let mut functions: u64 = 0;
        for payload in wasmparser::Parser::new(0).parse_all(wasm) {
            let Ok(payload) = payload else { break };
            match payload {
                wasmparser::Payload::ImportSection(imports) => {
                    for import in imports.into_imports().flatten() {
                        if matches!(
                            import.ty,
                            wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_)
                        ) {
                            functions += 1;
                        }
                    }
                }
                wasmparser::Payload::FunctionSection(section) => functions += u64::from(section.count()),
                wasmparser::Payload::CustomSection(section) if section.name() == "name" => {
                    read_name_section(section.data(), section.data_offset(), functions, &mut out);
                }
                _ => {}
            }
        }
        out
    }

    /// The names [`NameTable::read`] keeps, without the problems.
    pub fn from_module(wasm: &[u8]) -> NameTable {
        NameTable::read(wasm).table
    }

    /// Encodes the table in the layout documented at the top of this module.
    ///
    /// # Errors
    ///
    /// When the names do not fit the format's 32-bit offsets (over 4 GiB of
    /// names, or over 2^32 functions).
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let too_big = |what: &str| Error::TooLarge(format!("the name table's {what} exceeds u32"));
        let count = |n: usize, what: &str| u32::try_from(n).map_err(|_| too_big(what));

        // Every record's offset and length, checked before anything is
        // written: the module name's first, then the functions' in order.
        let names = self.module.iter().chain(self.functions.values());
        let mut offsets = record_offsets(names.map(String::len))?.into_iter();
        let mut records = Vec::new();
        // Appends a record; returns its offset and the name's length.
        let mut push = |func: u32, name: &str| -> Result<(u32, u32), Error> {
            let (offset, len) = offsets.next().expect("one offset per record");
            records.extend_from_slice(&func.to_le_bytes());
            records.extend_from_slice(&len.to_le_bytes());
            records.extend_from_slice(name.as_bytes());
            Ok((offset, len))
        };
        let module_record = match &self.module {
            Some(name) => push(NO_MODULE_NAME, name)?.0,
            None => NO_MODULE_NAME,
        };
        let mut entries = Vec::with_capacity(self.functions.len());
        for (&index, name) in &self.functions {
            let (record, len) = push(index, name)?;
            entries.push((index, record, len));
        }

        // Distinct names, each mapped to its lowest function index (entries
        // are in index order, so the first occurrence is the lowest).
        let mut first_position: HashMap<&str, usize> = HashMap::new();
        let mut keys: Vec<&str> = Vec::new();
        for (position, name) in self.functions.values().enumerate() {
            first_position.entry(name.as_str()).or_insert_with(|| {
                keys.push(name.as_str());
                position
            });
        }
        let (hash_key, disps, slots) = if keys.is_empty() {
            (0, Vec::new(), Vec::new())
        } else {
            let state = phf_generator::generate_hash_with_hash_fn(&keys, |name, key| phf_hashes(name, *key));
            let slots: Vec<(u32, u32)> = state
                .map
                .iter()
                .map(|&k| (name_hashes(keys[k], state.key).tag, entries[first_position[keys[k]]].1))
                .collect();
            (state.key, state.disps, slots)
        };

        let (n, m, d) = (
            count(entries.len(), "entry count")?,
            count(slots.len(), "slot count")?,
            count(disps.len(), "bucket count")?,
        );
        let mut out = Vec::with_capacity(
            HEADER_LEN
                + entries.len() * ENTRY_LEN
                + disps.len() * DISP_LEN
                + slots.len() * SLOT_LEN
                + records.len(),
        );
        out.extend_from_slice(&MAGIC);
        for value in [n, m, d] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        for value in [hash_key, fastmod_constant(d), fastmod_constant(m)] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.extend_from_slice(&module_record.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        debug_assert_eq!(out.len(), HEADER_LEN);
        for (index, record, len) in entries {
            for value in [index, record, len] {
                out.extend_from_slice(&value.to_le_bytes());
            }
        }
        for (a, b) in disps.into_iter().chain(slots) {
            out.extend_from_slice(&a.to_le_bytes());
            out.extend_from_slice(&b.to_le_bytes());
        }
        out.extend_from_slice(&records);
        Ok(out)
    }
}

/// The (offset, length) of each record of names of these byte lengths, in
/// order: fails when a length or the record area (to the end of the last
/// record) does not fit the format's 32-bit fields.
fn record_offsets(lengths: impl Iterator<Item = usize>) -> Result<Vec<(u32, u32)>, Error> {
    let too_big = |what: &str| Error::TooLarge(format!("the name table's {what} exceeds u32"));
    let mut at: u64 = 0;
    let mut out = Vec::new();
    for len in lengths {
        let len32 = u32::try_from(len).map_err(|_| too_big("name length"))?;
        let offset = u32::try_from(at).map_err(|_| too_big("record area"))?;
        at += RECORD_PREFIX_LEN as u64 + u64::from(len32);
        out.push((offset, len32));
    }
    u32::try_from(at).map_err(|_| too_big("record area"))?;
    Ok(out)
}

/// Reads one `name` section's `data` (at `offset` in the module) into `out`:
/// subsection by subsection, stopping at the first parse error.
fn read_name_section(data: &[u8], offset: usize, functions: u64, out: &mut ReadNames) {
    use wasmparser::BinaryReader;
    let problem = |out: &mut ReadNames, e: wasmparser::BinaryReaderError| {
        out.problems.push(format!("{} at byte offset {:#x}", e.message(), e.offset()));
    };
    let mut reader = BinaryReader::new(data, offset);
    while !reader.eof() {
        let at = reader.original_position();
        let (id, size) = match (reader.read_u8(), reader.read_var_u32()) {
            (Ok(id), Ok(size)) => (id, size as usize),
            (Err(e), _) | (_, Err(e)) => return problem(out, e),
        };
        let (start, available) = (reader.original_position(), reader.bytes_remaining());
        // A subsection longer than the section: read what there is, then stop.
        let truncated = size > available;
        if truncated {
            out.problems.push(format!(
                "subsection {id} at byte offset {at:#x} claims {size} bytes but only {available} remain"
            ));
        }
        let body = match reader.read_bytes(size.min(available)) {
            Ok(body) => BinaryReader::new(body, start),
            Err(e) => return problem(out, e),
        };
        let read = match id {
            0 => read_module_name(body, out),
            1 => read_function_names(body, functions, out),
            // Local, label and other kinds of names: not used.
            _ => Ok(()),
        };
        if let Err(e) = read {
            return problem(out, e);
        }
        if truncated {
            return;
        }
    }
}

fn read_module_name(mut body: wasmparser::BinaryReader<'_>, out: &mut ReadNames) -> wasmparser::Result<()> {
    out.table.module = Some(body.read_string()?.to_owned());
    Ok(())
}

/// The function names of one subsection, by Wasmtime's rules (see
/// [`NameTable::read`]); the names before an error are kept.
fn read_function_names(
    body: wasmparser::BinaryReader<'_>,
    functions: u64,
    out: &mut ReadNames,
) -> wasmparser::Result<()> {
    let mut previous: Option<u32> = None;
    for naming in wasmparser::NameMap::new(body)? {
        let naming = naming?;
        if u64::from(naming.index) >= functions {
            out.problems.push(format!(
                "function index {} is out of range (the module has {functions} functions): skipped",
                naming.index
            ));
            continue;
        }
        match previous {
            Some(p) if p == naming.index => {
                out.problems.push(format!("function {p} is named twice: the last name is kept"));
            }
            Some(p) if p > naming.index => out
                .problems
                .push(format!("function names are out of order (function {} after {p}): kept", naming.index)),
            _ => {}
        }
        previous = Some(naming.index);
        out.table.functions.insert(naming.index, naming.name.to_owned());
    }
    Ok(())
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

/// Checks that `bytes`, `table` encoded, read back with the runtime's
/// reader: the same count, module name and listing, every name found at its
/// index and resolved to its lowest index, every probe resolved as the table
/// says (a miss when no function has that name). The tests and the fuzz
/// targets' oracle: it panics, naming the first difference.
#[doc(hidden)]
pub fn assert_round_trip(table: &NameTable, bytes: &[u8], probes: &[&str]) {
    let names = wasmbake_runtime::Names::parse(bytes).expect("an encoded table parses");
    let lowest = |name: &str| table.functions.iter().find(|(_, n)| *n == name).map(|(&i, _)| i);
    assert_eq!(names.len(), table.functions.len());
    assert_eq!(names.module_name(), table.module.as_deref());
    for (&index, name) in &table.functions {
        assert_eq!(names.name_of(index), Some(name.as_str()));
        assert_eq!(names.index_of(name), lowest(name), "{name:?}");
    }
    for probe in probes {
        assert_eq!(names.index_of(probe), lowest(probe), "{probe:?}");
    }
    let listed: Vec<(u32, &str)> = names.iter().collect();
    let expected: Vec<(u32, &str)> = table.functions.iter().map(|(&i, n)| (i, n.as_str())).collect();
    assert_eq!(listed, expected);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use wasmbake_runtime::Names;

    fn check(table: &NameTable) {
        // Every name with a NUL appended is a probe: a miss unless the table
        // has that name too.
        let probes: Vec<String> = table.functions.values().map(|n| format!("{n}\u{0}")).collect();
        let probes: Vec<&str> = probes.iter().map(String::as_str).collect();
        assert_round_trip(table, &table.encode().unwrap(), &probes);
    }

    fn table(module: Option<&str>, functions: &[(u32, &str)]) -> NameTable {
        NameTable {
            module: module.map(str::to_owned),
            functions: functions.iter().map(|&(i, n)| (i, n.to_owned())).collect(),
        }
    }

    #[test]
    fn empty_table() {
        let bytes = NameTable::default().encode().unwrap();
        let names = Names::parse(&bytes).unwrap();
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
        let bytes = t.encode().unwrap();
        let names = Names::parse(&bytes).unwrap();
        assert_eq!(names.name_of(1), None);
        assert_eq!(names.name_of(999), None);
        assert_eq!(names.name_of(u32::MAX), None);
        assert_eq!(names.index_of("hello"), None);
    }

    #[test]
    fn shared_names_resolve_to_lowest_index() {
        let t = table(None, &[(2, "dup"), (5, "dup"), (9, "other"), (11, "dup")]);
        check(&t);
        assert_eq!(Names::parse(&t.encode().unwrap()).unwrap().index_of("dup"), Some(2));
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
            let bytes = &good[..cut];
            if let Some(names) = Names::parse(bytes) {
                // Only the empty prefix is a valid (empty) table.
                assert!(names.is_empty(), "prefix of {cut} bytes accepted");
            }
            // Unchecked access to a truncated table never panics.
            // SAFETY: every prefix of a valid table holds UTF-8 names only.
            let names = unsafe { Names::from_bytes_unchecked(bytes) };
            let _ = (names.name_of(0), names.name_of(1), names.index_of("a"), names.module_name());
        }
    }

    /// Where SLOTS start in an encoded table (layout diagram above).
    fn slots_at(encoded: &[u8]) -> usize {
        let u32_at = |at: usize| u32::from_le_bytes(encoded[at..at + 4].try_into().unwrap()) as usize;
        HEADER_LEN + u32_at(4) * ENTRY_LEN + u32_at(12) * DISP_LEN
    }

    /// Found by fuzzing (`fuzz/fuzz_targets/names_parse.rs`): a table of
    /// one entry and no hash slots parsed, and its name did not resolve.
    #[test]
    fn parse_rejects_a_table_whose_hash_misses_a_listed_name() {
        let mut bytes = vec![0u8; 207];
        bytes[..4].copy_from_slice(b"WBN3");
        bytes[4] = 1; // one entry; no slots, no buckets
        bytes[191..].copy_from_slice(&[
            0x00, 0x00, 0x00, 0x27, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xff, 0xb3, 0xb3,
        ]);
        assert!(Names::parse(&bytes).is_none());
    }

    #[test]
    fn parse_checks_constants_tags_reserved_bytes_and_record_indices() {
        let good = table(Some("m"), &[(0, "a"), (1, "b"), (5, "c")]).encode().unwrap();
        assert!(Names::parse(&good).is_some());
        let slots_at = slots_at(&good);
        // Per the layout diagram: both fastmod constants, the reserved word,
        // entry 0's record offset (then pointing into the module name's
        // record) and its length, and slot 0's tag.
        for at in [24, 32, 44, HEADER_LEN + 4, HEADER_LEN + 8, slots_at] {
            let mut bad = good.clone();
            bad[at] ^= 1;
            assert!(Names::parse(&bad).is_none(), "flipped byte {at} accepted");
        }
    }

    #[test]
    fn a_slot_whose_tag_differs_is_a_miss() {
        let encoded = table(None, &[(0, "alpha"), (1, "beta")]).encode().unwrap();
        let slots_at = slots_at(&encoded);
        for slot in 0..2 {
            let mut bad = encoded.clone();
            bad[slots_at + slot * SLOT_LEN] ^= 0x80;
            // SAFETY: only a tag changed; every name is still UTF-8.
            let names = unsafe { Names::from_bytes_unchecked(&bad) };
            let found = [names.index_of("alpha"), names.index_of("beta")];
            assert_eq!(found.iter().filter(|f| f.is_none()).count(), 1, "slot {slot}: {found:?}");
        }
    }

    // Malformed `name` sections: the module stays valid and embeddable, the
    // readable names are kept by Wasmtime's rules, and the problem is named.

    fn leb(mut n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            out.push(if n == 0 { byte } else { byte | 0x80 });
            if n == 0 {
                return out;
            }
        }
    }

    fn subsection(id: u8, body: &[u8]) -> Vec<u8> {
        [vec![id], leb(body.len() as u64), body.to_vec()].concat()
    }

    fn function_names(names: &[(u32, &[u8])]) -> Vec<u8> {
        let mut body = leb(names.len() as u64);
        for (index, name) in names {
            body.extend(leb(u64::from(*index)));
            body.extend(leb(name.len() as u64));
            body.extend_from_slice(name);
        }
        body
    }

    /// A module of three functions (no names of its own) whose `name`
    /// section holds `body`.
    fn with_name_section(body: &[u8]) -> Vec<u8> {
        let mut wasm = wat::parse_str("(module (func) (func) (func))").unwrap();
        let mut section = leb(4);
        section.extend_from_slice(b"name");
        section.extend_from_slice(body);
        wasm.push(0);
        wasm.extend(leb(section.len() as u64));
        wasm.extend(section);
        crate::validate(&wasm, "m.wasm").expect("a custom section never makes a module invalid");
        wasm
    }

    fn read(body: &[u8]) -> ReadNames {
        NameTable::read(&with_name_section(body))
    }

    fn names(read: &ReadNames) -> Vec<(u32, &str)> {
        read.table.functions.iter().map(|(&i, n)| (i, n.as_str())).collect()
    }

    #[test]
    fn a_bad_leb_keeps_what_came_before() {
        let module = subsection(0, &[vec![1], b"m".to_vec()].concat());
        let bad = [1, 6, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80];
        let r = read(&[module, bad.to_vec()].concat());
        assert_eq!(r.table.module.as_deref(), Some("m"));
        assert!(r.table.functions.is_empty());
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert!(r.summary().unwrap().starts_with("malformed name section: "), "{:?}", r.summary());
    }

    #[test]
    fn a_subsection_longer_than_the_section_keeps_the_names_before_the_damage() {
        let body = function_names(&[(0, b"first"), (1, b"second"), (2, b"third")]);
        // Cut the section in the middle of the third name, but keep the
        // subsection's declared size: it claims more bytes than remain.
        let mut sub = subsection(1, &body);
        sub.truncate(sub.len() - 3);
        let r = read(&sub);
        assert_eq!(names(&r), [(0, "first"), (1, "second")]);
        assert!(r.problems[0].contains("claims"), "{:?}", r.problems);
    }

    #[test]
    fn a_name_that_is_not_utf8_ends_the_reading() {
        let r = read(&subsection(1, &function_names(&[(0, b"ok"), (1, b"\xff\xfe"), (2, b"lost")])));
        assert_eq!(names(&r), [(0, "ok")]);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    }

    #[test]
    fn an_index_beyond_the_functions_is_skipped() {
        let r = read(&subsection(1, &function_names(&[(0, b"a"), (7, b"ghost"), (2, b"c")])));
        assert_eq!(names(&r), [(0, "a"), (2, "c")]);
        assert!(r.problems[0].contains("function index 7 is out of range (the module has 3 functions)"));
    }

    #[test]
    fn names_out_of_order_and_duplicates_are_kept_last_one_winning() {
        let r = read(&subsection(1, &function_names(&[(2, b"c"), (0, b"a"), (0, b"a2")])));
        assert_eq!(names(&r), [(0, "a2"), (2, "c")]);
        assert_eq!(r.problems.len(), 2, "{:?}", r.problems);
        assert!(r.problems[0].contains("out of order"));
        assert!(r.problems[1].contains("named twice"));
        assert!(r.summary().unwrap().ends_with("(and 1 more problems)"), "{:?}", r.summary());
    }

    #[test]
    fn well_formed_sections_are_not_problems() {
        // An empty name, a module name only, local and label names.
        let empty = read(&subsection(1, &function_names(&[(0, b""), (1, b"b")])));
        assert_eq!((names(&empty), empty.problems.len()), (vec![(0, ""), (1, "b")], 0));
        let module_only = read(&subsection(0, &[vec![3], b"mod".to_vec()].concat()));
        assert_eq!(module_only.table, table(Some("mod"), &[]));
        assert!(module_only.problems.is_empty());
        let locals = subsection(2, &[vec![1, 0, 1, 0, 1], b"x".to_vec()].concat());
        let labels = subsection(3, &[vec![1, 0, 1, 0, 1], b"l".to_vec()].concat());
        let all = read(&[subsection(1, &function_names(&[(1, b"f")])), locals, labels].concat());
        assert_eq!((names(&all), all.problems.len()), (vec![(1, "f")], 0), "{:?}", all.problems);
    }

    #[test]
    fn the_writer_refuses_what_its_32_bit_offsets_cannot_hold() {
        // Four names of 1 GiB each do not fit a 32-bit record area; the
        // check is on lengths, so the test needs no such memory.
        assert!(matches!(record_offsets([1 << 30; 4].into_iter()), Err(Error::TooLarge(_))));
        let offsets = record_offsets([3, 0, 5].into_iter()).unwrap();
        assert_eq!(offsets, [(0, 3), (11, 0), (19, 5)]);
        assert!(matches!(record_offsets([u32::MAX as usize + 1].into_iter()), Err(Error::TooLarge(_))));
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
