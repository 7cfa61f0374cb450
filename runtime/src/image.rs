//! Building a loaded plugin's initial linear-memory image where it is
//! cheapest (README, "First instantiation").
//!
//! Wasmtime gives each module a copy-on-write image of its memories' initial
//! data at the first instantiation. For a module loaded from a file it maps
//! the data straight from that file; for an in-place load
//! (`deserialize_raw`) it knows no file and writes the data into a memfd
//! (Wasmtime 48, `runtime/vm/cow.rs`). The copy itself cannot be avoided on
//! released Wasmtime (`docs/upstream/` has the change that would); what this
//! module controls is how it happens:
//!
//! * the artifact's data section (recorded at bake time) is populated in the
//!   page tables in one `madvise(MADV_POPULATE_READ)` instead of page by page
//!   as the copy faults;
//! * the image is built while loading ([`MemoryImage::AtLoad`]), and the data
//!   pages of the binary are then dropped from the page tables
//!   (`MADV_DONTNEED` on a read-only file mapping: the pages stay in the page
//!   cache, a later read maps them again), so the process does not keep the
//!   data twice, once in the memfd and once as mapped file pages.

use wasmtime::Module;

/// When a plugin's initial linear-memory image (the copy-on-write source of
/// every instance's memory) is made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemoryImage {
    /// While loading, for plugins with at least [`EAGER_MIN`] bytes of data:
    /// the artifact's data pages are populated in one call, the image is
    /// built, and the pages are released from the process's page tables
    /// (they are in the image now). The first instantiation then costs what
    /// later ones do, and the resident memory is what loading a `.cwasm`
    /// file costs. The default.
    #[default]
    AtLoad,
    /// At the first instantiation, as Wasmtime does by itself: nothing is
    /// copied for a plugin that is loaded but never instantiated. For hosts
    /// that load many plugins and use few.
    AtFirstInstance,
}

/// Plugins with less initial data than this (64 KiB) are left to Wasmtime:
/// their image costs a few microseconds either way.
pub const EAGER_MIN: usize = 64 << 10;

/// Builds `module`'s image now, if `policy` says so and the plugin has
/// enough data. `data` is the artifact's data section (within `artifact`)
/// as the compiler recorded it; `in_place`: the module runs from
/// `artifact` (else Wasmtime copied it, and the pages are not ours to
/// advise); `release`: drop the data pages from the page tables afterwards.
pub(crate) fn prepare(
    module: &Module,
    artifact: &'static [u8],
    data: Option<(usize, usize)>,
    policy: MemoryImage,
    in_place: bool,
    release: bool,
) -> wasmtime::Result<()> {
    let Some((offset, len)) = data else { return Ok(()) };
    if policy != MemoryImage::AtLoad || len < EAGER_MIN {
        return Ok(());
    }
    let Some(pages) = artifact.get(offset..offset.saturating_add(len)) else { return Ok(()) };
    if in_place {
        advise::populate(pages);
    }
    module.initialize_copy_on_write_image()?;
    if in_place && release {
        advise::release(pages);
    }
    Ok(())
}

#[cfg(target_os = "linux")]
mod advise {
    /// Maps `pages` in one call (`MADV_POPULATE_READ`, Linux 5.14; older
    /// kernels get the `MADV_WILLNEED` read-ahead hint). Best effort: the
    /// copy that follows faults in whatever is missing.
    pub(super) fn populate(pages: &[u8]) {
        let (ptr, len) = (pages.as_ptr() as *mut libc::c_void, pages.len());
        // SAFETY: advice on memory we can read; neither changes its contents.
        if unsafe { libc::madvise(ptr, len, libc::MADV_POPULATE_READ) } != 0 {
            // SAFETY: as above.
            unsafe { libc::madvise(ptr, len, libc::MADV_WILLNEED) };
        }
    }

    /// Drops `pages` from the page tables, only when they lie in one
    /// read-only private file mapping (as `.rodata` of the executable does):
    /// then `MADV_DONTNEED` frees nothing but the mappings, and a later read
    /// maps the same bytes from the page cache again. On any other memory
    /// (an artifact copied to the heap, a packed executable whose segments
    /// are anonymous) it would discard the bytes: there it is not done.
    pub(super) fn release(pages: &[u8]) {
        if read_only_file_mapping(pages) {
            // SAFETY: clean pages of a private read-only file mapping
            // (checked above): only their page-table entries go.
            unsafe { libc::madvise(pages.as_ptr() as *mut libc::c_void, pages.len(), libc::MADV_DONTNEED) };
        }
    }

    /// Whether `bytes` lie within one private, read-only mapping of a file,
    /// from `/proc/self/maps` (read once per plugin load that releases
    /// pages, next to a copy of at least 64 KiB: not on a hot path).
    fn read_only_file_mapping(bytes: &[u8]) -> bool {
        let range = bytes.as_ptr_range();
        let (start, end) = (range.start as usize, range.end as usize);
        let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else { return false };
        maps.lines().any(|line| {
            let mut fields = line.split_whitespace();
            let (Some(span), Some(perms), Some(_offset), Some(_dev), Some(inode)) =
                (fields.next(), fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return false;
            };
            let Some((from, to)) = span.split_once('-') else { return false };
            let (Ok(from), Ok(to)) = (usize::from_str_radix(from, 16), usize::from_str_radix(to, 16)) else {
                return false;
            };
            from <= start
                && end <= to
                && perms.as_bytes()[..2] == *b"r-"
                && perms.ends_with('p')
                && inode != "0"
        })
    }
}

#[cfg(not(target_os = "linux"))]
mod advise {
    pub(super) fn populate(_pages: &[u8]) {}
    pub(super) fn release(_pages: &[u8]) {}
}
