//! `wasmbake exe`: precompiles WASI programs and appends them, with the
//! settings given here, to a copy of the prebuilt runner (the layout is
//! `wasmbake_runtime::__private::exe_payload`). No Rust is compiled: the runner was built
//! with `wasmbake` itself (build.rs).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use wasmbake_compiler::{Compiler, Cpu, Options};
use wasmbake_runtime::__private::exe_payload::{self as payload, DirAccess, Manifest, ToolParts};
use wasmbake_runtime::CodeSettings;

use crate::limits::Limits;
use crate::preinit::PreinitFlags;
use crate::{Args, Failure};

mod runners {
    include!(concat!(env!("OUT_DIR"), "/runners.rs"));
}

struct Request {
    inputs: Vec<PathBuf>,
    output: PathBuf,
    statically: bool,
    target: Option<String>,
    name: Option<String>,
    cpu: Cpu,
    settings: Manifest,
    limits: Limits,
    preinit: Option<wasmbake_compiler::Preinit>,
    runner: Option<PathBuf>,
    /// `--keep-runner-sections`: the output's section table stays the
    /// runner's, and every program loads in place.
    keep_runner_sections: bool,
}

fn parse(args: Vec<OsString>) -> Result<Request, Failure> {
    let mut args = Args::new(args);
    let mut request = Request {
        inputs: Vec::new(),
        output: PathBuf::new(),
        statically: false,
        target: None,
        name: None,
        cpu: Cpu::Baseline,
        settings: Manifest::default(),
        limits: Limits::default(),
        preinit: None,
        runner: None,
        keep_runner_sections: false,
    };
    let mut preinit = PreinitFlags::default();
    while let Some(arg) = args.next_arg() {
        match arg {
            Err(input) => request.inputs.push(input.into()),
            Ok(flag) => match flag.as_str() {
                "-o" | "--output" => request.output = args.value(&flag)?.into(),
                "--static" => request.statically = true,
                "--target" => request.target = Some(args.string(&flag)?),
                "--name" => request.name = Some(args.string(&flag)?),
                "--cpu" => {
                    let flags = args.string(&flag)?;
                    request.cpu =
                        Cpu::Flags(flags.split(',').filter(|f| !f.is_empty()).map(str::to_owned).collect());
                }
                "--env" => {
                    let pair = args.string(&flag)?;
                    let (key, value) = pair
                        .split_once('=')
                        .ok_or_else(|| Failure(format!("--env {pair}: expected KEY=VALUE")))?;
                    request.settings.env.push((key.to_owned(), value.to_owned()));
                }
                "--inherit-env" => request.settings.inherit_env = true,
                "--dir" | "--dir-ro" => {
                    let spec = args.string(&flag)?;
                    let (host, guest) = spec.split_once("::").unwrap_or((&spec, &spec));
                    let access = if flag == "--dir" { DirAccess::ReadWrite } else { DirAccess::ReadOnly };
                    request.settings.dirs.push((access, host.to_owned(), guest.to_owned()));
                }
                "--runner" => request.runner = Some(args.value(&flag)?.into()),
                "--keep-runner-sections" => request.keep_runner_sections = true,
                other if request.limits.take(other, || args.string(other))? => {}
                other if preinit.take(other, || args.string(other))? => {}
                other => return Err(Failure(format!("exe: unknown option {other}"))),
            },
        }
    }
    request.preinit = preinit.finish()?;
    if request.inputs.is_empty() {
        return Err(Failure("exe: no input (wasmbake exe INPUT.wasm... -o OUTPUT)".into()));
    }
    if request.output.as_os_str().is_empty() {
        return Err(Failure("exe: no output (-o OUTPUT)".into()));
    }
    if request.name.is_some() && request.inputs.len() > 1 {
        return Err(Failure(
            "exe: --name names the one program; with several, each is named after its file".into(),
        ));
    }
    Ok(request)
}

/// A baked program, checked to be a WASI command.
struct Baked {
    name: String,
    source: String,
    artifact: Vec<u8>,
    names: Vec<u8>,
    data_image: Option<(u64, u64)>,
    text: (u64, u64),
    /// A preview-2 command component.
    component: bool,
}

fn bake(compiler: &Compiler, input: &Path, name: Option<&str>, cache: &Path) -> Result<Baked, Failure> {
    let display = input.display().to_string();
    let fail = |message: String| Failure(format!("{display}: {message}"));
    let bytes = std::fs::read(input).map_err(|e| fail(format!("cannot read it: {e}")))?;
    // The checks `include_module!` (or `include_component!`) makes, and: a
    // command exports `_start` (a component: `wasi:cli/run`).
    let wasm = wasmbake_compiler::module_bytes(&bytes, &display).map_err(|e| Failure(e.one_line()))?;
    let kind = wasmbake_compiler::Kind::of(&wasm);
    wasmbake_compiler::validate_as(&wasm, &display, kind).map_err(|e| Failure(e.one_line()))?;
    let component = kind == wasmbake_compiler::Kind::Component;
    if component && !exports_run(&wasm) {
        return Err(fail("not a WASI command component: it exports no `wasi:cli/run`".into()));
    }
    if !component && !exports_start(&wasm) {
        return Err(fail("not a WASI command: it exports no `_start` function".into()));
    }
    let source = absolute(input);
    let baked = compiler
        .bake_kind(&source, &bytes, &display, cache, Some(kind))
        .map_err(|e| Failure(e.one_line()))?;
    let read =
        |path: &Path| std::fs::read(path).map_err(|e| fail(format!("cannot read {}: {e}", path.display())));
    let stem =
        input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "program".into());
    let artifact = read(&baked.artifact)?;
    let text = wasmbake_runtime::__private::text_range(&artifact)
        .ok_or_else(|| fail("the compiler's artifact has no code section".into()))?;
    Ok(Baked {
        name: name.map_or(stem, str::to_owned),
        source: input.file_name().map_or(display.clone(), |f| f.to_string_lossy().into_owned()),
        text,
        artifact,
        names: read(&baked.names)?,
        data_image: baked.data_image.map(|r| (r.start, r.end - r.start)),
        component,
    })
}

/// A core module that exports a `_start` function.
fn exports_start(module: &[u8]) -> bool {
    wasmparser::Parser::new(0).parse_all(module).any(|payload| match payload {
        Ok(wasmparser::Payload::ExportSection(exports)) => exports
            .into_iter()
            .flatten()
            .any(|e| e.name == "_start" && e.kind == wasmparser::ExternalKind::Func),
        _ => false,
    })
}

/// A component that exports `wasi:cli/run` (any 0.2 version) at its top
/// level (nested components' exports are theirs).
fn exports_run(component: &[u8]) -> bool {
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        match payload {
            Ok(wasmparser::Payload::ModuleSection { .. } | wasmparser::Payload::ComponentSection { .. }) => {
                depth += 1
            }
            Ok(wasmparser::Payload::End(_)) => depth = depth.saturating_sub(1),
            Ok(wasmparser::Payload::ComponentExportSection(exports))
                if depth == 0
                    && exports
                        .clone()
                        .into_iter()
                        .flatten()
                        .any(|e| e.name.name.starts_with("wasi:cli/run@0.2")) =>
            {
                return true;
            }
            _ => {}
        }
    }
    false
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// The runner to copy: `--runner`, else the one built with `wasmbake` for
/// the target (static or not), else, for a dynamic host program, the
/// `wasmbake-runner` beside this executable (a development build of
/// `wasmbake` embeds none: `target/debug/wasmbake-runner`).
fn runner(request: &Request, target: &str) -> Result<Vec<u8>, Failure> {
    if let Some(path) = &request.runner {
        return std::fs::read(path).map_err(|e| Failure(format!("--runner {}: {e}", path.display())));
    }
    let (kind, built) = match request.statically {
        true => ("static", runners::STATIC),
        false => ("dynamic", runners::DYNAMIC),
    };
    match built {
        Some((triple, bytes)) if triple == target => Ok(bytes.to_vec()),
        Some((triple, _)) => Err(Failure(format!(
            "no {kind} runner for {target}: this wasmbake has one for {triple} (build a runner for {target} with \
             `cargo build --release -p wasmbake-runner --target {target}` and pass it with --runner)"
        ))),
        // A development build: the dynamic host runner Cargo built beside it.
        None if !request.statically && target == wasmbake_compiler::Options::default().target() => {
            let beside = std::env::current_exe().ok().map(|exe| exe.with_file_name("wasmbake-runner"));
            match beside.filter(|b| b.is_file()) {
                Some(beside) => {
                    std::fs::read(&beside).map_err(|e| Failure(format!("{}: {e}", beside.display())))
                }
                None => Err(without_runner(kind, target)),
            }
        }
        None => Err(without_runner(kind, target)),
    }
}

fn without_runner(kind: &str, target: &str) -> Failure {
    Failure(format!(
        "no {kind} runner for {target}: this wasmbake was built without one (build it with \
         WASMBAKE_RUNNERS=all, as `cargo install` does; or pass --runner)"
    ))
}

pub fn run(args: Vec<OsString>) -> Result<(), Failure> {
    let request = parse(args)?;
    let target = match (&request.target, request.statically, runners::STATIC, runners::DYNAMIC) {
        (Some(target), _, _, _) => target.clone(),
        (None, true, Some((triple, _)), _) | (None, false, _, Some((triple, _))) => triple.to_owned(),
        (None, _, _, _) => wasmbake_compiler::Options::default().target(),
    };
    let runner = runner(&request, &target)?;
    // A timeout needs epoch-interruption checks in the code, fuel its
    // accounting: baked in only when asked for (they cost run time).
    let limits = request.limits;
    let settings = CodeSettings::DEFAULT
        .with_epoch_interruption(limits.timeout.is_some())
        .with_consume_fuel(limits.fuel.is_some());
    let options = Options {
        target: Some(target.clone()),
        cpu: request.cpu.clone(),
        settings,
        preinit: request.preinit.clone(),
    };
    let compiler = Compiler::new(&options).map_err(|e| Failure(e.one_line()))?;
    let cache = wasmbake_compiler::user_cache_dir();
    let mut baked = Vec::new();
    for input in &request.inputs {
        baked.push(bake(&compiler, input, request.name.as_deref(), &cache)?);
    }
    for (i, a) in baked.iter().enumerate() {
        if let Some(b) = baked[..i].iter().find(|b| b.name == a.name) {
            return Err(Failure(format!(
                "two programs would be named {}: {} and {}",
                a.name, b.source, a.source
            )));
        }
    }
    let tools: Vec<ToolParts<'_>> = baked
        .iter()
        .map(|b| ToolParts {
            name: &b.name,
            source: &b.source,
            artifact: &b.artifact,
            names: &b.names,
            data_image: b.data_image,
            text: b.text,
            component: b.component,
            settings,
        })
        .collect();
    let manifest = Manifest {
        timeout: limits.timeout,
        fuel: limits.fuel,
        max_memory: limits.max_memory,
        ..request.settings
    };
    let file_images = !request.keep_runner_sections;
    write_atomically(&request.output, |file| payload::write(file, &runner, &tools, &manifest, file_images))
}

/// Writes `output` through a temporary file beside it, renamed into place
/// once complete and executable: a failure leaves no partial file.
fn write_atomically(
    output: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<(), String>,
) -> Result<(), Failure> {
    let dir = output.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = output.file_name().ok_or_else(|| Failure(format!("{}: not a file name", output.display())))?;
    let tmp = dir.join(format!(".{}.wasmbake-{}", name.to_string_lossy(), std::process::id()));
    let cannot = |e: &dyn std::fmt::Display| Failure(format!("cannot write {}: {e}", output.display()));
    let result = (|| {
        let file = std::fs::File::create(&tmp).map_err(|e| cannot(&e))?;
        let mut out = std::io::BufWriter::new(file);
        write(&mut out).map_err(|e| cannot(&e))?;
        let file = out.into_inner().map_err(|e| cannot(&e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o755)).map_err(|e| cannot(&e))?;
        }
        drop(file);
        std::fs::rename(&tmp, output).map_err(|e| cannot(&e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
