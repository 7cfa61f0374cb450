//! The `CustomCodeMemory` that lets Wasmtime run code straight out of `.rodata`.
//!
//! Wasmtime calls [`publish_executable`] on the text range of every artifact it
//! loads and [`unpublish_executable`] when the module goes away. Two kinds of
//! memory reach us:
//!
//! * **Static artifacts** (registered by [`register_static`] before an
//!   in-place load): read-only pages of the binary. They go R → R+X and back
//!   to R. They are never made writable.
//! * **Memory Wasmtime owns** (it compiled or copied the code into its own
//!   mmap, e.g. `Module::deserialize`): Wasmtime has already made it read-only
//!   before publishing, so it goes R → R+X, and back to R+W on unpublish
//!   (what Wasmtime expects for memory it is about to unmap or patch).
//!
//! No page is ever writable and executable at once.
//!
//! The hooks use `mprotect`, so they exist on Unix only. Elsewhere
//! [`crate::config`] installs no code memory and every load is a copy (the
//! in-place attempt fails cleanly first); the registries below stay portable.
//!
//! [`publish_executable`]: wasmtime::CustomCodeMemory::publish_executable
//! [`unpublish_executable`]: wasmtime::CustomCodeMemory::unpublish_executable

use std::ops::Range;
use std::sync::Mutex;

#[cfg(unix)]
use wasmtime::CustomCodeMemory;

/// Address ranges of every baked artifact that was ever handed to
/// `deserialize_raw` (statics live forever, so entries are never removed).
static STATIC_ARTIFACTS: Mutex<Vec<Range<usize>>> = Mutex::new(Vec::new());

/// Text ranges inside static artifacts that are currently published, i.e.
/// belong to a live in-place `Module`. Wasmtime panics if the same memory is
/// loaded in place twice, so loads consult this first.
static LIVE_TEXT: Mutex<Vec<Range<usize>>> = Mutex::new(Vec::new());

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The guarded data are plain vectors updated in one step: a panic
    // elsewhere cannot leave them half-written.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records that `artifact` is static memory that may be published in place.
pub(crate) fn register_static(artifact: &'static [u8]) {
    let range = range_of(artifact);
    let mut statics = lock(&STATIC_ARTIFACTS);
    if !statics.contains(&range) {
        statics.push(range);
    }
}

/// Static artifacts loaded in place through an engine whose publishing we do
/// not see (another code memory, or Pulley bytecode, which is never made
/// executable): their `Module` is kept alive for good, so they count as live
/// forever.
static PINNED: Mutex<Vec<Range<usize>>> = Mutex::new(Vec::new());

fn range_of(artifact: &[u8]) -> Range<usize> {
    let range = artifact.as_ptr_range();
    range.start as usize..range.end as usize
}

/// Whether `artifact` is loaded in place right now: some code inside it is
/// published, or it was [`pin`]ned. Another in-place load would panic.
pub(crate) fn is_live_in_place(artifact: &[u8]) -> bool {
    let artifact = range_of(artifact);
    lock(&PINNED).contains(&artifact) || lock(&LIVE_TEXT).iter().any(|text| within(text, &artifact))
}

/// Records that an in-place `Module` of `artifact` is kept alive forever.
pub(crate) fn pin(artifact: &'static [u8]) {
    lock(&PINNED).push(range_of(artifact));
}

/// Whether `inner` lies entirely inside `outer`.
fn within(inner: &Range<usize>, outer: &Range<usize>) -> bool {
    inner.start >= outer.start && inner.end <= outer.end
}

#[cfg(unix)]
fn is_static(text: &Range<usize>) -> bool {
    lock(&STATIC_ARTIFACTS).iter().any(|artifact| within(text, artifact))
}

#[cfg(unix)]
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).ok().filter(|s| s.is_power_of_two()).unwrap_or(4096)
}

#[cfg(unix)]
fn protect(ptr: *const u8, len: usize, prot: libc::c_int, what: &'static str) -> wasmtime::Result<()> {
    // SAFETY: Wasmtime hands us a page-aligned range of one of its code images
    // (`required_alignment` is the page size); changing its protection does
    // not invalidate any Rust reference, as nothing writes to code.
    let rc = unsafe { libc::mprotect(ptr as *mut libc::c_void, len, prot) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        wasmtime::bail!("wasmbake: cannot make {len} bytes of code at {ptr:p} {what}: {err}");
    }
    Ok(())
}

/// wasmbake's implementation of Wasmtime's code-memory hooks.
#[cfg(unix)]
pub(crate) struct StaticCodeMemory {
    page_size: usize,
}

#[cfg(unix)]
impl StaticCodeMemory {
    pub(crate) fn new() -> Self {
        StaticCodeMemory { page_size: page_size() }
    }
}

#[cfg(unix)]
impl CustomCodeMemory for StaticCodeMemory {
    fn required_alignment(&self) -> usize {
        self.page_size
    }

    fn publish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
        let text = ptr as usize..ptr as usize + len;
        let in_place = is_static(&text);
        let what = if in_place { "executable (is the binary on a noexec mount?)" } else { "executable" };
        protect(ptr, len, libc::PROT_READ | libc::PROT_EXEC, what)?;
        if in_place {
            lock(&LIVE_TEXT).push(text);
        } else {
            // Wasmtime wrote this code itself just now: make the instruction
            // cache see it (a no-op on x86-64).
            // SAFETY: `ptr..ptr+len` is the code range Wasmtime just published.
            unsafe { wasmtime_jit_icache_coherence::clear_cache(ptr.cast(), len) }
                .and_then(|()| wasmtime_jit_icache_coherence::pipeline_flush_mt())
                .map_err(|e| wasmtime::format_err!("wasmbake: icache flush failed: {e}"))?;
        }
        Ok(())
    }

    fn unpublish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
        let text = ptr as usize..ptr as usize + len;
        if is_static(&text) {
            protect(ptr, len, libc::PROT_READ, "read-only again")?;
            let mut live = lock(&LIVE_TEXT);
            if let Some(i) = live.iter().position(|r| *r == text) {
                live.swap_remove(i);
            }
        } else {
            protect(ptr, len, libc::PROT_READ | libc::PROT_WRITE, "writable again")?;
        }
        Ok(())
    }
}
