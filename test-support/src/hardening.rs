//! The kernel features that forbid a process to make memory executable, set
//! for real (guide, "Hardened hosts"): `prctl(PR_SET_MDWE,
//! PR_MDWE_REFUSE_EXEC_GAIN)` (Linux ≥ 6.3), and a seccomp filter equivalent
//! to systemd's `MemoryDenyWriteExecute=yes`. Both are for good and are
//! inherited by children, across `execve` too: call them in a process made
//! for the purpose. Shared with the `wasmbake` command's tests (`#[path]`).

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
};

const PR_SET_MDWE: libc::c_int = 65;
const PR_GET_MDWE: libc::c_int = 66;
const PR_MDWE_REFUSE_EXEC_GAIN: libc::c_ulong = 1;

/// Whether this kernel has `PR_SET_MDWE` (`PR_GET_MDWE` answers).
pub fn mdwe_supported() -> bool {
    // SAFETY: PR_GET_MDWE reads a flag word; the other arguments must be 0.
    unsafe { libc::prctl(PR_GET_MDWE, 0, 0, 0, 0) >= 0 }
}

/// `prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN)`: from now on no memory of
/// this process (nor of its children) may gain `PROT_EXEC`, and no mapping
/// may be writable and executable. Async-signal-safe (usable in `pre_exec`).
pub fn refuse_exec_gain() -> std::io::Result<()> {
    // SAFETY: PR_SET_MDWE takes a flag word; the other arguments must be 0.
    match unsafe { libc::prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// The seccomp filter systemd installs for `MemoryDenyWriteExecute=yes`:
/// `mmap` with `PROT_WRITE | PROT_EXEC`, `mprotect` and `pkey_mprotect` with
/// `PROT_EXEC`, and `shmat` with `SHM_EXEC` fail with `EPERM`; everything
/// else is allowed. Built before it is applied ([`apply`]), which then
/// allocates nothing.
pub fn memory_deny_write_execute() -> BpfProgram {
    let exec = libc::PROT_EXEC as u64;
    let write_exec = (libc::PROT_WRITE | libc::PROT_EXEC) as u64;
    let masked = |arg: u8, mask: u64| {
        SeccompRule::new(vec![
            SeccompCondition::new(arg, SeccompCmpArgLen::Dword, SeccompCmpOp::MaskedEq(mask), mask).unwrap(),
        ])
        .unwrap()
    };
    let rules: BTreeMap<i64, Vec<SeccompRule>> = [
        (libc::SYS_mmap, vec![masked(2, write_exec)]),
        (libc::SYS_mprotect, vec![masked(2, exec)]),
        (libc::SYS_pkey_mprotect, vec![masked(2, exec)]),
        (libc::SYS_shmat, vec![masked(2, libc::SHM_EXEC as u64)]),
    ]
    .into_iter()
    .collect();
    let arch = std::env::consts::ARCH.try_into().expect("seccompiler supports this architecture");
    let filter =
        SeccompFilter::new(rules, SeccompAction::Allow, SeccompAction::Errno(libc::EPERM as u32), arch)
            .unwrap();
    filter.try_into().unwrap()
}

/// Applies `program` to every thread of this process (and, through
/// `no_new_privs` and inheritance, to what it executes).
pub fn apply(program: &BpfProgram) -> std::io::Result<()> {
    seccompiler::apply_filter_all_threads(program).map_err(std::io::Error::other)
}
