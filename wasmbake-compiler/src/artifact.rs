//! Reading a compiled artifact (an ELF file Wasmtime wrote): where its
//! memory-image data lies.

/// The byte range of an artifact's `.rodata.wasm` section: the data
/// Wasmtime (48) makes copy-on-write memory images of (see [`crate::Baked`]).
/// Empty or absent: `None`.
pub fn data_image<'data, R: object::ReadRef<'data>>(artifact: R) -> Option<std::ops::Range<u64>> {
    use object::{Object as _, ObjectSection as _};
    let file = object::File::parse(artifact).ok()?;
    let (offset, len) = file.section_by_name(".rodata.wasm")?.file_range()?;
    (len > 0).then_some(offset..offset + len)
}
