//! `wasmbake exe`: precompiles WASI programs and appends them, with the
//! settings given here, to a copy of the prebuilt runner (the layout is
//! `wasmbake_runner::payload`). No Rust is compiled: the runner was built
//! with `wasmbake` itself (build.rs).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use wasmbake_compiler::{Compiler, Cpu, Options};
use wasmbake_runner::payload::{self, DirAccess, Manifest, ToolParts};

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
    runner: Option<PathBuf>,
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
        runner: None,
    };
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
                other => return Err(Failure(format!("exe: unknown option {other}"))),
            },
        }
    }
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

/// The cache of baked artifacts: `WASMBAKE_CACHE_DIR`, else the user's
/// cache directory.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WASMBAKE_CACHE_DIR") {
        return dir.into();
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("wasmbake")
}

/// A baked program, checked to be a WASI command.
struct Baked {
    name: String,
    source: String,
    artifact: Vec<u8>,
    names: Vec<u8>,
    data_image: Option<(u64, u64)>,
    text: (u64, u64),
}

/// Where an artifact (a Wasmtime ELF image) has its code: the file range of
/// its `.text`, which Wasmtime page-aligns.
fn text_range(artifact: &[u8]) -> Option<(u64, u64)> {
    use object::{Object as _, ObjectSection as _};
    let file = object::File::parse(artifact).ok()?;
    file.section_by_name(".text")?.file_range()
}

fn bake(compiler: &Compiler, input: &Path, name: Option<&str>, cache: &Path) -> Result<Baked, Failure> {
    let display = input.display().to_string();
    let fail = |message: String| Failure(format!("{display}: {message}"));
    let bytes = std::fs::read(input).map_err(|e| fail(format!("cannot read it: {e}")))?;
    // The checks `include_module!` makes, and: a command exports `_start`.
    let wasm = wasmbake_compiler::module_bytes(&bytes, &display).map_err(|e| Failure(e.one_line()))?;
    wasmbake_compiler::validate(&wasm, &display).map_err(|e| Failure(e.one_line()))?;
    let exports_start = wasmparser::Parser::new(0).parse_all(&wasm).any(|payload| match payload {
        Ok(wasmparser::Payload::ExportSection(exports)) => exports
            .into_iter()
            .flatten()
            .any(|e| e.name == "_start" && e.kind == wasmparser::ExternalKind::Func),
        _ => false,
    });
    if !exports_start {
        return Err(fail("not a WASI command: it exports no `_start` function".into()));
    }
    let source = absolute(input);
    let baked = compiler.bake_bytes(&source, &bytes, &display, cache).map_err(|e| Failure(e.one_line()))?;
    let read =
        |path: &Path| std::fs::read(path).map_err(|e| fail(format!("cannot read {}: {e}", path.display())));
    let stem =
        input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "program".into());
    let artifact = read(&baked.artifact)?;
    let text =
        text_range(&artifact).ok_or_else(|| fail("the compiler's artifact has no code section".into()))?;
    Ok(Baked {
        name: name.map_or(stem, str::to_owned),
        source: input.file_name().map_or(display.clone(), |f| f.to_string_lossy().into_owned()),
        text,
        artifact,
        names: read(&baked.names)?,
        data_image: baked.data_image.map(|r| (r.start, r.end - r.start)),
    })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// The runner to copy: `--runner`, else the one built with `wasmbake` for
/// the target (static or not).
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
        None => Err(Failure(format!(
            "this wasmbake was built without a {kind} runner (see the warning of its build; or pass --runner)"
        ))),
    }
}

pub fn run(args: Vec<OsString>) -> Result<(), Failure> {
    let request = parse(args)?;
    let target = match (&request.target, request.statically, runners::STATIC, runners::DYNAMIC) {
        (Some(target), _, _, _) => target.clone(),
        (None, true, Some((triple, _)), _) | (None, false, _, Some((triple, _))) => triple.to_owned(),
        (None, _, _, _) => wasmbake_compiler::Options::default().target(),
    };
    let runner = runner(&request, &target)?;
    let options = Options { target: Some(target.clone()), cpu: request.cpu.clone() };
    let compiler = Compiler::new(&options).map_err(|e| Failure(e.one_line()))?;
    let cache = cache_dir();
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
        })
        .collect();
    write_atomically(&request.output, |file| payload::write(file, &runner, &tools, &request.settings))
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
