//! Section 8, hardened hosts: the same plugin baked the default way (the
//! artifact in read-only data, its code made executable at load with
//! `mprotect`) and with `executable_segment` (in the binary's executable
//! segment, published with no protection change). Two generated hosts per
//! module (`wbr-hard-<module>-{rodata,text}`, built like the section-4
//! hosts), run interleaved, a fresh process per sample: load and
//! instantiate + first call timed inside the process, the whole process
//! from outside, and each binary's size.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use std::fmt::Write as _;

use crate::stats::{Samples, bytes, ratio, signed_bytes, time};

pub struct Mode {
    pub load: Samples,
    pub first_call: Samples,
    pub whole: Samples,
    pub size: u64,
}

pub struct Row {
    pub module: String,
    pub default: Mode,
    pub executable: Mode,
}

/// A host that loads `module` baked with or without `executable_segment`,
/// prints "load <ns> first <ns>" and the first call's result.
fn host(root: &Path, module: &Path, executable: bool) -> PathBuf {
    let stem =
        module.file_stem().unwrap().to_string_lossy().replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    let package = format!("wbr-hard-{stem}-{}", if executable { "text" } else { "rodata" });
    let dir = root.join("target/wasmbake-report/hosts").join(&package);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), crate::process::manifest(root, &package, true, &[], "")).unwrap();
    std::fs::write(
        dir.join("build.rs"),
        format!(
            "fn main() {{\n    let builder = wasmbake_build::Builder::new().module({:?}).executable_segment({executable});\n    \
             if let Err(e) = builder.compile() {{\n        eprintln!(\"{{e}}\");\n        std::process::exit(1);\n    }}\n}}\n",
            module.to_string_lossy()
        ),
    )
    .unwrap();
    let name = wasmbake_build::static_name(module);
    std::fs::write(
        dir.join("src/main.rs"),
        format!(
            "wasmbake::include_plugins!();\n\n\
             fn main() {{\n    use wasmbake::wasmtime::{{Linker, Store}};\n    \
             let call = std::env::args().nth(1).unwrap_or_default();\n    \
             let engine = wasmbake::engine().unwrap();\n    \
             let start = std::time::Instant::now();\n    \
             let module = {name}.load(&engine).unwrap();\n    \
             let loaded = start.elapsed();\n    \
             let mut linker = Linker::new(&engine);\n    \
             linker.define_unknown_imports_as_traps(&module).unwrap();\n    \
             let mut store = Store::new(&engine, ());\n    \
             let instance = linker.instantiate(&mut store, &module).unwrap();\n    \
             let result = match call.as_str() {{\n        \
             \"add\" => instance.get_typed_func::<(i32, i32), i32>(&mut store, \"add\").unwrap().call(&mut store, (2, 3)).unwrap(),\n        \
             _ => 0,\n    }};\n    \
             let first = start.elapsed() - loaded;\n    \
             assert_eq!({name}.in_executable_segment(), {executable});\n    \
             println!(\"load {{}} first {{}} result {{result}}\", loaded.as_nanos(), first.as_nanos());\n}}\n"
        ),
    )
    .unwrap();
    crate::process::build_crate(root, &dir);
    root.join("target").join(crate::process::profile_dir()).join(&package)
}

/// Both hosts of `module` (`call`: "add" for the bundled plugin), `runs`
/// interleaved rounds after a warm-up round.
pub fn measure(root: &Path, label: &str, module: &Path, call: &str, runs: usize) -> Row {
    eprintln!("report: hardened hosts of {label}");
    let hosts = [host(root, module, false), host(root, module, true)];
    let mut samples: [[Vec<f64>; 3]; 2] = Default::default();
    for round in 0..=runs {
        for (host, samples) in hosts.iter().zip(samples.iter_mut()) {
            let start = Instant::now();
            let out = Command::new(host).arg(call).output().unwrap();
            let whole = start.elapsed().as_secs_f64();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{}: {}", host.display(), String::from_utf8_lossy(&out.stderr));
            let fields: Vec<&str> = stdout.split_whitespace().collect();
            let (load, first) = match fields.as_slice() {
                ["load", load, "first", first, "result", result] => {
                    assert_eq!(*result, if call == "add" { "5" } else { "0" }, "{}", host.display());
                    (load.parse::<f64>().unwrap() * 1e-9, first.parse::<f64>().unwrap() * 1e-9)
                }
                _ => panic!("{}: {stdout}", host.display()),
            };
            if round > 0 {
                samples[0].push(load);
                samples[1].push(first);
                samples[2].push(whole);
            }
        }
    }
    let [default, executable] = samples.map(|[load, first, whole]| (load, first, whole));
    let mode = |(load, first, whole): (Vec<f64>, Vec<f64>, Vec<f64>), host: &Path| Mode {
        load: Samples::new(load),
        first_call: Samples::new(first),
        whole: Samples::new(whole),
        size: std::fs::metadata(host).unwrap().len(),
    };
    Row {
        module: label.to_owned(),
        default: mode(default, &hosts[0]),
        executable: mode(executable, &hosts[1]),
    }
}

pub fn markdown(w: &mut String, rows: &[Row], runs: usize) {
    let _ = writeln!(
        w,
        "\n## 8. Hardened hosts\n\nThe same plugin baked the default way (artifact in read-only data, code made \
         executable at load with `mprotect`) and with `executable_segment` (artifact in the binary's executable \
         segment, no protection change: runs under `PR_SET_MDWE` and `MemoryDenyWriteExecute=yes`). Two host \
         binaries per module, a fresh process per sample, medians of {runs} interleaved runs; *load* and \
         *instantiate + first call* are timed inside the process (`wasmbake::engine()` made first, outside the \
         clock), *whole process* from spawn to exit. × = default ÷ executable segment.\n\n\
         | module | load: default | executable segment | × | instantiate + first call: default | executable segment | × | whole process: default | executable segment | × | binary: default | executable segment |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for row in rows {
        let (d, x) = (&row.default, &row.executable);
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} ({}) |",
            row.module,
            time(d.load.median()),
            time(x.load.median()),
            ratio(d.load.median(), x.load.median()),
            time(d.first_call.median()),
            time(x.first_call.median()),
            ratio(d.first_call.median(), x.first_call.median()),
            time(d.whole.median()),
            time(x.whole.median()),
            ratio(d.whole.median(), x.whole.median()),
            bytes(d.size),
            bytes(x.size),
            signed_bytes(x.size as i64 - d.size as i64),
        );
    }
}
