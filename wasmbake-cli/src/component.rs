//! `wasmbake inspect` of a component: its core modules (each with its
//! names, as wasmbake bakes them) and its imports and exports as WIT.

use serde_json::{Value, json};
use wasmbake_compiler::NameTable;

use crate::Failure;
use crate::inspect::{Report, Request, kb};

pub fn component(request: &Request, bytes: &[u8], wasm: &[u8]) -> Result<Report, Failure> {
    let display = request.file.display().to_string();
    wasmbake_compiler::validate_as(wasm, &display, wasmbake_compiler::Kind::Component)
        .map_err(|e| Failure(e.one_line()))?;
    let ranges = wasmbake_compiler::component::core_modules(wasm)
        .map_err(|e| Failure(format!("{display}: {}", e.message())))?;
    let modules: Vec<(std::ops::Range<usize>, wasmbake_compiler::ReadNames)> =
        ranges.into_iter().map(|range| (range.clone(), NameTable::read(&wasm[range]))).collect();
    let wit = world(wasm).map_err(|e| Failure(format!("{display}: cannot read its world: {e}")))?;
    let show = |name: &str| if request.demangle { wasmbake_runtime::demangle(name) } else { name.to_owned() };

    let mut text = format!(
        "{display}: WebAssembly component, {}, {} core modules\n\ncore modules (Wasmtime's order):\n",
        kb(bytes.len() as u64),
        modules.len()
    );
    for (index, (range, read)) in modules.iter().enumerate() {
        text.push_str(&format!(
            "  {index:>3}: {:>10} at {:#x}, {} function names{}\n",
            kb(range.len() as u64),
            range.start,
            read.table.functions.len(),
            read.table.module.as_ref().map_or(String::new(), |m| format!(", module `{m}`"))
        ));
        if let Some(problem) = read.summary() {
            text.push_str(&format!("       {problem}\n"));
        }
        if request.names {
            for (i, name) in &read.table.functions {
                text.push_str(&format!("       {i:>8} {}\n", show(name)));
            }
        }
    }
    text.push_str("\nworld (imports and exports, as WIT):\n");
    for line in wit.lines() {
        text.push_str(&format!("  {line}\n"));
    }
    let json = json!({
        "file": display,
        "kind": "component",
        "size": bytes.len(),
        "core_modules": modules.iter().map(|(range, read)| json!({
            "offset": range.start,
            "size": range.len(),
            "module": read.table.module,
            "names": read.table.functions.len(),
            "problem": read.summary(),
            "functions": if request.names {
                Value::Array(read.table.functions.iter().map(|(i, n)| json!({"index": i, "name": show(n)})).collect())
            } else {
                Value::Null
            },
        })).collect::<Vec<_>>(),
        "wit": wit,
    });
    Ok(Report { text, json })
}

/// The component's world, printed as WIT.
fn world(wasm: &[u8]) -> Result<String, String> {
    let decoded = wit_parser::decoding::decode(wasm).map_err(|e| format!("{e:#}"))?;
    let wit_parser::decoding::DecodedWasm::Component(resolve, world) = decoded else {
        return Err("it is a WIT package, not a component".to_owned());
    };
    let package = resolve.worlds[world].package.ok_or("its world has no package")?;
    let mut printer = wit_component::WitPrinter::default();
    printer.print(&resolve, package, &[]).map_err(|e| format!("{e:#}"))?;
    Ok(printer.output.to_string())
}
