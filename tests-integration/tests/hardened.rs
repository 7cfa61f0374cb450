//! Hardened hosts (guide, "Hardened hosts"): plugins baked into the
//! binary's executable segment run in processes that may never make memory
//! executable, under the real kernel features (`prctl(PR_SET_MDWE)`, and a
//! seccomp filter like systemd's `MemoryDenyWriteExecute=yes`); plugins
//! baked the default way fail there with an `Err` that names the mode that
//! would work; the Pulley fallback runs there as it is. Each restriction is
//! for good, so each case runs in a child process (this test binary again).
#![cfg(target_os = "linux")]

use wasmbake::wasmtime::{Engine, Instance, Module, Store};
use wasmbake::{Embedded, LoadKind, include_module};
use wasmbake_test_support::{hardening, process};

/// The `#[link_section]` form (the macro's option).
static IN_TEXT: Embedded = include_module!("plugins/math.wat", executable_segment);
/// The default: read-only data, made executable at load.
static IN_RODATA: Embedded = include_module!("plugins/math.wat");
/// A WASI command in the executable segment.
static EXIT: Embedded = include_module!("fixtures/wasi/exit.wat", executable_segment);

/// The link-object form (`Builder::executable_segment(true)`).
mod linked {
    wasmbake::include_plugins!("executable.rs");
}
/// A foreign native artifact with a Pulley fallback (never executable).
mod fallback {
    wasmbake::include_plugins!("fallback.rs");
}
/// A foreign native artifact without one.
mod aarch64 {
    wasmbake::include_plugins!("aarch64.rs");
}

fn square(module: &Module, x: i32) -> i32 {
    let mut store = Store::new(module.engine(), ());
    let instance = Instance::new(&mut store, module, &[]).unwrap();
    instance.get_typed_func::<i32, i32>(&mut store, "square").unwrap().call(&mut store, x).unwrap()
}

/// The trap of `boom`, rendered with the plugin's names.
fn trap_message(plugin: &Embedded, module: &Module) -> String {
    let mut store = Store::new(module.engine(), ());
    let instance = Instance::new(&mut store, module, &[]).unwrap();
    let error =
        instance.get_typed_func::<(), ()>(&mut store, "boom").unwrap().call(&mut store, ()).unwrap_err();
    plugin.render_error(&error)
}

fn artifact_permissions(plugin: &Embedded) -> String {
    process::permissions_at(plugin.artifact().as_ptr() as usize).unwrap()
}

fn no_writable_code() {
    let wx = process::writable_and_executable_mappings();
    assert!(wx.is_empty(), "writable and executable mappings: {wx:?}");
}

/// What a child does once it may no longer make memory executable: every
/// step, checked; "hardened: ok" at the end.
fn hardened_steps(why: &str) {
    let engine = wasmbake::engine().unwrap();
    no_writable_code();
    for plugin in [&IN_TEXT, &linked::MATH] {
        assert!(plugin.in_executable_segment());
        for _ in 0..2 {
            // Loaded in place, run, trap with names, dropped, loaded again.
            let loaded = plugin.load_detailed(&engine).unwrap();
            assert_eq!(loaded.kind(), LoadKind::InPlace);
            assert!(!loaded.is_pulley());
            assert_eq!(square(loaded.module(), 7), 49);
            let trap = trap_message(plugin, loaded.module());
            assert!(trap.contains("math!boom (function 1)"), "{trap}");
            no_writable_code();
            drop(loaded);
            assert!(plugin.evict(&engine));
            assert_eq!(artifact_permissions(plugin), "r-xp", "unpublishing leaves the segment as it is");
        }
    }
    // A second engine (its own signal handlers and stacks are set up already,
    // its code memory is the same).
    let other = Engine::new(&wasmbake::config()).unwrap();
    let module = IN_TEXT.load(&other).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(square(&module, 3), 9);
    drop(module);
    assert!(IN_TEXT.evict(&other));
    // An engine without wasmbake's code memory makes code executable
    // itself: refused, and the error says which engine works.
    let plain = Engine::new(&wasmbake::__private::wasm_config()).unwrap();
    let error = format!("{:#}", IN_TEXT.load(&plain).unwrap_err());
    for expected in [why, "wasmbake::engine()", "Hardened hosts"] {
        assert!(error.contains(expected), "missing {expected:?} in: {error}");
    }

    // The default mode: an `Err` that says why and what would work.
    let error = format!("{:#}", IN_RODATA.load(&engine).unwrap_err());
    for expected in ["cannot make", "executable", why, "executable_segment", "Hardened hosts"] {
        assert!(error.contains(expected), "missing {expected:?} in: {error}");
    }
    assert!(IN_RODATA.load(&engine).is_err(), "and again, no panic");

    // An error that has nothing to do with executable memory gets no hint.
    if cfg!(target_arch = "x86_64") {
        let error = format!("{:#}", aarch64::MATH.load(&engine).unwrap_err());
        assert!(error.contains("compiled for") && !error.contains("Hardened hosts"), "{error}");
    }

    // Pulley bytecode is never executable.
    let loaded = fallback::MATH.load_detailed(&engine).unwrap();
    assert!(loaded.is_pulley());
    assert_eq!(square(loaded.module(), 5), 25);

    // A WASI command through the `Command` runner.
    assert_eq!(EXIT.command().run().unwrap().code(), 42);
    no_writable_code();
    println!("hardened: ok");
}

fn run_child(test: &str, child: &str) -> std::process::Output {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("WASMBAKE_HARDENED_CHILD", child)
        .output()
        .unwrap()
}

fn assert_child_ok(output: &std::process::Output) {
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success() && stdout.contains("hardened: ok"),
        "{}\n{stdout}\n{stderr}",
        output.status
    );
}

#[test]
fn under_pr_set_mdwe() {
    if std::env::var("WASMBAKE_HARDENED_CHILD").as_deref() == Ok("mdwe") {
        hardening::refuse_exec_gain().unwrap();
        return hardened_steps("PR_SET_MDWE is in force");
    }
    if !hardening::mdwe_supported() {
        eprintln!("skipped: this kernel has no PR_SET_MDWE (Linux >= 6.3)");
        return;
    }
    assert_child_ok(&run_child("under_pr_set_mdwe", "mdwe"));
}

#[test]
fn under_a_memory_deny_write_execute_seccomp_filter() {
    if std::env::var("WASMBAKE_HARDENED_CHILD").as_deref() == Ok("seccomp") {
        hardening::apply(&hardening::memory_deny_write_execute()).unwrap();
        // The filter is really in force.
        // SAFETY: an anonymous mapping of our own, unmapped below.
        unsafe {
            let page = libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(page, libc::MAP_FAILED);
            assert_eq!(
                libc::mprotect(page, 4096, libc::PROT_READ | libc::PROT_EXEC),
                -1,
                "mprotect(+x) refused"
            );
            libc::munmap(page, 4096);
        }
        return hardened_steps("seccomp filter");
    }
    assert_child_ok(&run_child("under_a_memory_deny_write_execute_seccomp_filter", "seccomp"));
}

#[test]
fn the_segment_is_executable_from_the_start_and_never_writable() {
    // Before any load: the kernel (or the dynamic loader) mapped it R+X.
    for plugin in [&IN_TEXT, &linked::MATH] {
        assert!(plugin.in_executable_segment());
        assert_eq!(plugin.artifact().as_ptr() as usize % 65536, 0, "64 KiB-aligned");
        assert_eq!(artifact_permissions(plugin), "r-xp");
    }
    assert!(!IN_RODATA.in_executable_segment());
    assert_eq!(artifact_permissions(&IN_RODATA), "r--p");
    // Same names, same code, whatever the segment.
    assert_eq!(IN_TEXT.names().index_of("boom"), IN_RODATA.names().index_of("boom"));
    let engine = wasmbake::engine().unwrap();
    let module = IN_TEXT.load(&engine).unwrap();
    assert_eq!(square(&module, 12), 144);
    no_writable_code();
}

#[test]
fn descriptors_say_which_plugins_are_in_the_executable_segment() {
    // What `wasmbake inspect` reads from a binary: here, this test binary.
    use object::{Object as _, ObjectSection as _};
    let binary = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let file = object::File::parse(&*binary).unwrap();
    let section = file.section_by_name(".wasmbake.plugins").unwrap();
    let descriptors = wasmbake_compiler::Descriptor::decode_all(section.data().unwrap()).unwrap();
    let math = |executable: bool, linked: bool| {
        descriptors
            .iter()
            .filter(|d| {
                d.source.ends_with("plugins/math.wat") && d.executable == executable && d.linked == linked
            })
            .count()
    };
    assert!(math(true, false) >= 1, "include_module!(…, executable_segment)");
    assert!(math(true, true) >= 1, "Builder::executable_segment(true).link_object(true)");
    assert!(math(false, false) >= 1, "the default");
}
