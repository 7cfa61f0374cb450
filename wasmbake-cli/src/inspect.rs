//! `wasmbake inspect`: what is inside a WebAssembly module, or which
//! plugins a binary built with wasmbake carries (its plugin descriptors,
//! `wasmbake_compiler::descriptor`, and an `exe` payload).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use wasmbake_compiler::{Compiler, Descriptor, NameTable, Options};

use crate::component::component;
use crate::{Args, Failure};

pub(crate) struct Request {
    pub file: PathBuf,
    pub names: bool,
    pub demangle: bool,
    pub json: bool,
}

pub fn run(args: Vec<OsString>) -> Result<(), Failure> {
    let mut args = Args::new(args);
    let mut request = Request { file: PathBuf::new(), names: false, demangle: false, json: false };
    while let Some(arg) = args.next_arg() {
        match arg {
            Err(file) if request.file.as_os_str().is_empty() => request.file = file.into(),
            Err(extra) => return Err(Failure(format!("inspect: one file at a time ({extra:?})"))),
            Ok(flag) => match flag.as_str() {
                "--names" => request.names = true,
                "--demangle" => request.demangle = true,
                "--json" => request.json = true,
                other => return Err(Failure(format!("inspect: unknown option {other}"))),
            },
        }
    }
    if request.file.as_os_str().is_empty() {
        return Err(Failure("inspect: no file (wasmbake inspect FILE)".into()));
    }
    let bytes =
        std::fs::read(&request.file).map_err(|e| Failure(format!("{}: {e}", request.file.display())))?;
    // A native binary is one `object` recognises; anything else is read
    // as a module (text or binary), whose errors say what is wrong.
    let report = match bytes.starts_with(b"\0asm") || object::FileKind::parse(&*bytes).is_err() {
        true => wasm(&request, &bytes)?,
        false => binary(&request.file, &bytes)?,
    };
    match request.json {
        true => println!("{}", serde_json::to_string_pretty(&report.json).expect("JSON values print")),
        false => print!("{}", report.text),
    }
    Ok(())
}

pub(crate) struct Report {
    pub text: String,
    pub json: Value,
}

pub(crate) fn kb(n: u64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.1} kB", n as f64 / 1e3),
        n => format!("{n} B"),
    }
}

fn kind(kind: wasmparser::ExternalKind) -> &'static str {
    match kind {
        wasmparser::ExternalKind::Func | wasmparser::ExternalKind::FuncExact => "func",
        wasmparser::ExternalKind::Table => "table",
        wasmparser::ExternalKind::Memory => "memory",
        wasmparser::ExternalKind::Global => "global",
        wasmparser::ExternalKind::Tag => "tag",
    }
}

fn type_ref_kind(ty: &wasmparser::TypeRef) -> &'static str {
    match ty {
        wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_) => "func",
        wasmparser::TypeRef::Table(_) => "table",
        wasmparser::TypeRef::Memory(_) => "memory",
        wasmparser::TypeRef::Global(_) => "global",
        wasmparser::TypeRef::Tag(_) => "tag",
    }
}

/// A WebAssembly file: a module's report or a component's.
fn wasm(request: &Request, bytes: &[u8]) -> Result<Report, Failure> {
    let display = request.file.display().to_string();
    let wasm = wasmbake_compiler::module_bytes(bytes, &display).map_err(|e| Failure(e.one_line()))?;
    match wasmbake_compiler::Kind::of(&wasm) {
        wasmbake_compiler::Kind::Module => module(request, bytes, &wasm),
        wasmbake_compiler::Kind::Component => component(request, bytes, &wasm),
    }
}

/// A module: sections, imports, exports, functions, names, and what its
/// artifact weighs with and without names (precompiled for this host,
/// through the cache).
fn module(request: &Request, bytes: &[u8], wasm: &[u8]) -> Result<Report, Failure> {
    let display = request.file.display().to_string();
    wasmbake_compiler::validate(wasm, &display).map_err(|e| Failure(e.one_line()))?;
    let mut sections: Vec<(String, u64)> = Vec::new();
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    let (mut imported_functions, mut defined_functions, mut name_section) = (0u64, 0u64, 0u64);
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| Failure(format!("{display}: {}", e.message())))?;
        if let Some((id, range)) = payload.as_section() {
            let name = match &payload {
                wasmparser::Payload::CustomSection(c) => format!("custom \"{}\"", c.name()),
                _ => section_name(id).to_owned(),
            };
            sections.push((name, range.len() as u64));
        }
        match payload {
            wasmparser::Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(|e| Failure(e.message().to_owned()))?;
                    if matches!(import.ty, wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_)) {
                        imported_functions += 1;
                    }
                    imports.push(json!({"module": import.module, "name": import.name, "kind": type_ref_kind(&import.ty)}));
                }
            }
            wasmparser::Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(|e| Failure(e.message().to_owned()))?;
                    exports.push(json!({"name": export.name, "kind": kind(export.kind)}));
                }
            }
            wasmparser::Payload::FunctionSection(reader) => defined_functions += u64::from(reader.count()),
            wasmparser::Payload::CustomSection(c) if c.name() == "name" => {
                name_section += c.data().len() as u64
            }
            _ => {}
        }
    }
    let read = NameTable::read(wasm);
    let show = |name: &str| if request.demangle { wasmbake_runtime::demangle(name) } else { name.to_owned() };
    let mut largest: Vec<(u32, &String)> = read.table.functions.iter().map(|(&i, n)| (i, n)).collect();
    largest.sort_by_key(|(i, n)| (std::cmp::Reverse(n.len()), *i));
    largest.truncate(5);
    let (stripped, kept) = artifact_sizes(&request.file, bytes, wasm, &display)?;

    let mut text = format!("{display}: WebAssembly module, {}\n\nsections:\n", kb(bytes.len() as u64));
    for (name, size) in &sections {
        text.push_str(&format!("  {name:<28} {:>10}\n", kb(*size)));
    }
    text.push_str(&format!(
        "\nfunctions: {} ({imported_functions} imported, {defined_functions} defined)\n",
        imported_functions + defined_functions
    ));
    text.push_str(&format!("imports: {}\n", imports.len()));
    for import in &imports {
        text.push_str(&format!(
            "  {}::{} ({})\n",
            import["module"].as_str().unwrap_or(""),
            import["name"].as_str().unwrap_or(""),
            import["kind"].as_str().unwrap_or("")
        ));
    }
    text.push_str(&format!("exports: {}\n", exports.len()));
    for export in &exports {
        text.push_str(&format!(
            "  {} ({})\n",
            export["name"].as_str().unwrap_or(""),
            export["kind"].as_str().unwrap_or("")
        ));
    }
    text.push_str(&format!(
        "\nname section: {}, {} function names{}\n",
        kb(name_section),
        read.table.functions.len(),
        read.table.module.as_ref().map_or(String::new(), |m| format!(", module `{m}`"))
    ));
    if let Some(problem) = read.summary() {
        text.push_str(&format!("  {problem}\n"));
    }
    for (index, name) in &largest {
        text.push_str(&format!("  largest: {} bytes, function {index}: {}\n", name.len(), show(name)));
    }
    text.push_str(&format!(
        "\nartifact (precompiled for {}): {} as wasmbake bakes it (names stripped), {} with names kept\n",
        Options::default().target(),
        kb(stripped),
        kb(kept)
    ));
    if request.names {
        text.push_str("\nnames:\n");
        for (index, name) in &read.table.functions {
            text.push_str(&format!("  {index:>8} {}\n", show(name)));
        }
    }
    let json = json!({
        "file": display,
        "kind": "module",
        "size": bytes.len(),
        "sections": sections.iter().map(|(n, s)| json!({"name": n, "size": s})).collect::<Vec<_>>(),
        "functions": {"imported": imported_functions, "defined": defined_functions},
        "imports": imports,
        "exports": exports,
        "name_section": {
            "size": name_section,
            "names": read.table.functions.len(),
            "module": read.table.module,
            "problem": read.summary(),
            "largest": largest.iter().map(|(i, n)| json!({"index": i, "name": show(n), "bytes": n.len()})).collect::<Vec<_>>(),
        },
        "artifact": {"target": Options::default().target(), "names_stripped": stripped, "names_kept": kept},
        "names": if request.names {
            Value::Array(read.table.functions.iter().map(|(i, n)| json!({"index": i, "name": show(n)})).collect())
        } else {
            Value::Null
        },
    });
    Ok(Report { text, json })
}

fn section_name(id: u8) -> &'static str {
    match id {
        1 => "type",
        2 => "import",
        3 => "function",
        4 => "table",
        5 => "memory",
        6 => "global",
        7 => "export",
        8 => "start",
        9 => "element",
        10 => "code",
        11 => "data",
        12 => "data count",
        13 => "tag",
        _ => "other",
    }
}

/// The artifact's size as wasmbake bakes it, and with names kept: both
/// through the cache (the second as a `.kept-size` file beside the entry).
fn artifact_sizes(file: &Path, bytes: &[u8], wasm: &[u8], display: &str) -> Result<(u64, u64), Failure> {
    let compiler = Compiler::new(&Options::default()).map_err(|e| Failure(e.one_line()))?;
    let cache = wasmbake_compiler::user_cache_dir();
    let source = std::path::absolute(file).unwrap_or_else(|_| file.to_owned());
    let baked = compiler.bake_bytes(&source, bytes, display, &cache).map_err(|e| Failure(e.one_line()))?;
    let stripped = std::fs::metadata(&baked.artifact)?.len();
    let kept_file = baked.artifact.with_extension("kept-size");
    let kept = match std::fs::read_to_string(&kept_file).ok().and_then(|s| s.trim().parse().ok()) {
        Some(kept) => kept,
        None => {
            let kept = compiler.precompile_unstripped(wasm, display).map_err(|e| Failure(e.one_line()))?.len()
                as u64;
            let _ = std::fs::write(&kept_file, kept.to_string());
            kept
        }
    };
    Ok((stripped, kept))
}

/// A binary: the plugins its descriptors list, and the programs of an
/// `exe` payload.
fn binary(file: &Path, bytes: &[u8]) -> Result<Report, Failure> {
    use object::{Object as _, ObjectSection as _};
    let display = file.display().to_string();
    let object = object::File::parse(bytes).map_err(|e| Failure(format!("{display}: {e}")))?;
    let mut descriptors = Vec::new();
    for section in object.sections() {
        let name = section.name().unwrap_or("");
        let segment = section.segment_name().ok().flatten().unwrap_or("");
        let ours =
            name == ".wasmbake.plugins" || (segment == "__DATA" && name == "__wasmbake") || name == ".wbplug";
        if ours {
            let data = section.data().map_err(|e| Failure(format!("{display}: {e}")))?;
            descriptors.extend(
                Descriptor::decode_all(data)
                    .ok_or_else(|| Failure(format!("{display}: a plugin descriptor is damaged")))?,
            );
        }
    }
    let manifest = wasmbake_runtime::__private::exe_payload::read_manifest(file);
    let mut text = format!("{display}: {:?} binary\n", object.format());
    if descriptors.is_empty() && manifest.is_none() {
        text.push_str("no plugin baked by wasmbake\n");
    }
    if !descriptors.is_empty() {
        text.push_str(&format!("\nplugins baked in ({}):\n", descriptors.len()));
        for d in &descriptors {
            text.push_str(&format!(
                "  {}{}\n    target {}, CPU {}{}\n    artifact {}{}, name table {}{}{}\n    wasmbake {}, Wasmtime {}\n",
                d.source,
                if d.component { " (component)" } else { "" },
                d.target,
                if d.cpu.is_empty() { "baseline" } else { &d.cpu },
                match (d.epoch_interruption, d.consume_fuel) {
                    (false, false) => "",
                    (true, false) => ", epoch interruption",
                    (false, true) => ", fuel",
                    (true, true) => ", epoch interruption, fuel",
                },
                kb(d.artifact_len),
                if d.linked { " (linked object)" } else { "" },
                kb(d.names_len),
                if d.pulley_len > 0 { format!(", Pulley fallback {}", kb(d.pulley_len)) } else { String::new() },
                if d.data_image_len > 0 { format!(", memory data {}", kb(d.data_image_len)) } else { String::new() },
                d.wasmbake,
                d.wasmtime
            ));
        }
    }
    if let Some(manifest) = &manifest {
        text.push_str(&format!("\nprograms of a `wasmbake exe` payload ({}):\n", manifest.tools.len()));
        for (i, tool) in manifest.tools.iter().enumerate() {
            text.push_str(&format!(
                "  {} (from {}): artifact {}, name table {}{}{}\n{}",
                tool.name,
                tool.source,
                kb(tool.artifact.1),
                kb(tool.names.1),
                if tool.settings.epoch_interruption { ", epoch interruption" } else { "" },
                if tool.settings.consume_fuel { ", fuel" } else { "" },
                match manifest.file_images == Some(i) {
                    true =>
                        "    memory images mapped from this file (its ELF sections are this artifact's)\n",
                    false => "",
                },
            ));
        }
        let limits: Vec<String> = [
            manifest.timeout.map(|t| format!("timeout {t:?}")),
            manifest.fuel.map(|f| format!("fuel {f}")),
            manifest.max_memory.map(|m| format!("max memory {m} bytes")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !limits.is_empty() {
            text.push_str(&format!("  limits of every run: {}\n", limits.join(", ")));
        }
    }
    let json = json!({
        "file": display,
        "kind": "binary",
        "plugins": descriptors.iter().map(|d| json!({
            "source": d.source, "target": d.target, "cpu": d.cpu,
            "artifact": d.artifact_len, "names": d.names_len, "pulley": d.pulley_len,
            "data_image": d.data_image_len, "linked": d.linked, "executable": d.executable,
            "component": d.component,
            "epoch_interruption": d.epoch_interruption, "consume_fuel": d.consume_fuel,
            "wasmbake": d.wasmbake, "wasmtime": d.wasmtime,
        })).collect::<Vec<_>>(),
        "exe": manifest.as_ref().map(|m| m.tools.iter().enumerate().map(|(i, t)| json!({
            "name": t.name, "source": t.source, "artifact": t.artifact.1, "names": t.names.1,
            "epoch_interruption": t.settings.epoch_interruption, "consume_fuel": t.settings.consume_fuel,
            "file_images": m.file_images == Some(i),
        })).collect::<Vec<_>>()),
        "exe_limits": manifest.as_ref().map(|m| json!({
            "timeout_ns": m.timeout.map(|t| t.as_nanos() as u64), "fuel": m.fuel, "max_memory": m.max_memory,
        })),
    });
    Ok(Report { text, json })
}
