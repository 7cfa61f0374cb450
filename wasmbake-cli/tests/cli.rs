//! The `wasmbake` command, run as a user would: `exe` outputs run like
//! `wasmtime run` would run the module, bad input is one line and exit 2
//! with nothing left behind, `inspect` reads modules and binaries.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use wasmbake_test_support::corpus;

const WASMBAKE: &str = env!("CARGO_BIN_EXE_wasmbake");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests-integration/fixtures/wasi").join(name)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmbake-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn wasmbake(args: &[&str]) -> Output {
    // A cache of its own, not the user's.
    Command::new(WASMBAKE)
        .args(args)
        .env("WASMBAKE_CACHE_DIR", concat!(env!("CARGO_TARGET_TMPDIR"), "/wasmbake-cli-cache"))
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `program` from `cwd` with an empty environment.
fn run(program: &Path, args: &[&str], cwd: &Path, stdin: &[u8]) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn exe(inputs: &[PathBuf], out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec!["exe".into()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args.extend(["-o".into(), out.display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = wasmbake(&args);
    assert!(output.status.success(), "wasmbake {args:?}: {}", text(&output.stderr));
    output
}

#[test]
fn exe_makes_a_program_that_runs_like_wasmtime_run() {
    let dir = temp_dir("exe");
    let out = dir.join("printargs");
    exe(&[fixture("args.wat")], &out, &["--env", "GREETING=hi there", "--name", "printargs"]);
    let empty = temp_dir("exe-empty");
    let run = run(&out, &["one", "two words"], &empty, b"");
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert_eq!(text(&run.stdout), "printargs\none\ntwo words\nGREETING=hi there\n");

    // Traced: the same run, then when each step ended, in order.
    let traced = Command::new(&out)
        .arg("one")
        .current_dir(&empty)
        .env_clear()
        .env("WASMBAKE_RUNNER_TRACE", "phases")
        .output()
        .unwrap();
    assert_eq!(text(&traced.stdout), "printargs\none\nGREETING=hi there\n");
    let marks: Vec<(String, u64)> = text(&traced.stderr)
        .lines()
        .map(|l| l.split_once('=').map(|(s, t)| (s.to_owned(), t.parse().unwrap())).unwrap())
        .collect();
    let steps: Vec<&str> = marks.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        steps,
        ["main", "engine", "load", "linker", "wasi", "runtime", "instantiate", "program", "teardown"]
    );
    assert!(marks.windows(2).all(|w| w[0].1 <= w[1].1), "{marks:?}");

    // Exit codes, traps with the program's own names, stdin, directories.
    let exit = dir.join("exit");
    exe(&[fixture("exit.wat")], &exit, &[]);
    assert_eq!(self::run(&exit, &[], &empty, b"").status.code(), Some(42));
    let trap = dir.join("trap");
    exe(&[fixture("trap.wat")], &trap, &[]);
    let trapped = self::run(&trap, &[], &empty, b"");
    assert_eq!(trapped.status.code(), Some(134));
    assert_eq!(text(&trapped.stdout), "starting\n");
    assert!(text(&trapped.stderr).contains("trap!load_config (function 2)"), "{}", text(&trapped.stderr));
    let data = temp_dir("exe-data");
    std::fs::write(data.join("notes.txt"), "from a directory\n").unwrap();
    let cat = dir.join("cat");
    let dir_arg = format!("{}::/data", data.display());
    exe(
        &[Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/toolbox/plugins/cat.wat")],
        &cat,
        &["--dir-ro", &dir_arg],
    );
    let piped = self::run(&cat, &[], &empty, b"piped in\n");
    assert_eq!(text(&piped.stdout), "piped in\n");
    let read = self::run(&cat, &["notes.txt"], &empty, b"");
    assert_eq!(text(&read.stdout), "from a directory\n", "{}", text(&read.stderr));
    for d in [dir, empty, data] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn exe_runs_command_components_beside_modules() {
    let dir = temp_dir("exe-components");
    let tools = dir.join("box");
    exe(&[fixture("p2-trap.wat"), fixture("p2-fail.wat"), fixture("exit.wat")], &tools, &[]);
    let trapped = run(&tools, &["p2-trap"], &dir, b"");
    assert_eq!(trapped.status.code(), Some(134));
    assert!(text(&trapped.stderr).contains("!boom (function 0)"), "{}", text(&trapped.stderr));
    assert_eq!(run(&tools, &["p2-fail"], &dir, b"").status.code(), Some(1));
    assert_eq!(run(&tools, &["exit"], &dir, b"").status.code(), Some(42), "a module beside them");

    // A component that is no command: exit 2, nothing written.
    let guest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests-integration/fixtures/guest.wat");
    let out = dir.join("guest");
    let refused = wasmbake(&["exe", guest.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("it exports no `wasi:cli/run`"), "{}", text(&refused.stderr));
    assert!(!out.exists());

    if let Some(corpus) = corpus::require(&["hello-c.component.wasm"], "the corpus command component") {
        let hello = dir.join("hello-c");
        exe(&[corpus.join("hello-c.component.wasm")], &hello, &["--name", "hello-c"]);
        let out = run(&hello, &["a", "b"], &dir, b"");
        assert_eq!(text(&out.stdout), "hello from wasi, fib(25)=75025, argc=3\n", "{}", text(&out.stderr));
        let manifest = wasmbake_runtime::__private::exe_payload::read_manifest(&hello).unwrap();
        assert_eq!(manifest.file_images, None, "4 KB of data: in place, where the copy costs less");
    }
    if let Some(corpus) = corpus::require(&["avr-as.component.wasm"], "the corpus command component") {
        let avr_as = dir.join("avr-as");
        exe(&[corpus.join("avr-as.component.wasm")], &avr_as, &["--name", "avr-as"]);
        let out = run(&avr_as, &["--version"], &dir, b"");
        assert!(text(&out.stdout).starts_with("GNU assembler (GNU Binutils) 2.42"), "{}", text(&out.stderr));
        let manifest = wasmbake_runtime::__private::exe_payload::read_manifest(&avr_as).unwrap();
        assert_eq!(manifest.file_images, Some(0), "a component's memory images come from the file too");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn exe_limits_are_baked_into_the_output_as_its_defaults() {
    let dir = temp_dir("exe-limits");
    let empty = temp_dir("exe-limits-empty");
    // A timeout: the program is stopped with 124 and one line.
    let spin = dir.join("spin");
    exe(&[fixture("spin.wat")], &spin, &["--timeout", "200ms"]);
    let started = std::time::Instant::now();
    let stopped = run(&spin, &[], &empty, b"");
    let took = started.elapsed();
    assert_eq!(stopped.status.code(), Some(124), "{}", text(&stopped.stderr));
    assert_eq!(text(&stopped.stdout), "spinning\n");
    assert_eq!(
        text(&stopped.stderr),
        "wasmbake: plugin `spin.wat` timed out after 200ms in `spin` ← `run_forever` ← `main`\n"
    );
    assert!(took >= std::time::Duration::from_millis(200), "{took:?}");
    let inspected = text(&wasmbake(&["inspect", spin.to_str().unwrap()]).stdout);
    assert!(
        inspected.contains("spin (from spin.wat)") && inspected.contains(", epoch interruption\n"),
        "{inspected}"
    );
    assert!(inspected.contains("limits of every run: timeout 200ms"), "{inspected}");
    // Fuel: its own trap message, 134.
    let fueled = dir.join("spin-fuel");
    exe(&[fixture("spin.wat")], &fueled, &["--fuel", "1_000_000"]);
    let out = run(&fueled, &[], &empty, b"");
    assert_eq!(out.status.code(), Some(134));
    assert!(text(&out.stderr).starts_with("wasmbake: plugin `spin.wat` ran out of fuel (1000000 units)"));
    // A memory limit: `memory.grow` fails and the program sees it (it
    // exits with the pages it could add: 1 MiB is its first page and 15).
    let grow = dir.join("grow");
    exe(&[fixture("grow.wat")], &grow, &["--max-memory", "1M"]);
    assert_eq!(run(&grow, &[], &empty, b"").status.code(), Some(15));
    let inspected = text(&wasmbake(&["inspect", grow.to_str().unwrap()]).stdout);
    assert!(
        inspected.contains("grow (from grow.wat): artifact") && !inspected.contains("epoch"),
        "{inspected}"
    );
    assert!(inspected.contains("limits of every run: max memory 1048576 bytes"), "{inspected}");
    for d in [dir, empty] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn several_inputs_make_a_multi_call_program() {
    let dir = temp_dir("multi");
    let tools = dir.join("box");
    exe(&[fixture("args.wat"), fixture("exit.wat")], &tools, &[]);
    let by_argument = run(&tools, &["args", "x"], &dir, b"");
    assert_eq!(text(&by_argument.stdout), "args\nx\n");
    std::os::unix::fs::symlink(&tools, dir.join("exit")).unwrap();
    assert_eq!(run(&dir.join("exit"), &[], &dir, b"").status.code(), Some(42));
    let usage = run(&tools, &[], &dir, b"");
    assert_eq!(usage.status.code(), Some(2));
    assert!(text(&usage.stderr).contains("tools: args, exit"), "{}", text(&usage.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The toolbox's `cat`, which reads files of the directory preopened
/// first; and, written to `dir`, `bigcat`: the same program with a second
/// page of initial data, so that its memory image is the larger one.
fn cats(dir: &Path) -> [PathBuf; 2] {
    let cat = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/toolbox/plugins/cat.wat");
    let text = std::fs::read_to_string(&cat).unwrap();
    let data = "(data (i32.const 40) \": cannot open\\n\")";
    assert!(text.contains(data), "the toolbox's cat changed: update this test");
    let big = text.replace(data, &format!("{data}\n  (data (i32.const 65600) \"a second page of data\")"));
    let bigcat = dir.join("bigcat.wat");
    std::fs::write(&bigcat, big).unwrap();
    [cat, bigcat]
}

/// What `tool` (a cat of `cats`) reads in `/proc/self/maps`: its own
/// process's mappings.
fn own_mappings(program: &Path, tool: Option<&str>) -> String {
    let mut args: Vec<&str> = tool.into_iter().collect();
    args.push("self/maps");
    let out = run(program, &args, Path::new("/"), b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// The program with the most initial memory data has its memory image
/// mapped from the executable file (its file header and section table
/// describe that program's artifact), not copied into a memfd; the others
/// keep the in-place load and its copy. The output stays a program that
/// ELF readers read: the kernel's program headers are the runner's, the
/// sections the artifact's.
#[cfg(target_os = "linux")]
#[test]
fn the_program_with_the_most_data_maps_its_memory_from_the_executable() {
    use object::read::elf::{FileHeader as _, ProgramHeader as _, SectionHeader as _};
    let dir = temp_dir("file-images");
    let [cat, bigcat] = cats(&dir);
    let tools = dir.join("box");
    // (The runner Cargo built beside `wasmbake`, named so that its program
    // headers can be compared with the output's.)
    let runner = Path::new(WASMBAKE).with_file_name("wasmbake-runner");
    exe(&[cat, bigcat.clone()], &tools, &["--dir-ro", "/proc::/proc", "--runner", runner.to_str().unwrap()]);
    let memfd = "/memfd:wasm-memory-image";
    let big = own_mappings(&tools, Some("bigcat"));
    assert!(!big.contains(memfd), "bigcat's image is the file's:\n{big}");
    let exe_path = tools.canonicalize().unwrap().display().to_string();
    let from_exe = |maps: &str, perms: &str| {
        maps.lines().filter(|l| l.contains(perms) && l.trim_end().ends_with(exe_path.as_str())).count()
    };
    assert!(from_exe(&big, "rw-p") > 0, "its memory is a private mapping of the executable:\n{big}");
    assert!(from_exe(&big, "r-xp") > 1, "its code too, beside the runner's own:\n{big}");
    let small = own_mappings(&tools, Some("cat"));
    assert!(small.contains(memfd), "cat loads in place, its image copied:\n{small}");

    // What ELF readers see.
    let bytes = std::fs::read(&tools).unwrap();
    let runner = std::fs::read(&runner).unwrap();
    let header = object::elf::FileHeader64::<object::Endianness>::parse(&*bytes).unwrap();
    let endian = header.endian().unwrap();
    assert_eq!(header.e_flags(endian) & 1, 1, "Wasmtime's EF_WASMTIME_MODULE");
    let sections = header.sections(endian, &*bytes).unwrap();
    let names: Vec<&str> = sections
        .iter()
        .map(|s| std::str::from_utf8(sections.section_name(endian, s).unwrap()).unwrap())
        .collect();
    assert!(names.contains(&".wasmtime.info") && names.contains(&".rodata.wasm"), "{names:?}");
    let manifest = wasmbake_runtime::__private::exe_payload::read_manifest(&tools).unwrap();
    assert_eq!(manifest.file_images, Some(1), "bigcat, the second program");
    let (_, text_section) = sections.section_by_name(endian, b".text").unwrap();
    let (text_at, _) = text_section.file_range(endian).unwrap();
    assert_eq!(text_at, manifest.tools[1].artifact.0 + manifest.tools[1].text.0);
    let theirs = object::elf::FileHeader64::<object::Endianness>::parse(&*runner).unwrap();
    let segments = |h: &object::elf::FileHeader64<object::Endianness>, data: &[u8]| -> Vec<(u32, u64, u64)> {
        h.program_headers(endian, data)
            .unwrap()
            .iter()
            .map(|p| (p.p_type(endian), p.p_offset(endian), p.p_filesz(endian)))
            .collect()
    };
    assert_eq!(segments(header, &bytes), segments(theirs, &runner), "the runner's program headers");
    assert_eq!(
        (header.e_entry(endian), header.e_type(endian)),
        (theirs.e_entry(endian), theirs.e_type(endian))
    );
    let report = wasmbake(&["inspect", tools.to_str().unwrap()]);
    assert!(text(&report.stdout).contains("bigcat (from bigcat.wat): artifact"), "{}", text(&report.stdout));
    assert!(text(&report.stdout).contains("memory images mapped from this file"), "{}", text(&report.stdout));

    // `--keep-runner-sections`: the runner's sections (its symbols), and
    // every program in place.
    let kept = dir.join("kept");
    exe(&[bigcat], &kept, &["--dir-ro", "/proc::/proc", "--keep-runner-sections"]);
    assert!(own_mappings(&kept, None).contains(memfd), "in place, its image copied");
    let kept = std::fs::read(&kept).unwrap();
    let header = object::elf::FileHeader64::<object::Endianness>::parse(&*kept).unwrap();
    let sections = header.sections(endian, &*kept).unwrap();
    assert!(sections.section_by_name(endian, b".wasmtime.info").is_none(), "the runner's sections");

    // A damaged section table (an output edited by other tools): the
    // program still runs, loaded in place.
    let mut damaged = bytes.clone();
    let (header, _) =
        object::from_bytes_mut::<object::elf::FileHeader64<object::LittleEndian>>(&mut damaged).unwrap();
    header.e_shoff.set(object::LittleEndian, u64::MAX);
    let edited = dir.join("edited");
    std::fs::write(&edited, &damaged).unwrap();
    std::fs::set_permissions(&edited, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let fallback = own_mappings(&edited, Some("bigcat"));
    assert!(fallback.contains(memfd), "in place, as before:\n{fallback}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Program headers of an ELF file: (has PT_INTERP, DT_NEEDED entries).
fn interpreter_and_needed(path: &Path) -> (bool, usize) {
    use object::read::elf::{Dyn as _, FileHeader as _, ProgramHeader as _};
    let data = std::fs::read(path).unwrap();
    let header = object::elf::FileHeader64::<object::Endianness>::parse(&*data).unwrap();
    let endian = header.endian().unwrap();
    let mut interp = false;
    let mut needed = 0;
    for segment in header.program_headers(endian, &*data).unwrap() {
        match segment.p_type(endian) {
            object::elf::PT_INTERP => interp = true,
            object::elf::PT_DYNAMIC => {
                if let Ok(Some(entries)) = segment.dynamic(endian, &*data) {
                    needed += entries.iter().filter(|d| d.d_tag(endian) == object::elf::DT_NEEDED).count();
                }
            }
            _ => {}
        }
    }
    (interp, needed)
}

/// `--static` when this `wasmbake` embeds a static runner (its build had
/// `WASMBAKE_RUNNERS=all` or `static`, as `cargo install` and CI's static
/// step have),
/// else nothing: the output is then dynamic, with the runner Cargo built
/// beside `wasmbake`, and says so.
fn static_flag() -> Option<&'static str> {
    if cfg!(wasmbake_static_runner) {
        return Some("--static");
    }
    eprintln!(
        "no static runner in this wasmbake (WASMBAKE_RUNNERS=all builds one): a dynamic output instead"
    );
    None
}

#[test]
#[cfg_attr(not(wasmbake_static_runner), ignore = "needs a static runner: WASMBAKE_RUNNERS=static (or all)")]
fn static_outputs_need_no_loader_and_no_library() {
    let dir = temp_dir("static");
    let out = dir.join("exit");
    exe(&[fixture("exit.wat")], &out, &["--static"]);
    assert_eq!(interpreter_and_needed(&out), (false, 0));
    use object::read::elf::FileHeader as _;
    let bytes = std::fs::read(&out).unwrap();
    let header = object::elf::FileHeader64::<object::LittleEndian>::parse(&*bytes).unwrap();
    assert_eq!(
        header.e_type(object::LittleEndian),
        object::elf::ET_EXEC,
        "not position-independent: nothing to relocate at start"
    );
    assert_eq!(run(&out, &[], &dir, b"").status.code(), Some(42));
    let symbols = std::fs::read(&out).unwrap();
    assert!(!symbols.windows(16).any(|w| w == b"cranelift_codege"), "the runner links no Cranelift");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn preinitialize_bakes_the_init_functions_state() {
    let dir = temp_dir("preinit");
    let (plain, preinit) = (dir.join("plain"), dir.join("preinit"));
    exe(&[fixture("preinit.wat")], &plain, &[]);
    exe(&[fixture("preinit.wat")], &preinit, &["--preinitialize"]);
    assert_eq!(run(&plain, &[], &dir, b"").status.code(), Some(0));
    assert_eq!(run(&preinit, &[], &dir, b"").status.code(), Some(7));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_one_line_exit_2_and_no_output() {
    let dir = temp_dir("bad");
    std::fs::write(dir.join("text.txt"), "hello, not a module").unwrap();
    std::fs::write(dir.join("component.wat"), "(component)").unwrap();
    let out = dir.join("out");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![dir.join("text.txt").display().to_string()], "invalid WebAssembly text"),
        (vec![dir.join("component.wat").display().to_string()], "not a WASI command component"),
        (vec![fixture("reactor.wat").display().to_string()], "exports no `_start`"),
        (vec![dir.join("absent.wasm").display().to_string()], "cannot read it"),
        (
            vec![fixture("exit.wat").display().to_string(), "--target".into(), "nonsense-cpu-os".into()],
            "nonsense-cpu-os",
        ),
        (vec![fixture("exit.wat").display().to_string(), "--bogus".into()], "unknown option --bogus"),
        (
            vec![fixture("exit.wat").display().to_string(), "--timeout".into(), "5".into()],
            "--timeout 5: give a unit",
        ),
        (
            vec![fixture("exit.wat").display().to_string(), "--timeout".into(), "0ms".into()],
            "a timeout of zero",
        ),
        (
            vec![fixture("exit.wat").display().to_string(), "--fuel".into(), "lots".into()],
            "--fuel lots: expected",
        ),
        (vec![fixture("exit.wat").display().to_string(), "--fuel".into(), "0".into()], "a fuel of zero"),
        (
            vec![fixture("exit.wat").display().to_string(), "--max-memory".into(), "3GB".into()],
            "--max-memory 3GB: unknown unit `GB`",
        ),
        (
            vec![fixture("exit.wat").display().to_string(), "--max-memory".into(), "1024T".into()],
            "more than any host",
        ),
        (vec![fixture("exit.wat").display().to_string(), "--preinitialize".into()], "cannot pre-initialise"),
        (
            vec![fixture("preinit.wat").display().to_string(), "--init-func".into(), "setup".into()],
            "--init-func needs --preinitialize",
        ),
        (
            vec![
                fixture("preinit.wat").display().to_string(),
                "--preinitialize".into(),
                "--init-arg".into(),
                "x".into(),
            ],
            "add --init-wasi",
        ),
    ];
    for (inputs, message) in cases {
        let mut args = vec!["exe".to_owned()];
        args.extend(inputs);
        args.extend(["-o".into(), out.display().to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = wasmbake(&args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?}: an output was left behind");
    }
    // An output that cannot be written: no file, no temporary file left.
    let unwritable = dir.join("no/such/dir/out");
    let output =
        wasmbake(&["exe", fixture("exit.wat").to_str().unwrap(), "-o", unwritable.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("cannot write"), "{}", text(&output.stderr));
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 2, "only the inputs remain: {left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn inspect_shows_a_module() {
    let module = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests-integration/fixtures/names.wat");
    let out = wasmbake(&["inspect", module.to_str().unwrap(), "--names", "--demangle"]);
    let report = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for expected in [
        "sections:",
        "custom \"name\"",
        "functions: 6 (1 imported, 5 defined)",
        "env::host_log (func)",
        "run (func)",
        "module `fixture`",
        "mycrate::inner::explode",
        "with names kept",
    ] {
        assert!(report.contains(expected), "missing {expected:?} in:\n{report}");
    }
    let json = wasmbake(&["inspect", module.to_str().unwrap(), "--json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["kind"], "module");
    assert_eq!(value["functions"]["defined"], 5);
    assert_eq!(value["name_section"]["names"], 6);
    assert!(
        value["artifact"]["names_kept"].as_u64().unwrap()
            > value["artifact"]["names_stripped"].as_u64().unwrap()
    );
}

#[test]
fn inspect_shows_a_component() {
    let component = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests-integration/fixtures/inventory.wat");
    let out = wasmbake(&["inspect", component.to_str().unwrap(), "--names"]);
    let report = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for expected in [
        "WebAssembly component",
        "2 core modules",
        "record item {",
        "import log: func(msg: string);",
        "export total: func(items: list<item>) -> u32;",
        "export shout: func(s: string) -> string;",
        "realloc",
    ] {
        assert!(report.contains(expected), "missing {expected:?} in:\n{report}");
    }
    let json = wasmbake(&["inspect", component.to_str().unwrap(), "--json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["kind"], "component");
    assert_eq!(value["core_modules"].as_array().unwrap().len(), 2);
    assert_eq!(value["core_modules"][1]["names"], 3, "the imported log, total and shout");
}

#[test]
fn inspect_lists_what_a_binary_carries() {
    // An `exe` output: its programs.
    let dir = temp_dir("inspect");
    let out = dir.join("box");
    exe(&[fixture("args.wat"), fixture("exit.wat")], &out, &[]);
    let report = wasmbake(&["inspect", out.to_str().unwrap(), "--json"]);
    let value: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let names: Vec<&str> =
        value["exe"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["args", "exit"]);

    // A binary with plugin descriptors in their section (an object file
    // standing in for a linked host binary).
    let descriptor = wasmbake_descriptor();
    let mut object = object::write::Object::new(
        object::BinaryFormat::Elf,
        object::Architecture::X86_64,
        object::Endianness::Little,
    );
    let section =
        object.add_section(Vec::new(), b".wasmbake.plugins".to_vec(), object::SectionKind::ReadOnlyData);
    object.append_section_data(section, &descriptor, 1);
    let path = dir.join("host.o");
    std::fs::write(&path, object.write().unwrap()).unwrap();
    let report = wasmbake(&["inspect", path.to_str().unwrap()]);
    let text = text(&report.stdout);
    assert!(report.status.success(), "{}", self::text(&report.stderr));
    assert!(text.contains("plugins baked in (1):") && text.contains("plugins/greet.wasm"), "{text}");
    assert!(text.contains("target x86_64-unknown-linux-gnu") && text.contains("Wasmtime 48.0.8"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A descriptor as the generated code writes it (format of
/// `wasmbake_compiler::descriptor`).
fn wasmbake_descriptor() -> Vec<u8> {
    let mut record = b"WBPD\x01\x00\x00\x00".to_vec();
    record.extend_from_slice(&[0; 8]);
    for value in [65536u64, 100, 0, 0] {
        record.extend_from_slice(&value.to_le_bytes());
    }
    for text in ["plugins/greet.wasm", "x86_64-unknown-linux-gnu", "has_sse3", "0.1.0", "48.0.8"] {
        record.extend_from_slice(&(text.len() as u16).to_le_bytes());
        record.extend_from_slice(text.as_bytes());
    }
    record.resize(record.len().next_multiple_of(8), 0);
    let len = record.len() as u32;
    record[8..12].copy_from_slice(&len.to_le_bytes());
    record
}

/// Each corpus command made with `wasmbake exe` prints its expected output
/// from an empty directory.
#[test]
fn corpus_commands_run_as_standalone_executables() {
    let Some(corpus) = corpus::require(&["hello-c.wasm", "avr-as.wasm", "flite.wasm"], "the corpus commands")
    else {
        return;
    };
    let dir = temp_dir("corpus");
    let empty = temp_dir("corpus-empty");
    let cases: [(&str, &[&str], &str); 3] = [
        ("hello-c", &["a", "b"], "hello from wasi, fib(25)=75025, argc=3"),
        ("avr-as", &["--version"], "GNU assembler (GNU Binutils) 2.42"),
        ("flite", &["-t", "hello world", "-ps", "-o", "none"], "pau hh ax l ow w er l d pau"),
    ];
    for (name, args, expected) in cases {
        let out = dir.join(name);
        exe(&[corpus.join(format!("{name}.wasm"))], &out, static_flag().as_slice());
        let run = run(&out, args, &empty, b"");
        assert!(run.status.success(), "{name}: {}", text(&run.stderr));
        assert!(text(&run.stdout).contains(expected), "{name}: {}", text(&run.stdout));
    }
    for d in [dir, empty] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// `exe` outputs map their code readable and executable from the start:
/// they run where no memory may become executable, static or not.
#[cfg(target_os = "linux")]
#[test]
fn outputs_run_in_hardened_processes() {
    use std::os::unix::process::CommandExt as _;
    let dir = temp_dir("hardened");
    use wasmbake_test_support::hardening;
    let mut cases: Vec<(PathBuf, &[&str], &str, Option<&str>)> = vec![
        (fixture("args.wat"), &["x"], "args\nx\n", None),
        (fixture("args.wat"), &["y"], "args\ny\n", static_flag()),
    ];
    if let Some(corpus) = corpus::require(&["hello-c.wasm", "avr-as.wasm"], "the corpus cases") {
        cases.extend([
            (
                corpus.join("hello-c.wasm"),
                &["a", "b"][..],
                "hello from wasi, fib(25)=75025, argc=3",
                static_flag(),
            ),
            (
                corpus.join("avr-as.wasm"),
                &["--version"][..],
                "GNU assembler (GNU Binutils) 2.42",
                static_flag(),
            ),
        ]);
    }
    let filter = hardening::memory_deny_write_execute();
    for (i, (input, args, expected, flag)) in cases.into_iter().enumerate() {
        let out = dir.join(format!("tool{i}"));
        exe(std::slice::from_ref(&input), &out, flag.as_slice());
        for how in ["mdwe", "seccomp"] {
            if how == "mdwe" && !hardening::mdwe_supported() {
                eprintln!("PR_SET_MDWE case skipped: this kernel has no PR_SET_MDWE (Linux >= 6.3)");
                continue;
            }
            let mut command = Command::new(&out);
            command.args(args).current_dir(&dir).env_clear();
            let filter = filter.clone();
            // SAFETY: the closures only make system calls (the filter was
            // built before the fork).
            unsafe {
                match how {
                    "mdwe" => command.pre_exec(hardening::refuse_exec_gain),
                    _ => command.pre_exec(move || hardening::apply(&filter)),
                };
            }
            let run = command.output().unwrap();
            let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
            assert!(run.status.success(), "{} under {how}: {stderr}", input.display());
            assert!(stdout.contains(expected), "{} under {how}: {stdout}", input.display());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
