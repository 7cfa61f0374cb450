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
//! * **A file Wasmtime mapped** for a load announced with [`with_file_text`]
//!   (an artifact described by the executable that carries it): the code
//!   pages are mapped again from the same file, readable and executable, in
//!   place of Wasmtime's read-only ones. A new mapping with `PROT_EXEC` is
//!   what hardened processes allow (`PR_SET_MDWE`, systemd's
//!   `MemoryDenyWriteExecute=yes`), where they refuse adding `PROT_EXEC` to
//!   existing memory. Unpublishing treats them as memory Wasmtime owns.
//!
//! No page is ever writable and executable at once.
//!
//! The hooks use `mprotect`, so they exist on Unix only. Elsewhere
//! [`crate::config`] installs no code memory and every load is a copy (the
//! in-place attempt fails cleanly first); the registries below stay portable.
//!
//! [`publish_executable`]: wasmtime::CustomCodeMemory::publish_executable
//! [`unpublish_executable`]: wasmtime::CustomCodeMemory::unpublish_executable

use std::cell::Cell;
use std::ops::Range;
use std::sync::Mutex;

#[cfg(unix)]
use wasmtime::CustomCodeMemory;

/// Address ranges of every baked artifact that was ever handed to
/// `deserialize_raw` (statics live forever, so entries are never removed),
/// and whether its code already lies in executable pages (baked with
/// `executable_segment`, see [`crate::Embedded`]): those are published
/// without any protection change.
static STATIC_ARTIFACTS: Mutex<Vec<(Range<usize>, bool)>> = Mutex::new(Vec::new());

/// Text ranges inside static artifacts that are currently published, i.e.
/// belong to a live in-place `Module`. Wasmtime panics if the same memory is
/// loaded in place twice, so loads consult this first.
static LIVE_TEXT: Mutex<Vec<Range<usize>>> = Mutex::new(Vec::new());

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The guarded data are plain vectors updated in one step: a panic
    // elsewhere cannot leave them half-written.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records that `artifact` is static memory that may be published in place
/// (`executable`: its code is mapped executable for good, by the loader).
pub(crate) fn register_static(artifact: &'static [u8], executable: bool) {
    let range = range_of(artifact);
    let mut statics = lock(&STATIC_ARTIFACTS);
    if !statics.iter().any(|(r, _)| *r == range) {
        statics.push((range, executable));
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

/// Where `text` lies: `None` outside every static artifact, else whether
/// that artifact's code is already executable.
#[cfg(unix)]
fn static_artifact(text: &Range<usize>) -> Option<bool> {
    lock(&STATIC_ARTIFACTS)
        .iter()
        .find(|(artifact, _)| within(text, artifact))
        .map(|(_, executable)| *executable)
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
        let denied = matches!(err.raw_os_error(), Some(libc::EACCES | libc::EPERM));
        let hint = match prot & libc::PROT_EXEC != 0 && denied {
            true => exec_gain_hint(false).unwrap_or_default(),
            false => String::new(),
        };
        wasmtime::bail!("wasmbake: cannot make {len} bytes of code at {ptr:p} {what}: {err}{hint}");
    }
    Ok(())
}

/// Why a load failed and what would work, when this process may never make
/// memory executable: `None` when it may. `executable`: the plugin is in an
/// executable segment already (then only an engine without wasmbake's code
/// memory can have tried to change protections).
pub(crate) fn exec_gain_hint(executable: bool) -> Option<String> {
    #[cfg(unix)]
    {
        let why = exec_gain_forbidden()?;
        Some(match executable {
            false => format!(
                " ({why}: this process may never make memory executable; bake the plugin into an executable \
                 segment, `wasmbake_build::Builder::executable_segment(true)` or `include_module!(\"…\", \
                 executable_segment)`, or give it a Pulley fallback; guide, \"Hardened hosts\")"
            ),
            true => format!(
                " ({why}: this process may never make memory executable; the plugin is in an executable \
                 segment, which only an engine with wasmbake's code memory uses as it is: \
                 `wasmbake::engine()`, or `Engine::new(&wasmbake::config())`; guide, \"Hardened hosts\")"
            ),
        })
    }
    #[cfg(not(unix))]
    {
        let _ = executable;
        None
    }
}

/// Why this process may not add `PROT_EXEC` to memory, if it can tell:
/// `prctl(PR_SET_MDWE)`, or a seccomp filter (what systemd's
/// `MemoryDenyWriteExecute=yes` installs; the filter itself cannot be read).
/// Asked only after a refusal.
#[cfg(unix)]
fn exec_gain_forbidden() -> Option<&'static str> {
    #[cfg(target_os = "linux")]
    {
        const PR_GET_MDWE: libc::c_int = 66;
        const PR_MDWE_REFUSE_EXEC_GAIN: libc::c_int = 1;
        // SAFETY: PR_GET_MDWE reads a flag word; the other arguments must be 0.
        let mdwe = unsafe { libc::prctl(PR_GET_MDWE, 0, 0, 0, 0) };
        if mdwe > 0 && mdwe & PR_MDWE_REFUSE_EXEC_GAIN != 0 {
            return Some("PR_SET_MDWE is in force");
        }
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        if status.lines().any(|line| line.split_whitespace().eq(["Seccomp:", "2"])) {
            return Some("a seccomp filter refuses it, as systemd's MemoryDenyWriteExecute=yes does");
        }
    }
    None
}

/// Where the code of the artifact being loaded from a file on this thread
/// lies in that file (set by [`with_file_text`]). Wasmtime publishes the
/// code during the load, on the loading thread.
#[derive(Clone, Copy)]
struct FileText {
    #[cfg(unix)]
    fd: std::os::fd::RawFd,
    /// The code's file offset (page-aligned) and length.
    offset: u64,
    len: usize,
}

thread_local! {
    static FILE_TEXT: Cell<Option<FileText>> = const { Cell::new(None) };
}

/// Runs `load` (a Wasmtime load from `file`) with the code it publishes,
/// `len` bytes at file offset `offset` of `file`, mapped executable from
/// the file rather than made executable in place.
pub(crate) fn with_file_text<T>(
    file: &std::fs::File,
    offset: u64,
    len: usize,
    load: impl FnOnce() -> T,
) -> T {
    #[cfg(unix)]
    let text = FileText { fd: std::os::fd::AsRawFd::as_raw_fd(file), offset, len };
    #[cfg(not(unix))]
    let text = {
        let _ = file;
        FileText { offset, len }
    };
    /// Clears the announcement however `load` ends (a panic included), so
    /// that no later load on this thread takes it for its own.
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            FILE_TEXT.with(|t| t.set(None));
        }
    }
    FILE_TEXT.with(|t| t.set(Some(text)));
    let _clear = Clear;
    load()
}

/// Maps `len` bytes of code at `ptr`, which Wasmtime mapped read-only from
/// `file.fd` at `file.offset`, again from the file, readable and executable.
#[cfg(unix)]
fn map_file_text(ptr: *const u8, len: usize, file: FileText, page: usize) -> wasmtime::Result<()> {
    // The bytes Wasmtime mapped must be the file's at that offset: a wrong
    // offset would make other bytes executable. (The first bytes are
    // checked; every byte is the same file's, mapped at the same offset
    // from the same start.)
    let probe = len.min(64);
    let mut expected = vec![0u8; probe];
    // SAFETY: `expected` has `probe` writable bytes.
    let read =
        unsafe { libc::pread(file.fd, expected.as_mut_ptr().cast(), probe, file.offset as libc::off_t) };
    // SAFETY: Wasmtime hands us its readable mapping of `len` bytes at `ptr`.
    let mapped = unsafe { std::slice::from_raw_parts(ptr, probe) };
    if read != probe as isize || expected != mapped || !file.offset.is_multiple_of(page as u64) {
        wasmtime::bail!(
            "wasmbake: the code Wasmtime mapped is not at the file offset the executable records"
        );
    }
    // SAFETY: replaces Wasmtime's read-only private mapping of these pages
    // with a read-execute private mapping of the same file bytes (checked
    // above): every byte stays what it was, and nothing holds a reference
    // that the change invalidates. Wasmtime unmaps the whole range later.
    let remapped = unsafe {
        libc::mmap(
            ptr as *mut libc::c_void,
            len.next_multiple_of(page),
            libc::PROT_READ | libc::PROT_EXEC,
            libc::MAP_PRIVATE | libc::MAP_FIXED,
            file.fd,
            file.offset as libc::off_t,
        )
    };
    if remapped == libc::MAP_FAILED {
        let err = std::io::Error::last_os_error();
        wasmtime::bail!(
            "wasmbake: cannot map {len} bytes of code executable from the executable file: {err}"
        );
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
        let in_place = static_artifact(&text);
        match in_place {
            // Executable since the binary was mapped: nothing to change.
            Some(true) => {}
            Some(false) => protect(
                ptr,
                len,
                libc::PROT_READ | libc::PROT_EXEC,
                "executable (is the binary on a noexec mount?)",
            )?,
            None => match FILE_TEXT.with(Cell::take) {
                Some(file) if file.len == len => return map_file_text(ptr, len, file, self.page_size),
                _ => protect(ptr, len, libc::PROT_READ | libc::PROT_EXEC, "executable")?,
            },
        }
        if in_place.is_some() {
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
        if let Some(executable) = static_artifact(&text) {
            // Code in an executable segment stays as the loader mapped it.
            if !executable {
                protect(ptr, len, libc::PROT_READ, "read-only again")?;
            }
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
