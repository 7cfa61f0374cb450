//! Memory images (`wasmbake::MemoryImage`): the data range recorded at bake
//! time, the image built while loading, the artifact's data pages released
//! from the page tables only where that loses nothing, and in-place loading
//! and W^X kept throughout.

use wasmbake::__private::AUTO_AT_LOAD_MIN;
use wasmbake::wasmtime::{Engine, Instance, Store};
use wasmbake::{Embedded, LoadKind, MemoryImage, Names};

mod bigdata {
    wasmbake::include_plugins!("bigdata.rs");
}
use bigdata::BIGDATA;

/// What `tests/build.rs` put at byte 4096 + i of the memory.
fn pattern(i: usize) -> u8 {
    (i * 7 % 251) as u8
}

const DATA: usize = 192 * 1024;

/// The tests read `BIGDATA`'s pages and check which are mapped: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn check_memory(engine: &Engine, module: &wasmbake::wasmtime::Module) {
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, module, &[]).unwrap();
    let byte = instance.get_typed_func::<i32, i32>(&mut store, "byte").unwrap();
    for i in (0..DATA).step_by(4093).chain([DATA - 1]) {
        assert_eq!(byte.call(&mut store, i as i32).unwrap(), i32::from(pattern(i)), "byte {i}");
    }
}

/// Whether the page holding `addr` is mapped in this process's page tables
/// (`/proc/self/pagemap`, bit 63).
#[cfg(target_os = "linux")]
fn present(addr: *const u8) -> bool {
    use std::os::unix::fs::FileExt;
    let page = addr as u64 / 4096;
    let mut entry = [0; 8];
    std::fs::File::open("/proc/self/pagemap").unwrap().read_exact_at(&mut entry, page * 8).unwrap();
    u64::from_le_bytes(entry) >> 63 == 1
}

#[cfg(target_os = "linux")]
fn assert_no_rwx() {
    let wx = wasmbake_test_support::process::writable_and_executable_mappings();
    assert!(wx.is_empty(), "writable and executable: {wx:?}");
}

fn data_pages(plugin: &Embedded) -> &'static [u8] {
    let (artifact, len) = (plugin.artifact(), plugin.data_image_len().unwrap());
    // The data section ends where the metadata that follows it begins; it is
    // the page-aligned range the compiler recorded, within the artifact.
    let start = find_data_start(artifact, len);
    &artifact[start..start + len]
}

/// The data section's offset, read from the artifact's ELF section headers
/// by the compiler's own reader.
fn find_data_start(artifact: &[u8], len: usize) -> usize {
    let range = wasmbake_compiler::data_image(artifact).expect("a .rodata.wasm section");
    assert_eq!((range.end - range.start) as usize, len, "the recorded length is the section's");
    range.start as usize
}

#[test]
fn the_data_range_is_recorded_at_bake_time() {
    let _serial = serial();
    let len = BIGDATA.data_image_len().expect("the compiler recorded the data section");
    assert!(len >= DATA && len.is_multiple_of(4096), "{len}");
    assert_eq!(data_pages(&BIGDATA).len(), len);
}

#[test]
fn image_at_load_runs_in_place_releases_the_pages_and_keeps_the_bytes() {
    let _serial = serial();
    let engine = wasmbake::engine().unwrap();
    let before = data_pages(&BIGDATA).to_vec();
    let loaded = BIGDATA.load_with(&engine, MemoryImage::AtLoad).unwrap();
    assert_eq!(loaded.kind(), LoadKind::InPlace);
    #[cfg(target_os = "linux")]
    {
        let pages = data_pages(&BIGDATA);
        let resident = pages.chunks(4096).filter(|p| present(p.as_ptr())).count();
        assert_eq!(resident, 0, "the data pages were released after the image was built");
        assert_no_rwx();
    }
    check_memory(&engine, loaded.module());
    // The first instantiation needed no data page of the artifact.
    #[cfg(target_os = "linux")]
    assert_eq!(data_pages(&BIGDATA).chunks(4096).filter(|p| present(p.as_ptr())).count(), 0);
    assert!(data_pages(&BIGDATA) == before.as_slice(), "released pages read back the same bytes");
    drop(loaded);
    BIGDATA.evict(&engine);

    // Wasmtime's own timing, and the default below AUTO_AT_LOAD_MIN: the
    // first instantiation builds the image.
    for image in [MemoryImage::AtFirstInstance, MemoryImage::Auto] {
        assert!(BIGDATA.data_image_len().unwrap() < AUTO_AT_LOAD_MIN);
        let engine = wasmbake::engine().unwrap();
        #[cfg(target_os = "linux")]
        forget(data_pages(&BIGDATA));
        let loaded = BIGDATA.load_with(&engine, image).unwrap();
        assert_eq!(loaded.kind(), LoadKind::InPlace);
        #[cfg(target_os = "linux")]
        assert!(
            !data_pages(&BIGDATA).chunks(4096).any(|p| present(p.as_ptr())),
            "{image:?}: nothing copied yet"
        );
        check_memory(&engine, loaded.module());
        #[cfg(target_os = "linux")]
        {
            assert!(
                data_pages(&BIGDATA).chunks(4096).all(|p| present(p.as_ptr())),
                "{image:?}: the copy read every page"
            );
            assert_no_rwx();
        }
        drop(loaded);
        BIGDATA.evict(&engine);
    }
}

/// Drops `pages` (of the binary's read-only data) from the page tables.
#[cfg(target_os = "linux")]
fn forget(pages: &[u8]) {
    // SAFETY: clean pages of the executable's read-only file mapping.
    let rc = unsafe { libc::madvise(pages.as_ptr() as *mut libc::c_void, pages.len(), libc::MADV_DONTNEED) };
    assert_eq!(rc, 0);
}

/// An artifact in anonymous memory (here the heap; a packed executable's
/// segments are the same): `MADV_DONTNEED` would zero it, so its pages are
/// not released, and its bytes survive the eager image.
#[test]
fn an_artifact_in_anonymous_memory_is_never_released() {
    let _serial = serial();
    let artifact = BIGDATA.artifact();
    let copy = wasmbake_test_support::leak_aligned(artifact);
    let len = BIGDATA.data_image_len().unwrap();
    let start = find_data_start(copy, len);
    // SAFETY: an unmodified copy of a baked artifact, 64 KiB-aligned, never freed.
    let plugin: &'static Embedded = Box::leak(Box::new(
        unsafe { Embedded::from_mapped("heap copy", copy, Names::EMPTY) }.with_data_image(start, len),
    ));
    let engine = wasmbake::engine().unwrap();
    let loaded = plugin.load_with(&engine, MemoryImage::AtLoad).unwrap();
    let (module, kind) = (loaded.module(), loaded.kind());
    assert_eq!(kind, LoadKind::InPlace);
    assert!(copy == artifact, "the heap copy kept every byte");
    check_memory(&engine, module);
}
