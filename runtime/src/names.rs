//! Reader of wasmbake's static function-name table.
//!
//! The byte layout matches the encoding written by `wasmbake_compiler::names`
//! (`compiler/src/names.rs`, where the layout diagram lives). In short: a
//! 32-byte header, a sorted `(func_index, offset, len)` array, the
//! perfect-hash displacements, the slots (each a copy of an entry), then one
//! UTF-8 blob of names. All integers are little-endian `u32` (the hash key is
//! a `u64`).
//!
//! Lookups read straight from the static bytes: no parsing step, no
//! allocation. Every read is bounds-checked, so a corrupt table yields `None`,
//! never a panic or an out-of-bounds read.

/// First four bytes of every name table (format version 2: version 1 hashed
/// names with phf_shared's SipHash over an xxh3-64 digest).
pub const MAGIC: [u8; 4] = *b"WBN2";
/// Size of the fixed header in bytes.
pub const HEADER_LEN: usize = 32;
/// Size of one `(func_index, offset, len)` entry in bytes.
pub const ENTRY_LEN: usize = 12;
/// Size of one `(d1, d2)` displacement pair in bytes.
pub const DISP_LEN: usize = 8;
/// Size of one slot (a copy of an entry) in bytes.
pub const SLOT_LEN: usize = ENTRY_LEN;
/// `module_name_len` value that means "the module has no name".
pub const NO_MODULE_NAME: u32 = u32::MAX;

/// The perfect-hash inputs for a name: one xxh3-64 of the name, seeded with
/// the table's hash key; `g` and `f1` are its high and low halves and `f2` the
/// high half of a SplitMix64-style remix of it. Mangled names run to hundreds
/// of bytes; xxh3-64 hashes them several times faster than phf's own
/// SipHash-1-3-128 (`cargo bench -p wasmbake-tests --bench load -- names`,
/// same machine: `index_of` 66.7 → 53.8 ns on splicer's names, 34.4 → 18.9 ns
/// on short ones, against format 1's SipHash over an xxh3 digest; xxh3-128
/// was no faster than format 1 on splicer). 64 bits are plenty: two names
/// collide in all three words with probability about n²/2⁶⁵, and then
/// `phf_generator` simply tries the next key. The compiler builds the table
/// with this same function (`phf_generator::generate_hash_with_hash_fn`).
#[doc(hidden)]
#[inline]
pub fn name_hashes(name: &str, key: u64) -> NameHashes {
    let hash = xxhash_rust::xxh3::xxh3_64_with_seed(name.as_bytes(), key);
    let mixed = (hash ^ (hash >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    NameHashes { g: (hash >> 32) as u32, f1: hash as u32, f2: (mixed >> 32) as u32 }
}

/// The three hash words of a name (what `phf_shared::Hashes` holds; that type
/// is `#[non_exhaustive]`, so it cannot be built here).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameHashes {
    /// Selects the displacement bucket.
    pub g: u32,
    /// First displacement input.
    pub f1: u32,
    /// Second displacement input.
    pub f2: u32,
}

/// Function names of one baked module, in static memory.
///
/// Index → name is a binary search over a sorted array (O(1) when the names
/// cover `0..n` densely); name → index is a perfect hash. Neither allocates
/// nor needs initialisation.
#[derive(Clone, Copy)]
pub struct Names {
    bytes: &'static [u8],
}

impl Names {
    /// A table with no names (a module without a `name` section).
    pub const EMPTY: Names = Names { bytes: &[] };

    /// Wraps a table without validating it.
    ///
    /// # Safety
    ///
    /// `bytes` must have been written by `wasmbake_compiler::names::encode`:
    /// every name an entry points at is then valid UTF-8. (Bounds are checked
    /// on every read regardless.) Use [`Names::parse`] for bytes of unknown
    /// origin.
    #[doc(hidden)]
    pub const unsafe fn from_static_unchecked(bytes: &'static [u8]) -> Names {
        Names { bytes }
    }

    /// Validates a table fully (header, bounds, UTF-8 of every name, order
    /// of the entries) and wraps it. Returns `None` when anything is off.
    pub fn parse(bytes: &'static [u8]) -> Option<Names> {
        if bytes.is_empty() {
            return Some(Names::EMPTY);
        }
        let names = Names { bytes };
        let layout = names.layout()?;
        if layout.strings > bytes.len() {
            return None;
        }
        let mut previous = None;
        for i in 0..layout.entries {
            let (func, offset, len) = names.entry(&layout, i)?;
            if previous.is_some_and(|p| p >= func) {
                return None;
            }
            previous = Some(func);
            std::str::from_utf8(names.string(&layout, offset, len)?).ok()?;
        }
        for slot in 0..layout.slots {
            let (_, offset, len) = names.slot(&layout, slot)?;
            std::str::from_utf8(names.string(&layout, offset, len)?).ok()?;
        }
        if let Some((offset, len)) = names.module_name_range() {
            std::str::from_utf8(names.string(&layout, offset, len)?).ok()?;
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
    pub fn module_name(&self) -> Option<&'static str> {
        let layout = self.layout()?;
        let (offset, len) = self.module_name_range()?;
        self.str_at(&layout, offset, len)
    }

    /// The name of the function with this index (in the module's function
    /// index space, imports first).
    #[inline]
    pub fn name_of(&self, func_index: u32) -> Option<&'static str> {
        let layout = self.layout()?;
        let position = self.position_of(&layout, func_index)?;
        let (_, offset, len) = self.entry(&layout, position)?;
        self.str_at(&layout, offset, len)
    }

    /// The index of the function with this name. When several functions share
    /// a name, the lowest index wins.
    #[inline]
    pub fn index_of(&self, name: &str) -> Option<u32> {
        let layout = self.layout()?;
        if layout.slots == 0 || layout.disps == 0 {
            return None;
        }
        // Same computation as `phf_shared::get_index`, over displacements
        // stored as bytes rather than a `&[(u32, u32)]`.
        let hashes = name_hashes(name, self.hash_key()?);
        let bucket = (hashes.g % layout.disps as u32) as usize;
        let d1 = self.u32_at(layout.disps_at + bucket * DISP_LEN)?;
        let d2 = self.u32_at(layout.disps_at + bucket * DISP_LEN + 4)?;
        let slot = (phf_shared::displace(hashes.f1, hashes.f2, d1, d2) % layout.slots as u32) as usize;
        let (func, offset, len) = self.slot(&layout, slot)?;
        (self.string(&layout, offset, len)? == name.as_bytes()).then_some(func)
    }

    /// All `(function index, name)` pairs, in index order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &'static str)> + 'static {
        let names = *self;
        let layout = names.layout();
        (0..layout.as_ref().map_or(0, |l| l.entries)).filter_map(move |i| {
            let layout = layout.as_ref()?;
            let (func, offset, len) = names.entry(layout, i)?;
            Some((func, names.str_at(layout, offset, len)?))
        })
    }

    /// The raw table bytes (format documented in `compiler/src/names.rs`).
    pub fn as_bytes(&self) -> &'static [u8] {
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
    fn hash_key(&self) -> Option<u64> {
        let bytes = self.bytes.get(16..24)?;
        Some(u64::from_le_bytes(bytes.try_into().ok()?))
    }

    fn module_name_range(&self) -> Option<(u32, u32)> {
        let len = self.u32_at(28)?;
        (len != NO_MODULE_NAME).then_some((self.u32_at(24)?, len))
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
        let strings = slots_at.checked_add(slots.checked_mul(SLOT_LEN)?)?;
        Some(Layout { entries, slots, disps, entries_at, disps_at, slots_at, strings })
    }

    #[inline]
    fn entry(&self, layout: &Layout, position: usize) -> Option<(u32, u32, u32)> {
        self.record(layout.entries_at, layout.entries, position)
    }

    #[inline]
    fn slot(&self, layout: &Layout, slot: usize) -> Option<(u32, u32, u32)> {
        self.record(layout.slots_at, layout.slots, slot)
    }

    /// Record `i` of an array of `count` `(func_index, offset, len)` records
    /// starting at byte `at` (entries and slots share this shape).
    #[inline]
    fn record(&self, at: usize, count: usize, i: usize) -> Option<(u32, u32, u32)> {
        if i >= count {
            return None;
        }
        let at = at + i * ENTRY_LEN;
        Some((self.u32_at(at)?, self.u32_at(at + 4)?, self.u32_at(at + 8)?))
    }

    #[inline]
    fn string(&self, layout: &Layout, offset: u32, len: u32) -> Option<&'static [u8]> {
        let start = layout.strings.checked_add(offset as usize)?;
        self.bytes.get(start..start.checked_add(len as usize)?)
    }

    #[inline]
    fn str_at(&self, layout: &Layout, offset: u32, len: u32) -> Option<&'static str> {
        let bytes = self.string(layout, offset, len)?;
        // SAFETY: tables are either validated by `Names::parse` or, per the
        // contract of `from_static_unchecked`, written by the compiler from
        // strings wasmparser already checked to be UTF-8.
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    }
}

impl std::fmt::Debug for Names {
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
    strings: usize,
}
