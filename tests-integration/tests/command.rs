//! `Embedded::command()`: running baked WASI preview-1 programs (the `wasi`
//! feature), and `Command::reactor()` for reactors.

use std::path::PathBuf;

use wasmbake::wasi::I32Exit;
use wasmbake::wasmtime::Trap;
use wasmbake::{Access, Embedded, Stdio, TRAP_EXIT_CODE, include_module};

static ARGS: Embedded = include_module!("fixtures/wasi/args.wat");
static EXIT: Embedded = include_module!("fixtures/wasi/exit.wat");
static TRAP: Embedded = include_module!("fixtures/wasi/trap.wat");
static WRITE: Embedded = include_module!("fixtures/wasi/write.wat");
static IMPORTS: Embedded = include_module!("fixtures/wasi/imports.wat");
static REACTOR: Embedded = include_module!("fixtures/wasi/reactor.wat");
static INIT_TRAPS: Embedded = include_module!("fixtures/wasi/init-traps.wat");
static SLEEP: Embedded = include_module!("fixtures/wasi/sleep.wat");
static CAT: Embedded = include_module!("../examples/toolbox/plugins/cat.wat");

fn stdout(output: &wasmbake::Output) -> &str {
    std::str::from_utf8(&output.stdout).unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmbake-command-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn arguments_and_environment_reach_the_program() {
    let out = ARGS.command().args(["one", "two words"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(stdout(&out), "args\none\ntwo words\n", "argv[0] defaults to the file stem; no environment");

    let out = ARGS.command().arg0("renamed").env("A", "1").envs([("B", "2"), ("A", "3")]).output().unwrap();
    assert_eq!(stdout(&out), "renamed\nA=1\nB=2\nA=3\n");

    // SAFETY: no other thread of this test binary reads or writes this variable.
    unsafe { std::env::set_var("WASMBAKE_COMMAND_TEST", "inherited") };
    let out = ARGS.command().inherit_env().output().unwrap();
    assert!(stdout(&out).lines().any(|l| l == "WASMBAKE_COMMAND_TEST=inherited"), "{}", stdout(&out));
    let out = ARGS.command().inherit_env().env("X", "1").env_clear().output().unwrap();
    assert_eq!(stdout(&out), "args\n", "env_clear drops set and inherited variables");
}

#[cfg(unix)]
#[test]
fn arguments_that_are_not_utf8_are_an_error_not_altered() {
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"caf\xe9");
    let err = ARGS.command().arg("ok").arg(bad).output().unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("args.wat") && message.contains("argument 2 is not valid UTF-8"), "{message}");
}

#[test]
fn proc_exit_code_passes_through() {
    let status = EXIT.command().run().unwrap();
    assert_eq!(status.code(), 42);
    assert!(!status.success() && !status.trapped());
    assert_eq!(status.to_string(), "exit status: 42");
}

#[test]
fn stdin_is_piped_from_bytes_or_a_file() {
    let out = CAT.command().stdin(Stdio::bytes(&b"line one\nline two\n"[..])).output().unwrap();
    assert!(out.status.success());
    assert_eq!(stdout(&out), "line one\nline two\n");

    let dir = temp_dir("stdin");
    let file = dir.join("input.txt");
    std::fs::write(&file, "from a file\n").unwrap();
    let out = CAT.command().arg("-").stdin(std::fs::File::open(&file).unwrap()).output().unwrap();
    assert_eq!(stdout(&out), "from a file\n");

    // `output()` gives the program an empty stdin by default.
    assert_eq!(stdout(&CAT.command().output().unwrap()), "");
    let err = CAT.command().stdin(Stdio::piped()).output().unwrap_err();
    assert!(format!("{err:#}").contains("Stdio::bytes"), "{err:#}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_trap_prints_a_named_backtrace_and_a_wasmtime_run_status() {
    let out = TRAP.command().output().unwrap();
    assert!(out.status.trapped());
    assert_eq!(out.status.code(), TRAP_EXIT_CODE);
    assert_eq!(TRAP_EXIT_CODE, if cfg!(windows) { 3 } else { 134 });
    assert_eq!(stdout(&out), "starting\n", "output before the trap is kept");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines[0].contains("unreachable"), "{stderr}");
    assert_eq!(lines[1], "wasm backtrace:", "{stderr}");
    assert!(lines[2].ends_with("trap!parse_header (function 1)"), "{stderr}");
    assert!(lines[3].ends_with("trap!load_config (function 2)"), "{stderr}");
    assert!(lines[4].ends_with("trap!main (function 3)"), "{stderr}");

    // Into a file given as stderr, too.
    let dir = temp_dir("trap");
    let log = dir.join("stderr.log");
    let status =
        TRAP.command().stdout(Stdio::null()).stderr(std::fs::File::create(&log).unwrap()).run().unwrap();
    assert!(status.trapped());
    assert!(std::fs::read_to_string(&log).unwrap().contains("trap!parse_header (function 1)"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_imports_and_non_commands_are_clear_errors() {
    let err = IMPORTS.command().run().unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("cannot start plugin `fixtures/wasi/imports.wat`"), "{message}");
    assert!(
        message
            .contains("it imports `env::host_log`, `env::host_time`, which WASI preview 1 does not provide"),
        "{message}"
    );

    let err = REACTOR.command().run().unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("reactor.wat") && message.contains("exports no `_start`"), "{message}");
}

#[test]
fn preopened_directories_are_read_only_or_read_write() {
    let dir = temp_dir("preopen");
    std::fs::write(dir.join("notes.txt"), "kept\n").unwrap();

    let read_only =
        WRITE.command().arg("new.txt").preopened_dir(&dir, "/data", Access::ReadOnly).run().unwrap();
    assert!(!read_only.success(), "a read-only directory refuses a new file");
    assert!(!dir.join("new.txt").exists());
    let out = CAT.command().arg("notes.txt").preopened_dir(&dir, "/data", Access::ReadOnly).output().unwrap();
    assert_eq!(stdout(&out), "kept\n", "a read-only directory can be read");

    let read_write =
        WRITE.command().arg("new.txt").preopened_dir(&dir, "/data", Access::ReadWrite).run().unwrap();
    assert!(read_write.success(), "{read_write}");
    assert_eq!(std::fs::read_to_string(dir.join("new.txt")).unwrap(), "written\n");

    let out = CAT.command().arg("nope.txt").preopened_dir(&dir, ".", Access::ReadOnly).output().unwrap();
    assert_eq!(out.status.code(), 1);
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "cat: nope.txt: cannot open\n");

    let err = CAT.command().preopened_dir(dir.join("absent"), ".", Access::ReadOnly).run().unwrap_err();
    assert!(format!("{err:#}").contains("cannot open directory"), "{err:#}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_command_runs_again_as_a_fresh_instance_on_any_engine() {
    let mut command = ARGS.command();
    command.arg("x");
    let first = command.output().unwrap();
    let second = command.output().unwrap();
    assert_eq!(first, second);
    let engine = wasmbake::engine().unwrap();
    assert_eq!(command.engine(&engine).output().unwrap(), first);
}

#[test]
fn reactors_initialize_then_export() {
    let mut reactor = REACTOR.command().reactor().unwrap();
    assert_eq!(reactor.call::<(), i32>("answer", ()).unwrap(), 42, "_initialize ran first");
    assert_eq!(reactor.call::<(), i32>("greet", ()).unwrap(), 21);
    assert_eq!(reactor.stdout(), b"hello from a reactor\n");
    let err = reactor.call::<(), ()>("fail", ()).unwrap_err();
    // The chain is kept: the trap downcasts, and the named backtrace is its
    // outermost context, what `{err}` prints.
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::UnreachableCodeReached), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("reactor!fail_deep (function 4)"), "{text}");
    // An exit is an `I32Exit`, and the reactor is still there to inspect.
    let exit = reactor.call::<(), ()>("quit", ()).unwrap_err();
    assert_eq!(exit.downcast_ref::<I32Exit>().map(|e| e.0), Some(7), "{exit:?}");

    // The linker helper, for hosts that wire the store themselves.
    let engine = wasmbake::engine().unwrap();
    let module = REACTOR.load(&engine).unwrap();
    let linker = wasmbake::wasi_linker(&engine).unwrap();
    let ctx = wasmbake::wasi::WasiCtxBuilder::new().build_p1();
    let mut store = wasmbake::wasmtime::Store::new(&engine, ctx);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let answer = instance.get_typed_func::<(), i32>(&mut store, "answer").unwrap();
    assert_eq!(answer.call(&mut store, ()).unwrap(), 2, "not initialised: the host did not call _initialize");
}

#[test]
fn the_linker_for_a_module_defines_what_it_imports_and_nothing_else() {
    let engine = wasmbake::engine().unwrap();
    let new_store =
        || wasmbake::wasmtime::Store::new(&engine, wasmbake::wasi::WasiCtxBuilder::new().build_p1());
    let defined = |linker: &wasmbake::wasmtime::Linker<_>| {
        let mut names: Vec<String> = linker.iter(new_store()).map(|(m, n, _)| format!("{m}::{n}")).collect();
        names.sort();
        names
    };

    let module = REACTOR.load(&engine).unwrap();
    let linker = wasmbake::wasi_linker_for(&module).unwrap();
    assert_eq!(defined(&linker), ["wasi_snapshot_preview1::fd_write", "wasi_snapshot_preview1::proc_exit"]);
    assert_eq!(defined(&wasmbake::wasi_linker(&engine).unwrap()).len(), 46);
    let mut store = new_store();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    instance.get_typed_func::<(), ()>(&mut store, "_initialize").unwrap().call(&mut store, ()).unwrap();
    let answer = instance.get_typed_func::<(), i32>(&mut store, "answer").unwrap();
    assert_eq!(answer.call(&mut store, ()).unwrap(), 42);
    // (`fd_write` is one of wasmtime-wasi's asynchronous functions, here
    // blocked on.)
    let greet = instance.get_typed_func::<(), i32>(&mut store, "greet").unwrap();
    assert_eq!(greet.call(&mut store, ()).unwrap(), 21, "bytes written");

    // Imports that are not WASI stay undefined: instantiating names one.
    let module = IMPORTS.load(&engine).unwrap();
    let linker = wasmbake::wasi_linker_for(&module).unwrap();
    assert_eq!(defined(&linker), ["wasi_snapshot_preview1::fd_write"]);
    let err = linker.instantiate(&mut new_store(), &module).unwrap_err();
    assert!(format!("{err:#}").contains("env::host_log"), "{err:#}");
}

#[test]
fn a_trapping_initializer_is_an_err_that_is_still_the_trap() {
    let err = INIT_TRAPS.command().reactor().unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::UnreachableCodeReached), "{err:?}");
    let text = format!("{err:#}");
    assert!(text.contains("cannot start plugin `fixtures/wasi/init-traps.wat`"), "{text}");
    assert!(text.contains("init_traps!check_config (function 0)"), "{text}");
}

#[test]
fn a_traced_run_reports_every_step_in_order() {
    let mut steps = Vec::new();
    let status = EXIT.command().stdout(Stdio::null()).run_traced(&mut |step| steps.push(step)).unwrap();
    assert_eq!(status.code(), 42);
    assert_eq!(steps, ["engine", "load", "linker", "wasi", "runtime", "instantiate", "program", "teardown"]);
}

#[test]
fn timers_run_on_the_commands_runtime() {
    let start = std::time::Instant::now();
    let status = SLEEP.command().run().unwrap();
    assert_eq!(status.code(), 1, "poll_oneoff returned one event");
    assert!(start.elapsed() >= std::time::Duration::from_millis(20), "{:?}", start.elapsed());
}

/// Runs this test binary again with only `test` and `WASMBAKE_EXEC_CHILD`
/// set to `child`: `exec` ends the process, so it is tested in a child.
fn run_child(test: &str, child: &str) -> std::process::Output {
    let exe = std::env::current_exe().unwrap();
    std::process::Command::new(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("WASMBAKE_EXEC_CHILD", child)
        .output()
        .unwrap()
}

#[test]
fn exec_ends_the_process_with_the_programs_status() {
    match std::env::var("WASMBAKE_EXEC_CHILD").as_deref() {
        Ok("exit") => panic!("exec returned: {:#}", EXIT.command().exec()),
        Ok("trap") => panic!("exec returned: {:#}", TRAP.command().exec()),
        Ok("args") => panic!("exec returned: {:#}", ARGS.command().arg("from exec").exec()),
        Ok(other) => panic!("unknown child {other}"),
        Err(_) => {}
    }
    let test = "exec_ends_the_process_with_the_programs_status";
    assert_eq!(run_child(test, "exit").status.code(), Some(42));
    let trap = run_child(test, "trap");
    assert_eq!(trap.status.code(), Some(TRAP_EXIT_CODE));
    assert!(String::from_utf8_lossy(&trap.stdout).contains("starting\n"), "the program's output was flushed");
    let stderr = String::from_utf8_lossy(&trap.stderr);
    assert!(stderr.contains("trap!load_config (function 2)"), "{stderr}");
    let args = run_child(test, "args");
    assert_eq!(args.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&args.stdout).contains("args\nfrom exec\n"));

    // A program that cannot start: `exec` returns the error.
    let error = REACTOR.command().exec();
    assert!(format!("{error:#}").contains("exports no `_start`"), "{error:#}");
}
