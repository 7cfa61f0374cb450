//! Reader of wasmbake's static function-name table.
//!
//! The byte layout matches the encoding written by `wasmbake_compiler::names`
//! (`compiler/src/names.rs`, where the layout diagram lives). In short: a
//! 48-byte header, a sorted `(func_index, record, len)` array, the perfect-hash
//! displacements, the slots (`(tag, record)`), then the records, each
//! `(func_index, len, UTF-8 bytes)`. All integers are little-endian.
//!
//! Lookups read straight from the static bytes: no parsing step, no
//! allocation. Every read is bounds-checked, so a corrupt table yields `None`,
//! never a panic or an out-of-bounds read.

/// First four bytes of every name table (the format's version is the last:
/// a table of another format is not parsed).
pub const MAGIC: [u8; 4] = *b"WBN3";
/// Size of the fixed header in bytes.
pub const HEADER_LEN: usize = 48;
/// Size of one `(func_index, record, len)` entry in bytes.
pub const ENTRY_LEN: usize = 12;
/// Size of one `(d1, d2)` displacement pair in bytes.
pub const DISP_LEN: usize = 8;
/// Size of one `(tag, record)` slot in bytes.
pub const SLOT_LEN: usize = 8;
/// Size of a record's `(func_index, len)` prefix in bytes.
pub const RECORD_PREFIX_LEN: usize = 8;
/// Module-name record offset that means "the module has no name"; also the
/// `func_index` of the module name's own record.
pub const NO_MODULE_NAME: u32 = u32::MAX;

/// The hash inputs for a name: one xxh3-64 of the name, seeded with the
/// table's hash key; `g` and `f1` are its high and low halves, `f2` the high
/// half of a SplitMix64-style remix of it, and `tag` the high half of a
/// second remix. `g`, `f1` and `f2` are phf's three words; `tag` is stored in
/// the name's slot so that most misses are rejected without reading a name.
/// Mangled names run to hundreds of bytes; xxh3-64 hashes them several times
/// faster than phf's own SipHash-1-3-128 (measured by `cargo bench -p
/// wasmbake-benches --bench load -- names`). 64 bits
/// are plenty: two names collide in all three words with probability about
/// n²/2⁶⁵, and then `phf_generator` simply tries the next key. The compiler
/// builds the table with this same function
/// (`phf_generator::generate_hash_with_hash_fn`).
#[doc(hidden)]
#[inline]
pub fn name_hashes(name: &str, key: u64) -> NameHashes {
    let hash = xxhash_rust::xxh3::xxh3_64_with_seed(name.as_bytes(), key);
    let mixed = (hash ^ (hash >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let tag = (hash ^ (hash >> 32)).wrapping_mul(0x94d0_49bb_1331_11eb);
    NameHashes { g: (hash >> 32) as u32, f1: hash as u32, f2: (mixed >> 32) as u32, tag: (tag >> 32) as u32 }
}

/// The hash words of a name (phf's three, which `phf_shared::Hashes` holds
/// but cannot be built outside phf_shared, plus the slot tag).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameHashes {
    /// Selects the displacement bucket.
    pub g: u32,
    /// First displacement input.
    pub f1: u32,
    /// Second displacement input.
    pub f2: u32,
    /// Stored in the name's slot; a query whose tag differs is a miss.
    pub tag: u32,
}

/// The constant that makes [`fastmod`] compute `a % d`: ⌊(2⁶⁴ − 1) / d⌋ + 1
/// (wrapping, so 0 for `d` = 1; 0 for `d` = 0, where no lookup happens).
/// The compiler stores it in the header for the bucket and slot counts, so a
/// lookup replaces its two divisions by multiplications.
#[doc(hidden)]
pub const fn fastmod_constant(d: u32) -> u64 {
    if d == 0 { 0 } else { (u64::MAX / d as u64).wrapping_add(1) }
}

/// `a % d` by two multiplications, given `m = fastmod_constant(d)`: exact for
/// every 32-bit `a` and `d` (D. Lemire, O. Kaser, N. Kurz, "Faster remainder
/// by direct computation", 2019). The result is below `d` whatever `m` is, so
/// a corrupt constant yields a wrong slot, never an out-of-bounds one.
#[doc(hidden)]
#[inline]
pub fn fastmod(a: u32, m: u64, d: u32) -> u32 {
    ((u128::from(m.wrapping_mul(u64::from(a))) * u128::from(d)) >> 64) as u32
}

/// Function names of one baked module: a table in memory that lives for
/// `'a` (`'static` for baked plugins, whose tables are in the binary's
/// read-only data).
///
/// Index → name is a binary search over a sorted array (O(1) when the names
/// cover `0..n` densely); name → index is a perfect hash. Neither allocates
/// nor needs initialisation.
#[derive(Clone, Copy)]
pub struct Names<'a> {
    bytes: &'a [u8],
}

impl Names<'static> {
    /// A table with no names (a module without a `name` section).
    pub const EMPTY: Names<'static> = Names { bytes: &[] };

    /// Wraps a table without validating it.
    ///
    /// # Safety
    ///
    /// `bytes` must have been written by `wasmbake_compiler::names::encode`:
    /// every name a record holds is then valid UTF-8. (Bounds are checked on
    /// every read regardless.) Use [`Names::parse`] for bytes of unknown
    /// origin.
    #[doc(hidden)]
    pub const unsafe fn from_static_unchecked(bytes: &'static [u8]) -> Names<'static> {
        Names { bytes }
    }
}

impl<'a> Names<'a> {
    /// [`Names::from_static_unchecked`] for a table of any lifetime (the
    /// compiler's tests of truncated and altered tables).
    ///
    /// # Safety
    ///
    /// As [`Names::from_static_unchecked`].
    #[doc(hidden)]
    pub const unsafe fn from_bytes_unchecked(bytes: &'a [u8]) -> Names<'a> {
        Names { bytes }
    }

    /// Validates a table fully (header, reduction constants, bounds, UTF-8 of
    /// every name, order of the entries, each record's index, each slot's
    /// tag) and wraps it. Returns `None` when anything is off.
    pub fn parse(bytes: &'a [u8]) -> Option<Names<'a>> {
        if bytes.is_empty() {
            return Some(Names { bytes });
        }
        let names = Names { bytes };
        let layout = names.layout()?;
        let key = names.u64_at(16)?;
        if names.u64_at(24)? != fastmod_constant(layout.disps as u32)
            || names.u64_at(32)? != fastmod_constant(layout.slots as u32)
            || names.u32_at(44)? != 0
            || layout.records > bytes.len()
        {
            return None;
        }
        let utf8 = |record: u32| -> Option<(u32, &'a str)> {
            let (func, name) = names.record(&layout, record)?;
            Some((func, std::str::from_utf8(name).ok()?))
        };
        let mut previous = None;
        for i in 0..layout.entries {
            let (func, record, len) = names.entry(&layout, i)?;
            let (record_func, name) = utf8(record)?;
            if previous.is_some_and(|p| p >= func) || record_func != func || name.len() != len as usize {
                return None;
            }
            previous = Some(func);
        }
        for slot in 0..layout.slots {
            let (tag, record) = names.pair(layout.slots_at, layout.slots, slot)?;
            if name_hashes(utf8(record)?.1, key).tag != tag {
                return None;
            }
        }
        // Every name resolves through the perfect hash to the lowest index
        // that has it: some entry with the same name at or below each one
        // (for the lowest, that is itself). A table whose hash misses a name
        // it lists is rejected (found by fuzzing: one entry, no slots).
        for i in 0..layout.entries {
            let (func, record, _) = names.entry(&layout, i)?;
            let name = utf8(record)?.1;
            let found = names.index_of(name)?;
            if found > func || names.name_of(found) != Some(name) {
                return None;
            }
        }
        if let Some(record) = names.module_name_record() {
            utf8(record)?;
        }
        Some(names)
    }

    /// Number of named functions (imported functions included).
    pub fn len(&self) -> usize {
        self.layout().map_or(0, |l| l.entries)
    }

    /// Whether the table holds no function names.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The module's own name from the `name` section, if it had one.
    pub fn module_name(&self) -> Option<&'a str> {
        let layout = self.layout()?;
        let (_, name) = self.record(&layout, self.module_name_record()?)?;
        Some(trusted_str(name))
    }

    /// The name of the function with this index (in the module's function
    /// index space, imports first).
    #[inline]
    pub fn name_of(&self, func_index: u32) -> Option<&'a str> {
        let layout = self.layout()?;
        let position = self.position_of(&layout, func_index)?;
        let (_, record, len) = self.entry(&layout, position)?;
        // The entry holds the length, so the record is not read here.
        self.name_at(&layout, record, len)
    }

    /// The index of the function with this name. When several functions share
    /// a name, the lowest index wins.
    #[inline]
    pub fn index_of(&self, name: &str) -> Option<u32> {
        let layout = self.layout()?;
        if layout.slots == 0 || layout.disps == 0 {
            return None;
        }
        // `phf_shared::get_index` over displacements stored as bytes, with
        // its two `%` done by `fastmod` (same results), then the slot's tag
        // before the name itself.
        let hashes = name_hashes(name, self.u64_at(16)?);
        let bucket = fastmod(hashes.g, self.u64_at(24)?, layout.disps as u32) as usize;
        let (d1, d2) = self.pair(layout.disps_at, layout.disps, bucket)?;
        let slot = phf_shared::displace(hashes.f1, hashes.f2, d1, d2);
        let slot = fastmod(slot, self.u64_at(32)?, layout.slots as u32) as usize;
        let (tag, record) = self.pair(layout.slots_at, layout.slots, slot)?;
        if tag != hashes.tag {
            return None;
        }
        let (func, stored) = self.record(&layout, record)?;
        (stored == name.as_bytes()).then_some(func)
    }

    /// All `(function index, name)` pairs, in index order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &'a str)> + 'a {
        let names = *self;
        let layout = names.layout();
        (0..layout.as_ref().map_or(0, |l| l.entries)).filter_map(move |i| {
            let layout = layout.as_ref()?;
            let (func, record, len) = names.entry(layout, i)?;
            Some((func, names.name_at(layout, record, len)?))
        })
    }

    /// The raw table bytes (format documented in `compiler/src/names.rs`).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    fn position_of(&self, layout: &Layout, func_index: u32) -> Option<usize> {
        // Dense tables (names for 0..n) resolve without searching.
        let direct = func_index as usize;
        if direct < layout.entries && self.u32_at(layout.entries_at + direct * ENTRY_LEN)? == func_index {
            return Some(direct);
        }
        let (mut lo, mut hi) = (0, layout.entries);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let found = self.u32_at(layout.entries_at + mid * ENTRY_LEN)?;
            match found.cmp(&func_index) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    #[inline]
    fn u32_at(&self, at: usize) -> Option<u32> {
        let bytes = self.bytes.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes(bytes.try_into().ok()?))
    }

    #[inline]
    fn u64_at(&self, at: usize) -> Option<u64> {
        let bytes = self.bytes.get(at..at.checked_add(8)?)?;
        Some(u64::from_le_bytes(bytes.try_into().ok()?))
    }

    fn module_name_record(&self) -> Option<u32> {
        self.u32_at(40).filter(|&record| record != NO_MODULE_NAME)
    }

    #[inline]
    fn layout(&self) -> Option<Layout> {
        if self.bytes.get(..4)? != MAGIC {
            return None;
        }
        let entries = self.u32_at(4)? as usize;
        let slots = self.u32_at(8)? as usize;
        let disps = self.u32_at(12)? as usize;
        let entries_at = HEADER_LEN;
        let disps_at = entries_at.checked_add(entries.checked_mul(ENTRY_LEN)?)?;
        let slots_at = disps_at.checked_add(disps.checked_mul(DISP_LEN)?)?;
        let records = slots_at.checked_add(slots.checked_mul(SLOT_LEN)?)?;
        Some(Layout { entries, slots, disps, entries_at, disps_at, slots_at, records })
    }

    /// Entry `i`: `(func_index, record, len)`.
    #[inline]
    fn entry(&self, layout: &Layout, i: usize) -> Option<(u32, u32, u32)> {
        if i >= layout.entries {
            return None;
        }
        let at = layout.entries_at + i * ENTRY_LEN;
        Some((self.u32_at(at)?, self.u32_at(at + 4)?, self.u32_at(at + 8)?))
    }

    /// Element `i` of an array of `count` pairs of `u32` starting at byte
    /// `at` (displacements and slots have this shape).
    #[inline]
    fn pair(&self, at: usize, count: usize, i: usize) -> Option<(u32, u32)> {
        if i >= count {
            return None;
        }
        let at = at + i * 8;
        Some((self.u32_at(at)?, self.u32_at(at + 4)?))
    }

    /// The record at byte `offset` of the records: `(func_index, name bytes)`.
    #[inline]
    fn record(&self, layout: &Layout, offset: u32) -> Option<(u32, &'a [u8])> {
        let at = layout.records.checked_add(offset as usize)?;
        Some((self.u32_at(at)?, self.name_bytes(layout, offset, self.u32_at(at + 4)?)?))
    }

    /// The `len` name bytes of the record at byte `offset` of the records,
    /// without reading the record's prefix.
    #[inline]
    fn name_bytes(&self, layout: &Layout, offset: u32, len: u32) -> Option<&'a [u8]> {
        let start = layout.records.checked_add(offset as usize)?.checked_add(RECORD_PREFIX_LEN)?;
        self.bytes.get(start..start.checked_add(len as usize)?)
    }

    /// [`Names::name_bytes`] as a `str`.
    #[inline]
    fn name_at(&self, layout: &Layout, offset: u32, len: u32) -> Option<&'a str> {
        self.name_bytes(layout, offset, len).map(trusted_str)
    }
}

/// A name read from a table.
#[inline]
fn trusted_str(bytes: &[u8]) -> &str {
    // SAFETY: tables are either validated by `Names::parse` or, per the
    // contract of `from_static_unchecked`, written by the compiler from
    // strings wasmparser already checked to be UTF-8.
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

impl std::fmt::Debug for Names<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Names").field("module_name", &self.module_name()).field("len", &self.len()).finish()
    }
}

/// Offsets of the table's parts, derived from the header on each lookup (a
/// handful of loads: cheaper than any initialisation step).
struct Layout {
    entries: usize,
    slots: usize,
    disps: usize,
    entries_at: usize,
    disps_at: usize,
    slots_at: usize,
    records: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fastmod_is_the_remainder() {
        // Edge divisors and dividends, then a pseudo-random sweep.
        let edges = [0, 1, 2, 3, 5, 7, 1 << 16, (1 << 31) - 1, 1 << 31, u32::MAX - 1, u32::MAX];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u32
        };
        let randoms: Vec<u32> = (0..2000).map(|_| next()).collect();
        let small: Vec<u32> = (0..2000).map(|_| next() % 300_000).collect();
        for &d in edges.iter().chain(&randoms).chain(&small).filter(|&&d| d != 0) {
            let m = fastmod_constant(d);
            for &a in edges.iter().chain(&randoms[..200]) {
                assert_eq!(fastmod(a, m, d), a % d, "{a} % {d}");
            }
        }
    }

    #[test]
    fn fastmod_stays_below_the_divisor_with_any_constant() {
        for (a, m, d) in
            [(u32::MAX, u64::MAX, 1), (u32::MAX, u64::MAX, 7), (12345, 0, 3), (1, 1 << 63, u32::MAX)]
        {
            assert!(fastmod(a, m, d) < d);
        }
    }
}
