//! When a loaded plugin's initial linear-memory image is built (guide,
//! "First instantiation").
//!
//! Wasmtime gives each module a copy-on-write image of its memories' initial
//! data at the first instantiation. For a module loaded from a file it maps
//! the data straight from that file; for an in-place load
//! (`deserialize_raw`) it knows no file and writes the data into a memfd
//! (Wasmtime 48, `runtime/vm/cow.rs`). The copy itself cannot be avoided on
//! released Wasmtime (`docs/upstream/` has the change that would); the copy
//! also maps every data page of the binary into the process, which then
//! holds the data twice: in the memfd, and as mapped file pages. What this
//! module controls is when the image is built, and whether those pages are
//! released afterwards (`MADV_DONTNEED` on a read-only file mapping: the
//! pages stay in the page cache, and a later read maps them again).
//!
//! Measured (`cargo bench -p wasmbake-benches --bench report`, section 7; see
//! [`AUTO_AT_LOAD_MIN`]): building at load and releasing costs a fixed
//! 20–30 µs and saves the data's size in resident memory; populating the
//! pages in one `MADV_POPULATE_READ` before the copy did not make it faster.

/// When a plugin's initial linear-memory image (the copy-on-write source of
/// every instance's memory) is made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemoryImage {
    /// [`MemoryImage::AtLoad`] for plugins with at least 512 KiB
    /// of data, where keeping the data mapped twice would cost more
    /// resident memory than the release costs time; otherwise
    /// [`MemoryImage::AtFirstInstance`], the faster one. The default.
    #[default]
    Auto,
    /// While loading: the image is built, then the artifact's data pages are
    /// released from the page tables, so resident memory is what loading a
    /// `.cwasm` file costs, and the first instantiation costs what later
    /// ones do. For servers: everything is ready before the first request.
    AtLoad,
    /// At the first instantiation, as Wasmtime does by itself: nothing is
    /// copied for a plugin that is loaded but never instantiated, and
    /// nothing is released.
    AtFirstInstance,
}

/// Plugins with at least this much initial data (512 KiB) have their image
/// made while loading under [`MemoryImage::Auto`]: from there, building at
/// load costs about as much as building at the first instantiation (within
/// 3 % on splicer's 918 kB and starlingmonkey's 1.3 MB, 4 % on flite's
/// 17 MB) and saves the data's size in resident memory; below it, a fixed
/// 20–30 µs (reading `/proc/self/maps`, the release) outweighs the saving.
pub const AUTO_AT_LOAD_MIN: usize = 512 << 10;

/// Whether the image is to be built while loading: `len` bytes of data;
/// `release`: the process will go on (not `Command::exec`), so releasing
/// the pages afterwards is worth something.
fn at_load(policy: MemoryImage, len: usize, release: bool) -> bool {
    match policy {
        MemoryImage::AtLoad => len > 0,
        MemoryImage::Auto => release && len >= AUTO_AT_LOAD_MIN,
        MemoryImage::AtFirstInstance => false,
    }
}

/// Builds the images now (`init`: a module's or a component's
/// `initialize_copy_on_write_image`) if `policy` says so. `data` is the artifact's
/// data section (within `artifact`) as the compiler recorded it; `in_place`:
/// the module runs from `artifact` (else Wasmtime copied it, and the pages
/// are not ours to release); `release`: as for [`at_load`].
pub(crate) fn prepare(
    init: impl FnOnce() -> wasmtime::Result<()>,
    artifact: &'static [u8],
    data: Option<(usize, usize)>,
    policy: MemoryImage,
    in_place: bool,
    release: bool,
) -> wasmtime::Result<()> {
    let Some((offset, len)) = data else { return Ok(()) };
    if !at_load(policy, len, release) {
        return Ok(());
    }
    init()?;
    if in_place
        && release
        && let Some(pages) = artifact.get(offset..offset.saturating_add(len))
    {
        advise::release(pages);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_builds_at_load_only_for_large_data_in_a_process_that_goes_on() {
        assert!(at_load(MemoryImage::Auto, AUTO_AT_LOAD_MIN, true));
        assert!(!at_load(MemoryImage::Auto, AUTO_AT_LOAD_MIN - 1, true));
        assert!(!at_load(MemoryImage::Auto, AUTO_AT_LOAD_MIN, false), "Command::exec: the process ends");
        assert!(at_load(MemoryImage::AtLoad, 4096, false));
        assert!(!at_load(MemoryImage::AtLoad, 0, true));
        assert!(!at_load(MemoryImage::AtFirstInstance, usize::MAX, true));
    }
}

#[cfg(target_os = "linux")]
mod advise {
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
    /// from `/proc/self/maps`. Its lines are in address order, so reading
    /// stops at the mapping that holds `bytes` (the executable's own
    /// mappings come first in a typical address space): a few lines, not
    /// the whole file.
    fn read_only_file_mapping(bytes: &[u8]) -> bool {
        use std::io::BufRead as _;
        let range = bytes.as_ptr_range();
        let (start, end) = (range.start as usize, range.end as usize);
        let Ok(maps) = std::fs::File::open("/proc/self/maps") else { return false };
        // (A small buffer: the kernel formats lines until it is full.)
        let mut maps = std::io::BufReader::with_capacity(512, maps);
        let mut line = String::new();
        loop {
            line.clear();
            if maps.read_line(&mut line).map_or(true, |n| n == 0) {
                return false;
            }
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
            if from > start {
                return false;
            }
            if start < to {
                return end <= to && perms.as_bytes()[..2] == *b"r-" && perms.ends_with('p') && inode != "0";
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod advise {
    pub(super) fn release(_pages: &[u8]) {}
}
