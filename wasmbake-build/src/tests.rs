use std::path::{Path, PathBuf};

use crate::*;

#[test]
fn static_names() {
    assert_eq!(static_name(Path::new("plugins/greet-v2.wasm")), "GREET_V2");
    assert_eq!(static_name(Path::new("a/b.c.wat")), "B_C");
    assert_eq!(static_name(Path::new("9lives.wasm")), "_9LIVES");
    assert_eq!(static_name(Path::new("héllo.wasm")), "H_LLO");
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmbake-build-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("plugins")).unwrap();
    std::fs::create_dir_all(dir.join("out")).unwrap();
    dir
}

const TARGET: &str = "x86_64-unknown-linux-gnu";

#[test]
fn second_build_recompiles_nothing_and_an_edit_recompiles_one() {
    let dir = temp("cache");
    std::fs::write(dir.join("plugins/a.wat"), "(module (func $a (export \"a\")))").unwrap();
    std::fs::write(dir.join("plugins/b-2.wat"), "(module (func $b (export \"b\")))").unwrap();
    std::fs::write(dir.join("plugins/notes.txt"), "not a plugin").unwrap();
    let builder = Builder::new().dir("plugins");
    let build = || builder.compile_into(&dir, &dir.join("out"), TARGET, &dir.join("cache")).unwrap();

    let first = build();
    assert_eq!(first.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["A", "B_2"]);
    assert!(first.iter().all(|p| !p.cache_hit));
    let generated = std::fs::read_to_string(dir.join("out").join(OUT_FILE)).unwrap();
    assert!(generated.contains("pub static A: ::wasmbake::Embedded ="));
    assert!(generated.contains("pub static B_2: ::wasmbake::Embedded ="));

    assert!(build().iter().all(|p| p.cache_hit), "an unchanged build recompiled something");

    std::fs::write(dir.join("plugins/b-2.wat"), "(module (func $b2 (export \"b\")))").unwrap();
    let third = build();
    assert!(third[0].cache_hit);
    assert!(!third[1].cache_hit);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_threshold_picks_link_objects_unless_told_otherwise() {
    let dir = temp("threshold");
    std::fs::write(dir.join("plugins/p.wat"), "(module (func $f (export \"f\")))").unwrap();
    let objects = |builder: Builder| -> Vec<bool> {
        let plugins = builder.compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c")).unwrap();
        plugins.iter().map(|p| p.object.as_ref().is_some_and(|o| o.is_file())).collect()
    };
    let builder = || Builder::new().dir("plugins");
    assert_eq!(objects(builder()), [false], "a tiny artifact is below the default threshold");
    assert_eq!(objects(builder().link_object_threshold(1)), [true]);
    assert_eq!(objects(builder().link_object_threshold(1).link_object(false)), [false]);
    assert_eq!(objects(builder().link_object(true)), [true]);
    // An executable segment for COFF can only be linked.
    let windows = |builder: Builder| -> Vec<bool> {
        let out = dir.join("out-windows");
        std::fs::create_dir_all(&out).unwrap();
        let plugins = builder.compile_into(&dir, &out, "x86_64-pc-windows-msvc", &dir.join("c")).unwrap();
        plugins.iter().map(|p| p.object.as_ref().is_some_and(|o| o.is_file())).collect()
    };
    assert_eq!(windows(builder().executable_segment(true).link_object(false)), [true]);
    assert_eq!(windows(builder().executable_segment(false)), [false]);
    let generated = std::fs::read_to_string(dir.join("out").join(OUT_FILE)).unwrap();
    assert!(generated.contains("#[link_name"), "a linked plugin is declared as an extern static");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every kind of bad plugin in one folder: one line each, all of them in
/// one run, each naming its file; nothing written.
#[cfg(unix)]
#[test]
fn every_bad_plugin_of_a_folder_is_reported_in_one_run() {
    use std::os::unix::ffi::OsStrExt;
    let dir = temp("every-bad");
    let plugins = dir.join("plugins");
    let valid = wat::parse_str("(module (func (export \"f\") (result i32) i32.const 1))").unwrap();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("body.wat", b"(module (func (result i32) i64.const 1))".to_vec()),
        // (Components bake beside modules; an invalid one is reported.)
        ("component.wat", b"(component (core module (func (result i32))))".to_vec()),
        ("empty.wasm", Vec::new()),
        ("feature.wat", b"(module (memory 1 (pagesize 1)))".to_vec()),
        ("magic.wasm", b"\0asX\x01\0\0\0".to_vec()),
        ("text.wat", b"(module (func i32.bogus))".to_vec()),
        ("truncated.wasm", valid[..valid.len() - 4].to_vec()),
        ("version.wasm", b"\0asm\x02\0\0\0".to_vec()),
    ];
    for (name, bytes) in &files {
        std::fs::write(plugins.join(name), bytes).unwrap();
    }
    std::fs::create_dir(plugins.join("dir.wasm")).unwrap();
    std::os::unix::fs::symlink("loop.wasm", plugins.join("loop.wasm")).unwrap();
    let non_utf8 = plugins.join(std::ffi::OsStr::from_bytes(b"caf\xe9.wat"));
    std::fs::write(&non_utf8, "(module)").unwrap();
    std::fs::write(plugins.join("good.wat"), "(module)").unwrap();

    let builder = Builder::new().dir("plugins").module("plugins/../plugins/nope.wasm");
    let lines =
        builder.compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c")).unwrap_err().lines().to_vec();
    let expect = [
        ("plugins/body.wat", "invalid WebAssembly in plugins/body.wat at byte offset"),
        ("plugins/caf\u{fffd}.wat", "the path is not valid UTF-8"),
        ("plugins/component.wat", "invalid WebAssembly in plugins/component.wat at byte offset"),
        ("plugins/dir.wasm", "Is a directory"),
        ("plugins/empty.wasm", "is an empty file"),
        (
            "plugins/feature.wat",
            "uses a WebAssembly feature that wasmbake's Wasmtime configuration does not enable",
        ),
        ("plugins/loop.wasm", "Too many levels of symbolic links"),
        ("plugins/magic.wasm", "at byte offset 0x0: magic header not detected"),
        ("plugins/text.wat", "invalid WebAssembly text"),
        ("plugins/truncated.wasm", "unexpected end-of-file"),
        ("plugins/version.wasm", "at byte offset 0x4: unknown binary version"),
        ("plugins/../plugins/nope.wasm", "wasm file not found"),
    ];
    assert_eq!(lines.len(), expect.len(), "{lines:#?}");
    for (line, (file, message)) in lines.iter().zip(expect) {
        assert!(line.starts_with(&format!("wasmbake: {file}: ")), "{line}");
        assert!(line.contains(message), "{line} lacks {message:?}");
        assert!(!line.contains('\n'), "one line each: {line}");
    }
    assert!(!dir.join("out").join(OUT_FILE).exists(), "no output after an error");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A malformed name section: a warning line and the readable names by
/// default, an error in strict mode.
#[test]
fn malformed_names_warn_or_fail_in_strict_mode() {
    let dir = temp("names");
    // Names for functions 0 and 9 of a two-function module: 9 is skipped.
    std::fs::write(
        dir.join("plugins/named.wat"),
        r#"(module (func) (func) (@custom "name" (after code) "\01\07\02\00\01a\09\01z"))"#,
    )
    .unwrap();
    let plugins =
        Builder::new().dir("plugins").compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c")).unwrap();
    let problem = plugins[0].name_problem.as_deref().unwrap();
    assert!(problem.contains("function index 9 is out of range"), "{problem}");
    // The same from the cache.
    let plugins =
        Builder::new().dir("plugins").compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c")).unwrap();
    assert!(plugins[0].cache_hit && plugins[0].name_problem.as_deref() == Some(problem));

    let strict = Builder::new().dir("plugins").strict_names(true);
    let lines =
        strict.compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c")).unwrap_err().lines().to_vec();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("wasmbake: plugins/named.wat: malformed name section: function index 9"));
    assert!(lines[0].ends_with("(strict mode)"), "{}", lines[0]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn errors_name_the_file_one_line_each() {
    let dir = temp("errors");
    std::fs::write(dir.join("plugins/bad.wat"), "(module (func i32.bogus))").unwrap();
    std::fs::write(dir.join("plugins/good.wat"), "(module)").unwrap();
    std::fs::write(dir.join("plugins/trunc.wasm"), b"\0asm\x01\0\0\0\x01").unwrap();
    let err = Builder::new().dir("plugins").compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c"));
    let err = err.unwrap_err();
    assert_eq!(format!("{err:?}"), err.to_string(), "`main` returning Err prints Debug: plain lines too");
    let lines: Vec<String> = err.lines().to_vec();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("wasmbake: plugins/bad.wat: invalid WebAssembly text"), "{}", lines[0]);
    assert!(lines[1].starts_with("wasmbake: plugins/trunc.wasm: invalid WebAssembly"), "{}", lines[1]);
    assert!(!dir.join("out").join(OUT_FILE).exists(), "no output after an error");

    let err = Builder::new().module("plugins/good.wat").module("other/good.wasm");
    std::fs::create_dir_all(dir.join("other")).unwrap();
    std::fs::copy(dir.join("plugins/trunc.wasm"), dir.join("other/good.wasm")).unwrap();
    let lines =
        err.compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c")).unwrap_err().lines().to_vec();
    assert_eq!(
        lines,
        ["wasmbake: plugins/good.wat and other/good.wasm would both be named GOOD: rename one"]
    );

    let missing = Builder::new().dir("nope").compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c"));
    assert!(missing.unwrap_err().to_string().starts_with("wasmbake: plugin folder "));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_crate_path_that_is_not_a_path_is_an_error() {
    let dir = temp("crate-path");
    std::fs::write(dir.join("plugins/a.wat"), "(module)").unwrap();
    let builder = Builder::new().dir("plugins").crate_path("not a path!");
    let lines =
        builder.compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c")).unwrap_err().lines().to_vec();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("wasmbake: crate_path \"not a path!\" is not a Rust path"), "{lines:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compile_into_names_link_objects_from_its_inputs_not_cargo() {
    // Its inputs are explicit: run outside a build script (no OUT_DIR, no
    // CARGO_PKG_NAME), the link objects are named from the crate folder.
    let dir = temp("pure");
    std::fs::write(dir.join("plugins/a.wat"), "(module (func (export \"f\")))").unwrap();
    let builder = Builder::new().dir("plugins").link_object(true);
    let plugins = builder.compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c")).unwrap();
    let object = plugins[0].object.as_ref().unwrap().file_name().unwrap().to_string_lossy().into_owned();
    let folder = dir.file_name().unwrap().to_string_lossy().replace('-', "_");
    assert!(object.starts_with(&format!("wasmbake_{folder}_")), "{object}");
    let named = builder.package("host", "1.0.0").compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c"));
    let object =
        named.unwrap()[0].object.as_ref().unwrap().file_name().unwrap().to_string_lossy().into_owned();
    assert!(object.starts_with("wasmbake_host_"), "{object}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn preinitialize_bakes_snapshots_and_names_each_plugin_that_fails() {
    let dir = temp("preinit");
    let init = "(module (global $g (mut i32) (i32.const 0)) (func (export \"wizer.initialize\") (global.set $g (i32.const 1))) \
                (func (export \"get\") (result i32) (global.get $g)))";
    std::fs::write(dir.join("plugins/ready.wat"), init).unwrap();
    std::fs::write(dir.join("plugins/plain.wat"), "(module (func (export \"f\")))").unwrap();
    std::fs::write(
        dir.join("plugins/traps.wat"),
        "(module (func (export \"wizer.initialize\") unreachable))",
    )
    .unwrap();
    let builder = Builder::new().dir("plugins").preinitialize(true);
    let lines =
        builder.compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c")).unwrap_err().lines().to_vec();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with(
            "wasmbake: plugins/plain.wat: cannot pre-initialise plugins/plain.wat: it exports no `wizer.initialize`"
        ),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with(
            "wasmbake: plugins/traps.wat: cannot pre-initialise plugins/traps.wat: its init function `wizer.initialize` trapped"
        ),
        "{}",
        lines[1]
    );

    std::fs::remove_file(dir.join("plugins/plain.wat")).unwrap();
    std::fs::remove_file(dir.join("plugins/traps.wat")).unwrap();
    let plugins = builder.compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c")).unwrap();
    assert_eq!(plugins.len(), 1);
    // Turned off, the same folder bakes the module as it is: another entry.
    let plain = Builder::new().dir("plugins").preinitialize(false);
    let again = plain.compile_into(&dir, &dir.join("out"), TARGET, &dir.join("c")).unwrap();
    assert!(!again[0].cache_hit, "pre-initialisation is part of the cache key");
    let _ = std::fs::remove_dir_all(&dir);
}
