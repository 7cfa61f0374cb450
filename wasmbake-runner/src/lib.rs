//! The runner of `wasmbake exe`: a program built once, with wasmbake's
//! runtime and no compiler, that runs the WASI preview-1 programs
//! `wasmbake exe` appended to a copy of it (the layout is
//! `wasmbake_runtime`'s `exe_payload`, its one home).
//!
//! Run as `NAME ARGS…`: with one bundled program it always runs that one
//! (whatever the file is called), as `wasmtime run program.wasm ARGS…`
//! would; with several, it picks the one named like the file it was invoked
//! as (a link `avr-as -> box`), or the one its first argument names
//! (`box avr-as --version`). The program gets the arguments, stdin, stdout,
//! stderr, the environment and the directories `exe` was told to give it,
//! and nothing else, within the limits `exe` was given (`--timeout`,
//! `--fuel`, `--max-memory`); its exit status is the process's (134 after a
//! trap, whose backtrace names the program's functions; 124 after its
//! timeout). `WASMBAKE_RUNNER_TRACE=phases` times the steps of its start
//! (`trace`).

#![deny(missing_docs)]

mod map;
mod trace;

use std::ffi::OsString;
use std::path::Path;

use wasmbake::__private::exe_payload as payload;
use wasmbake::{Access, Command, ComponentNames, Embedded, EmbeddedComponent, Names};

/// The runner's `main`: never returns.
pub fn main() -> ! {
    let code = match run() {
        Ok(never) => match never {},
        Err(message) => {
            eprintln!("{message}");
            2
        }
    };
    std::process::exit(code)
}

enum Never {}

fn run() -> Result<Never, String> {
    let traced = trace::start();
    let exe =
        std::env::current_exe().map_err(|e| format!("wasmbake runner: cannot find its executable: {e}"))?;
    let manifest = payload::read_manifest(&exe).ok_or_else(|| {
        format!("wasmbake runner: {} carries no program (it is made by `wasmbake exe`)", exe.display())
    })?;
    let mut args = std::env::args_os();
    let invoked = args.next().unwrap_or_default();
    let invoked = Path::new(&invoked).file_name().map(OsString::from).unwrap_or_default();
    let args: Vec<OsString> = args.collect();
    let by_name =
        |name: &OsString| manifest.tools.iter().position(|t| name.to_str() == Some(t.name.as_str()));
    let (tool, rest) = match (manifest.tools.len(), by_name(&invoked)) {
        (1, _) => (0, &args[..]),
        (_, Some(tool)) => (tool, &args[..]),
        _ => match args.first().and_then(by_name) {
            Some(tool) => (tool, &args[1..]),
            None => {
                let names: Vec<&str> = manifest.tools.iter().map(|t| t.name.as_str()).collect();
                return Err(format!(
                    "usage: {} TOOL [ARG]...   (tools: {})",
                    invoked.to_string_lossy(),
                    names.join(", ")
                ));
            }
        },
    };
    let mut command = load(&exe, &manifest, tool)?;
    let tool = &manifest.tools[tool];
    command.arg0(&tool.name).args(rest).inherit_stdio();
    if manifest.inherit_env {
        command.inherit_env();
    }
    command.envs(manifest.env.iter().map(|(k, v)| (k, v)));
    for (access, host, guest) in &manifest.dirs {
        let access = match access {
            payload::DirAccess::ReadOnly => Access::ReadOnly,
            payload::DirAccess::ReadWrite => Access::ReadWrite,
        };
        command.preopened_dir(host, guest.as_str(), access);
    }
    if let Some(timeout) = manifest.timeout {
        command.timeout(timeout);
    }
    if let Some(fuel) = manifest.fuel {
        command.fuel(fuel);
    }
    if let Some(bytes) = manifest.max_memory {
        command.memory_limit(usize::try_from(bytes).unwrap_or(usize::MAX));
    }
    if let Some(started) = traced {
        return Err(trace::run(command, &tool.name, started));
    }
    let error = command.exec();
    Err(format!("{}: {error:#}", tool.name))
}

/// The `Embedded` of tool `index`, over the executable's own bytes.
fn load(exe: &Path, manifest: &payload::Manifest, index: usize) -> Result<Command, String> {
    let tool = &manifest.tools[index];
    let bad = || format!("wasmbake runner: the payload of {} is damaged", exe.display());
    let (start, end) = (tool.artifact.0, tool.names.0 + tool.names.1);
    let end = end.max(tool.artifact.0 + tool.artifact.1);
    let code = (tool.artifact.0 + tool.text.0, tool.text.1);
    let mapped = map::map(&exe.to_path_buf(), start, end, &[code]).map_err(|e| format!("{}: {e}", bad()))?;
    let slice = |(offset, len): (u64, u64)| -> Option<&'static [u8]> {
        mapped.get(usize::try_from(offset.checked_sub(start)?).ok()?..)?.get(..usize::try_from(len).ok()?)
    };
    let artifact = slice(tool.artifact).ok_or_else(bad)?;
    let names = slice(tool.names).ok_or_else(bad)?;
    let source: &'static str = Box::leak(tool.source.clone().into_boxed_str());
    let (image_at, image_len) = (tool.data_image.0 as usize, tool.data_image.1 as usize);
    // The tool the file header describes loads from the file (its memory
    // images mapped from it, not copied), through the link to this very
    // file, which cannot be replaced under the running process.
    let from_file = (manifest.file_images == Some(index) && cfg!(target_os = "linux"))
        .then_some((Path::new("/proc/self/exe"), tool.artifact.0));
    if tool.component {
        let names = ComponentNames::parse(names).ok_or_else(bad)?;
        // SAFETY: `exe` wrote the artifact, unmodified, at a 64 KiB-aligned
        // offset; `map` mapped it for good, read-only, its code pages
        // readable and executable from the start.
        let mut plugin = unsafe {
            EmbeddedComponent::from_mapped(source, artifact, names)
                .with_executable_segment()
                .with_code_settings(tool.settings)
        };
        if image_len > 0 {
            plugin = plugin.with_data_image(image_at, image_len);
        }
        if let Some((path, at)) = from_file {
            // SAFETY: `exe` wrote this file's header and section table to
            // describe this artifact at `at` (the `file-images` line); the
            // running executable is never written.
            plugin = unsafe { plugin.with_backing_file(path, at) };
        }
        return Ok(Box::leak(Box::new(plugin)).command());
    }
    let names = Names::parse(names).ok_or_else(bad)?;
    // SAFETY: `wasmbake exe` wrote the artifact, unmodified compiler output
    // for this wasmbake, at a 64 KiB offset of this executable, mapped here
    // read-only at a 64 KiB-aligned address for the life of the process,
    // its code pages (the artifact's `.text`, as `exe` found it) readable
    // and executable; the name table passed `Names::parse`.
    let mut plugin = unsafe {
        Embedded::from_mapped(source, artifact, names)
            .with_executable_segment()
            .with_code_settings(tool.settings)
    };
    if image_len > 0 {
        plugin = plugin.with_data_image(image_at, image_len);
    }
    if let Some((path, at)) = from_file {
        // SAFETY: as for a component, above.
        plugin = unsafe { plugin.with_backing_file(path, at) };
    }
    Ok(Box::leak(Box::new(plugin)).command())
}
