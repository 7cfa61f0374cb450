//! A JavaScript plugin made from the corpus's QuickJS-NG reactor
//! (`qjs-reactor.wasm`), to measure pre-initialisation on a real
//! interpreter.
//!
//! The reactor exports `qjs_init_argv(argc, argv)` (the `qjs` command line:
//! `-e SCRIPT` evaluates a script in a fresh runtime and context) and
//! `qjs_get_context()`, but nothing that takes no arguments, as an init
//! function must, and no way to evaluate more code after it. [`plugin`]
//! adds both, and moves no existing index:
//!
//! - `wizer.initialize`, a new function at the end: `malloc`s `argv` for
//!   `qjs -e SCRIPT`, writes it, calls `qjs_init_argv`, and traps if that
//!   fails;
//! - an export `JS_Eval` of QuickJS's own function of that name (found in
//!   the name section), so the host can evaluate code in the context.

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    CodeSection, ExportKind, ExportSection, Function, FunctionSection, Instruction, MemArg, Module,
};
use wasmparser::{Name, Parser, Payload};

/// What the plugin's init function evaluates: the set-up of a plugin that
/// answers look-ups, 20,000 entries built once.
pub const SCRIPT: &str = "const index = new Map(); \
    for (let i = 0; i < 20000; i++) index.set('w' + (i * 7919 % 10007), i); \
    globalThis.lookup = (w) => index.get(w);";

/// The first call a host makes, and what it prints.
pub const FIRST_CALL: (&str, &str) = ("console.log(lookup('w42'))", "16362\n");

/// For build scripts: when the corpus has `qjs-reactor.wasm`, writes the
/// [`plugin`] of [`SCRIPT`] to `OUT_DIR/qjs.wasm` and bakes it twice, as
/// it is (`qjs_cold.rs`) and pre-initialised (`qjs_preinit.rs`: QuickJS
/// reads its environment while it starts, so the init function gets WASI),
/// and sets the `wasmbake_quickjs` cfg. Exits the build script on an error.
#[cfg(feature = "bake")]
pub fn bake() {
    println!("cargo::rustc-check-cfg=cfg(wasmbake_quickjs)");
    let Some(reactor) = crate::corpus::file("qjs-reactor.wasm") else {
        println!(
            "cargo::warning=qjs-reactor.wasm is not in the corpus: the QuickJS pre-initialisation rows are skipped"
        );
        return;
    };
    let fail = |e: String| -> ! {
        eprintln!("{e}");
        std::process::exit(1)
    };
    let bytes = std::fs::read(&reactor).unwrap_or_else(|e| fail(format!("{}: {e}", reactor.display())));
    let wasm = plugin(&bytes, SCRIPT).unwrap_or_else(|e| fail(e));
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("run from a build script"))
        .join("qjs.wasm");
    // (Written only when it changes, as the helper reruns the script when
    // its plugins are newer.)
    if std::fs::read(&out).ok().as_deref() != Some(wasm.as_slice()) {
        std::fs::write(&out, &wasm).unwrap_or_else(|e| fail(format!("{}: {e}", out.display())));
    }
    let preinit =
        wasmbake_build::Preinit { init_func: None, wasi: Some(wasmbake_build::InitWasi::default()) };
    let sets = [
        wasmbake_build::Builder::new().module(&out).out_file("qjs_cold.rs"),
        wasmbake_build::Builder::new().module(&out).preinitialize_with(preinit).out_file("qjs_preinit.rs"),
    ];
    for set in sets {
        if let Err(e) = set.compile() {
            fail(e.to_string());
        }
    }
    println!("cargo::rustc-cfg=wasmbake_quickjs");
}

/// Evaluates `code` in the plugin's QuickJS context (through its exported
/// `JS_Eval`) and returns all it has printed so far; `init`
/// first runs the init function, as a plugin that was not pre-initialised
/// must before its first call.
#[cfg(feature = "quickjs-host")]
pub fn eval(reactor: &mut wasmbake::Reactor, init: bool, code: &str) -> wasmbake::wasmtime::Result<String> {
    if init {
        reactor.call::<(), ()>("wizer.initialize", ())?;
    }
    let context = reactor.call::<(), i32>("qjs_get_context", ())?;
    let source = format!("{code}\0<first call>\0");
    let at = reactor.call::<i32, i32>("malloc", source.len() as i32)?;
    let memory =
        reactor.instance().get_memory(reactor.store(), "memory").expect("QuickJS exports its memory");
    memory.write(reactor.store(), at as usize, source.as_bytes())?;
    let filename = at + code.len() as i32 + 1;
    // (The value is the script's completion value; its output is the result.)
    let _value: i64 = reactor.call("JS_Eval", (context, at, code.len() as i32, filename, 0))?;
    let seen = reactor.stdout();
    Ok(String::from_utf8_lossy(&seen).into_owned())
}

/// `qjs-reactor.wasm` with `wizer.initialize` evaluating `script`, and
/// `JS_Eval` exported (see the module docs).
pub fn plugin(reactor: &[u8], script: &str) -> Result<Vec<u8>, String> {
    let find = Finder::new(reactor)?;
    let (malloc, init_argv, eval) =
        (find.export("malloc")?, find.export("qjs_init_argv")?, find.named("JS_Eval")?);

    // argv at the start of one allocation, the strings after it.
    let args = ["qjs", "-e", script];
    let mut strings = Vec::new();
    let mut offsets = Vec::new();
    let table = 4 * (args.len() + 1);
    for arg in args {
        offsets.push(table + strings.len());
        strings.extend_from_slice(arg.as_bytes());
        strings.push(0);
    }
    let total = table + strings.len();
    let mut body = Function::new([(1, wasm_encoder::ValType::I32)]);
    let base = 0;
    let byte = MemArg { offset: 0, align: 0, memory_index: 0 };
    let word = MemArg { offset: 0, align: 2, memory_index: 0 };
    body.instruction(&Instruction::I32Const(total as i32));
    body.instruction(&Instruction::Call(malloc));
    body.instruction(&Instruction::LocalSet(base));
    for (i, offset) in offsets.iter().enumerate() {
        body.instruction(&Instruction::LocalGet(base));
        body.instruction(&Instruction::LocalGet(base));
        body.instruction(&Instruction::I32Const(*offset as i32));
        body.instruction(&Instruction::I32Add);
        body.instruction(&Instruction::I32Store(MemArg { offset: 4 * i as u64, ..word }));
    }
    for (i, b) in strings.iter().enumerate() {
        body.instruction(&Instruction::LocalGet(base));
        body.instruction(&Instruction::I32Const(i32::from(*b)));
        body.instruction(&Instruction::I32Store8(MemArg { offset: (table + i) as u64, ..byte }));
    }
    body.instruction(&Instruction::I32Const(args.len() as i32));
    body.instruction(&Instruction::LocalGet(base));
    body.instruction(&Instruction::Call(init_argv));
    body.instruction(&Instruction::If(wasm_encoder::BlockType::Empty));
    body.instruction(&Instruction::Unreachable);
    body.instruction(&Instruction::End);
    body.instruction(&Instruction::End);

    let new_func = find.functions;
    let mut module = Module::new();
    let mut reencoder = RoundtripReencoder;
    for payload in Parser::new(0).parse_all(reactor) {
        let payload = payload.map_err(|e| e.to_string())?;
        let error = |e: wasm_encoder::reencode::Error| e.to_string();
        match payload {
            Payload::TypeSection(reader) => {
                let mut types = wasm_encoder::TypeSection::new();
                reencoder.parse_type_section(&mut types, reader).map_err(error)?;
                types.ty().function([], []);
                module.section(&types);
            }
            Payload::FunctionSection(reader) => {
                let mut functions = FunctionSection::new();
                reencoder.parse_function_section(&mut functions, reader).map_err(error)?;
                functions.function(find.types);
                module.section(&functions);
            }
            Payload::ExportSection(reader) => {
                let mut exports = ExportSection::new();
                reencoder.parse_export_section(&mut exports, reader).map_err(error)?;
                exports.export("wizer.initialize", ExportKind::Func, new_func);
                exports.export("JS_Eval", ExportKind::Func, eval);
                module.section(&exports);
            }
            Payload::CodeSectionStart { range, .. } => {
                let mut code = CodeSection::new();
                let reader = wasmparser::CodeSectionReader::new(wasmparser::BinaryReader::new(
                    &reactor[range.start..range.end],
                    range.start,
                ))
                .map_err(|e| e.to_string())?;
                for body in reader {
                    let body = body.map_err(|e| e.to_string())?;
                    code.raw(&reactor[body.range()]);
                }
                code.function(&body);
                module.section(&code);
            }
            Payload::CodeSectionEntry(_) | Payload::Version { .. } | Payload::End(_) => {}
            other => {
                if let Some((id, range)) = other.as_section() {
                    module.section(&wasm_encoder::RawSection { id, data: &reactor[range] });
                }
            }
        }
    }
    Ok(module.finish())
}

/// What [`plugin`] looks up in the reactor.
struct Finder<'a> {
    wasm: &'a [u8],
    /// The number of types (the new function's type index).
    types: u32,
    /// The number of functions, imported ones included (the new one's index).
    functions: u32,
}

impl<'a> Finder<'a> {
    fn new(wasm: &'a [u8]) -> Result<Finder<'a>, String> {
        let (mut types, mut functions) = (0, 0);
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.map_err(|e| e.to_string())? {
                Payload::TypeSection(reader) => types = reader.count(),
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import.map_err(|e| e.to_string())?;
                        functions += u32::from(matches!(import.ty, wasmparser::TypeRef::Func(_)));
                    }
                }
                Payload::FunctionSection(reader) => functions += reader.count(),
                _ => {}
            }
        }
        Ok(Finder { wasm, types, functions })
    }

    /// The index of the exported function `name`.
    fn export(&self, name: &str) -> Result<u32, String> {
        for payload in Parser::new(0).parse_all(self.wasm).flatten() {
            if let Payload::ExportSection(reader) = payload {
                for export in reader.into_iter().flatten() {
                    if export.name == name && export.kind == wasmparser::ExternalKind::Func {
                        return Ok(export.index);
                    }
                }
            }
        }
        Err(format!("the QuickJS reactor exports no `{name}`"))
    }

    /// The index of the function the name section calls `name`.
    fn named(&self, name: &str) -> Result<u32, String> {
        for payload in Parser::new(0).parse_all(self.wasm).flatten() {
            if let Payload::CustomSection(section) = payload
                && let wasmparser::KnownCustom::Name(names) = section.as_known()
            {
                for subsection in names.into_iter().flatten() {
                    if let Name::Function(map) = subsection {
                        for naming in map.into_iter().flatten() {
                            if naming.name == name {
                                return Ok(naming.index);
                            }
                        }
                    }
                }
            }
        }
        Err(format!("the QuickJS reactor's name section has no `{name}`"))
    }
}
