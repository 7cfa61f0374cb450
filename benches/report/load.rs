//! Load paths side by side: wasmbake in place, `Module::deserialize`,
//! `Module::deserialize_file`, `Module::new`; in place with names kept.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

use wasmbake::wasmtime::{Engine, Module};
use wasmbake::{Embedded, LoadKind, Names};

use crate::modules::{Baked, Subject};
use crate::stats::{Samples, interleaved};

/// `path`'s bytes in a private, read-only, file-backed mapping at a 64 KiB
/// boundary: what a baked artifact is in a freshly started binary (`.rodata`
/// is such a mapping of the executable). Never unmapped: the runtime treats
/// artifacts as `'static`.
pub fn map_static(path: &Path) -> &'static [u8] {
    const ALIGN: usize = 64 * 1024;
    let file = File::open(path).unwrap();
    let len = file.metadata().unwrap().len() as usize;
    assert!(len > 0, "{}: empty", path.display());
    // SAFETY: plain mmap calls; the reservation is replaced in place by the
    // file mapping (MAP_FIXED inside our own reservation), and the result is
    // never unmapped, so the `'static` slice stays valid.
    // Placed low in the address space, below the executable and the heap,
    // as an executable's own `.rodata` is near the start of
    // `/proc/self/maps` (the runtime reads that far when it releases data
    // pages): a mapping among the shared libraries would cost it more lines.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0x1000_0000);
    let hint =
        NEXT.fetch_add((len + 2 * ALIGN).next_multiple_of(ALIGN), std::sync::atomic::Ordering::Relaxed);
    unsafe {
        let reserve = libc::mmap(
            hint as *mut libc::c_void,
            len + ALIGN,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(reserve, libc::MAP_FAILED);
        let aligned = (reserve as usize).next_multiple_of(ALIGN);
        let mapped = libc::mmap(
            aligned as *mut libc::c_void,
            len,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_FIXED,
            file.as_raw_fd(),
            0,
        );
        assert_eq!(mapped as usize, aligned);
        std::slice::from_raw_parts(aligned as *const u8, len)
    }
}

/// Drops this process's page-table entries for `bytes` (a [`map_static`]
/// mapping, not executable at the time), so the next access faults the pages
/// in from the page cache again, as in a freshly started process.
pub fn forget_pages(bytes: &'static [u8]) {
    // SAFETY: a private read-only file mapping with no dirty pages:
    // MADV_DONTNEED only drops the mapping of clean pages.
    let rc = unsafe { libc::madvise(bytes.as_ptr() as *mut libc::c_void, bytes.len(), libc::MADV_DONTNEED) };
    assert_eq!(rc, 0);
}

/// An `Embedded` over a [`map_static`] mapping of a baked artifact.
pub fn embedded(name: &str, artifact: &'static [u8], names: Names<'static>) -> &'static Embedded {
    let source: &'static str = Box::leak(name.to_owned().into_boxed_str());
    // SAFETY: `artifact` is unmodified `precompile_module` output of the
    // compiler's engine, whose settings are `wasmbake::__private::wasm_config()`;
    // mapped at 64 KiB; `names` was validated by `Names::parse` or is empty.
    Box::leak(Box::new(unsafe { Embedded::from_mapped(source, artifact, names) }))
}

pub struct LoadRow {
    pub in_place: Samples,
    pub deserialize: Samples,
    pub deserialize_file: Samples,
    /// Only for modules small enough to compile in every round.
    pub module_new: Samples,
    pub in_place_kept: Samples,
    pub deserialize_file_kept: Samples,
}

/// First loads per process state: before each in-place load the artifact's
/// pages are dropped from our page tables; each load's module is dropped (and
/// evicted from the plugin's cache) outside the clock.
pub fn measure(
    subject: &Subject,
    baked: &Baked,
    ours: &Engine,
    plain: &Engine,
    compile_below: usize,
    rounds: (usize, usize),
    budget: Duration,
) -> LoadRow {
    let stripped = embedded(&subject.name, map_static(&baked.stripped), Names::EMPTY);
    let kept = embedded(&subject.name, map_static(&baked.kept), Names::EMPTY);
    for plugin in [stripped, kept] {
        let (module, kind) = plugin.load_with_kind(ours).unwrap();
        assert_eq!(kind, LoadKind::InPlace, "{}", subject.name);
        drop(module);
        plugin.evict(ours);
    }
    let copy = std::fs::read(&baked.stripped).unwrap();
    let compile = subject.wasm.len() < compile_below;

    let in_place = |plugin: &'static Embedded| {
        move |_| {
            forget_pages(plugin.artifact());
            let start = Instant::now();
            let module = plugin.load(ours).unwrap();
            let time = start.elapsed();
            plugin.evict(ours);
            drop(module);
            Some(time)
        }
    };
    let file = |path: &'static Path| {
        move |_| {
            let start = Instant::now();
            // SAFETY: an unmodified artifact for this configuration; the file
            // is not modified while mapped.
            let module = unsafe { Module::deserialize_file(plain, path) }.unwrap();
            let time = start.elapsed();
            drop(module);
            Some(time)
        }
    };
    let stripped_path: &'static Path = Box::leak(baked.stripped.clone().into_boxed_path());
    let kept_path: &'static Path = Box::leak(baked.kept.clone().into_boxed_path());
    let [in_place, deserialize, deserialize_file, module_new, in_place_kept, deserialize_file_kept] =
        interleaved(
            rounds.0,
            rounds.1,
            budget,
            [
                &mut in_place(stripped),
                &mut |_| {
                    let start = Instant::now();
                    // SAFETY: as above.
                    let module = unsafe { Module::deserialize(plain, &copy) }.unwrap();
                    let time = start.elapsed();
                    drop(module);
                    Some(time)
                },
                &mut file(stripped_path),
                &mut |round| {
                    // Compiling is slow: a few samples are enough.
                    (compile && round < 5).then(|| {
                        let start = Instant::now();
                        let module = Module::new(plain, &subject.wasm).unwrap();
                        let time = start.elapsed();
                        drop(module);
                        time
                    })
                },
                &mut in_place(kept),
                &mut file(kept_path),
            ],
        );
    LoadRow { in_place, deserialize, deserialize_file, module_new, in_place_kept, deserialize_file_kept }
}
