//! What wasmbake's tests, benches and examples share (not published): where
//! the corpus is ([`corpus`]), this process's mappings and status
//! ([`process`]), an allocation counter, deterministic shuffles and names,
//! the hardened-host set-up ([`hardening`]), and, with the `neighbours`
//! feature, a load of benign and hostile plugin calls (`neighbours`); with
//! `quickjs`, a JavaScript plugin for pre-initialisation (`quickjs`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write as _;

/// A global allocator that forwards to the system allocator and counts
/// allocations (and reallocations) per thread, so concurrent tests do not
/// disturb each other's counts. Install with `#[global_allocator]`.
pub struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator, counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations this thread made so far (counted only where [`Counting`] is
/// the global allocator).
pub fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// A fixed pseudo-random permutation (splitmix64 from `seed`), so runs are
/// repeatable and lookups do not walk a table in order.
pub fn shuffled<T: Clone>(items: &[T], seed: u64) -> Vec<T> {
    let mut state = seed;
    let mut items = items.to_vec();
    for i in (1..items.len()).rev() {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        items.swap(i, ((z ^ (z >> 31)) % (i as u64 + 1)) as usize);
    }
    items
}

/// A long legacy-mangled Rust path for function `i` (about 130 bytes, like
/// `splicer.wasm`'s average of 137): the synthetic names of the benchmarks.
/// Deterministic, and distinct for distinct `i`.
pub fn mangled_name(i: u32) -> String {
    let mut h = u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h = (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let segments = [
        "synthetic_plugin_crate".to_owned(),
        format!("module_{}", i % 97),
        format!("submodule_number_{}", i % 13),
        format!("SomeGenericTypeName{}", i % 31),
        format!("impl_trait_for_type_{}", i % 7),
        format!("method_with_a_long_name_{i}"),
    ];
    let mut out = String::from("_ZN");
    for s in &segments {
        let _ = write!(out, "{}{s}", s.len());
    }
    let _ = write!(out, "17h{h:016x}E");
    out
}

pub mod corpus;
#[cfg(target_os = "linux")]
pub mod hardening;
#[cfg(feature = "neighbours")]
pub mod neighbours;
#[cfg(target_os = "linux")]
pub mod process;
#[cfg(feature = "quickjs")]
pub mod quickjs;

/// A copy of `bytes` in 64 KiB-aligned memory that is never freed, as a
/// baked artifact lies in a binary: what `Embedded::from_mapped` needs of
/// an artifact read at run time.
pub fn leak_aligned(bytes: &[u8]) -> &'static [u8] {
    let layout = std::alloc::Layout::from_size_align(bytes.len().max(1), 65536).unwrap();
    // SAFETY: a non-zero size; initialised right away and never freed.
    unsafe {
        let ptr = std::alloc::alloc(layout);
        assert!(!ptr.is_null(), "out of memory");
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len());
        std::slice::from_raw_parts(ptr, bytes.len())
    }
}
