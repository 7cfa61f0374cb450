//! The ELF headers of Wasmtime artifacts, as far as wasmbake reads or
//! rewrites them: where an artifact has its code, and the file header and
//! section-header table that make a `wasmbake exe` output describe one of
//! the artifacts it carries.
//!
//! Why an executable describes an artifact: Wasmtime maps a module's memory
//! images straight from its file only when it loads the module from a file
//! (`Module::deserialize_file`, Wasmtime 48's `vm/cow.rs`); loading in place
//! (`deserialize_raw`) copies every data segment into a memfd first, 17 MB
//! for flite. Loading from a file maps the whole file and parses it as an
//! ELF image from offset 0, and the kernel never reads section headers to
//! run a program, so an executable whose file header and section table are
//! the artifact's, rebased to where the artifact lies in the file, is both
//! a program and a `.cwasm` file:
//!
//! ```text
//!  file header (offset 0)   fields as the runner was linked, except
//!    e_flags                  | the artifact's EF_WASMTIME_* kind bits
//!    e_shoff                  the table below
//!    e_shnum, e_shstrndx      the artifact's
//!  program headers          the runner's, unchanged: what the kernel maps
//!  …                        the runner's segments, unchanged
//!  A (64 KiB-aligned)       the artifact, unchanged
//!  …
//!  S (8-aligned)            the artifact's section headers, in its order,
//!                           each sh_offset + A (SHT_NULL and SHT_NOBITS
//!                           entries as they are), SHF_ALLOC cleared
//! ```
//!
//! What readers of the executable see then: the program headers (`readelf
//! -l`, the kernel, the dynamic loader) are the runner's; the sections
//! (`readelf -S`, `objdump`, debuggers' symbol tables) are the artifact's.
//! Every section lies inside the file, as the ELF format requires.

use object::LittleEndian as LE;
use object::elf::{FileHeader64, SHF_ALLOC, SHT_NOBITS, SHT_NULL, SectionHeader64};
use object::read::elf::{FileHeader as _, SectionHeader as _};

/// Wasmtime's `e_flags` bits saying "a module" and "a component"
/// (`wasmtime_environ::obj::EF_WASMTIME_MODULE` and `…_COMPONENT`).
const WASMTIME_KINDS: u32 = 0b11;

/// The file range of the artifact's `.text` (its code, which Wasmtime
/// page-aligns), within the artifact: offset and length.
pub fn text_range(artifact: &[u8]) -> Option<(u64, u64)> {
    let header = FileHeader64::<LE>::parse(artifact).ok()?;
    let sections = header.sections(LE, artifact).ok()?;
    let (_, text) = sections.section_by_name(LE, b".text")?;
    text.file_range(LE)
}

/// The file header and section table that make an executable (`runner`,
/// its first bytes) describe `artifact`, placed at file offset `artifact_at`,
/// with the table written at `table_at` (a multiple of 8): the new file
/// header (`size_of::<FileHeader64>()` bytes, to replace the runner's) and
/// the table. `None` when the runner cannot carry it: not a little-endian
/// 64-bit ELF of the artifact's machine, or flags of its own where
/// Wasmtime's kind bits go.
pub fn describe(
    runner: &[u8],
    artifact: &[u8],
    artifact_at: u64,
    table_at: u64,
) -> Option<(Vec<u8>, Vec<u8>)> {
    let ours = FileHeader64::<LE>::parse(runner).ok()?;
    let theirs = FileHeader64::<LE>::parse(artifact).ok()?;
    if ours.e_machine(LE) != theirs.e_machine(LE)
        || ours.e_flags(LE) & WASMTIME_KINDS != 0
        || !table_at.is_multiple_of(8)
    {
        return None;
    }
    let mut table: Vec<SectionHeader64<LE>> = theirs.section_headers(LE, artifact).ok()?.to_vec();
    // (Extended numbering keeps counts in section 0; Wasmtime's artifacts
    // have a dozen sections and never use it.)
    if table.is_empty() || theirs.e_shnum(LE) == 0 || usize::from(theirs.e_shstrndx(LE)) >= table.len() {
        return None;
    }
    for section in &mut table {
        if !matches!(section.sh_type(LE), SHT_NULL | SHT_NOBITS) {
            let offset = section.sh_offset(LE).checked_add(artifact_at)?;
            section.sh_offset.set(LE, offset);
        }
        // Not part of the program's memory as the kernel maps it (no
        // segment covers them): debuggers would warn about loadable sections
        // outside every segment. Wasmtime reads no section's SHF_ALLOC.
        section.sh_flags.set(LE, section.sh_flags(LE) & !u64::from(SHF_ALLOC));
    }
    let mut header = *ours;
    header.e_flags.set(LE, ours.e_flags(LE) | (theirs.e_flags(LE) & WASMTIME_KINDS));
    header.e_shoff.set(LE, table_at);
    header.e_shentsize.set(LE, size_of::<SectionHeader64<LE>>() as u16);
    header.e_shnum.set(LE, theirs.e_shnum(LE));
    header.e_shstrndx.set(LE, theirs.e_shstrndx(LE));
    Some((object::bytes_of(&header).to_vec(), object::bytes_of_slice(&table).to_vec()))
}
