//! Plugin sets that `build.rs` bakes with wasmbake-build beyond the
//! default one: cross-compiled artifacts, a Pulley fallback (of modules and
//! components), link objects.

use object::{Architecture, Object as _};
use wasmbake::wasmtime::{Instance, Module, Store};
use wasmbake::{LoadKind, engine};

mod aarch64 {
    wasmbake::include_plugins!("aarch64.rs");
}
mod riscv64 {
    wasmbake::include_plugins!("riscv64.rs");
}
mod fallback {
    wasmbake::include_plugins!("fallback.rs");
}
mod linked {
    wasmbake::include_plugins!("linked.rs");
}

fn square(module: &Module, x: i32) -> i32 {
    let mut store = Store::new(module.engine(), ());
    let instance = Instance::new(&mut store, module, &[]).unwrap();
    instance.get_typed_func::<i32, i32>(&mut store, "square").unwrap().call(&mut store, x).unwrap()
}

fn architecture(artifact: &[u8]) -> Architecture {
    object::File::parse(artifact).unwrap().architecture()
}

#[test]
fn cross_compiled_artifacts_name_their_machine() {
    assert_eq!(architecture(aarch64::MATH.artifact()), Architecture::Aarch64);
    assert_eq!(architecture(riscv64::MATH.artifact()), Architecture::Riscv64);
    // The name table does not depend on the target.
    assert_eq!(aarch64::MATH.names().index_of("square"), Some(0));
    assert_eq!(riscv64::MATH.names().name_of(1), Some("boom"));
}

#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "the foreign architectures are chosen for an x86-64 host")]
fn foreign_artifacts_are_a_clear_error_here() {
    let engine = engine().unwrap();
    for plugin in [&aarch64::MATH, &riscv64::MATH] {
        let message = format!("{:#}", plugin.load(&engine).unwrap_err());
        assert!(message.contains("plugins/math.wat"), "{message}");
        assert!(message.contains("compiled for"), "{message}");
        assert!(plugin.load_detailed(&engine).is_err(), "an error is not cached as a success");
    }
}

#[test]
fn a_foreign_artifact_falls_back_to_pulley_and_says_so() {
    let native = fallback::MATH.artifact();
    assert_ne!(architecture(native), architecture(linked::MATH.artifact()), "the native artifact is foreign");
    let pulley = fallback::MATH.pulley_artifact().expect("baked with fallback_pulley(true)");
    assert_eq!(pulley.as_ptr() as usize % 65536, 0, "the Pulley artifact is 64 KiB-aligned");

    let engine = engine().unwrap();
    let loaded = fallback::MATH.load_detailed(&engine).unwrap();
    assert!(loaded.is_pulley());
    assert!(loaded.module().engine().is_pulley());
    assert_eq!(loaded.kind(), LoadKind::InPlace);
    let reason = loaded.fallback_reason().expect("a fallback says why");
    assert!(reason.contains("compiled for"), "{reason}");
    assert_eq!(square(loaded.module(), 9), 81);

    // A second engine falls back to the same Pulley module.
    let again = fallback::MATH.load_detailed(&wasmbake::engine().unwrap()).unwrap();
    assert!(Module::same(again.module(), loaded.module()));
    assert!(again.fallback_reason().is_some());

    // Plugins without a fallback still run natively, and say so. (Not
    // `linked::MATH`: its first in-place load belongs to the test below.)
    let native = linked::GREET_V2.load_detailed(&engine).unwrap();
    assert!(!native.is_pulley() && native.fallback_reason().is_none());
}

/// The README's first example (`load`, then `Store::new(&engine)` and
/// `Instance::new`) on a host where only the Pulley fallback can run: `load`
/// never hands back a module of another engine, it says what to call; the
/// fallback-aware call works with the engine it names.
#[test]
fn load_refuses_a_fallback_of_another_engine_and_says_what_to_call() {
    let engine = engine().unwrap();
    let message = format!("{:#}", fallback::MATH.load(&engine).unwrap_err());
    for expected in ["plugins/math.wat", "Pulley fallback", "load_detailed", "Loaded::engine()"] {
        assert!(message.contains(expected), "{expected}: {message}");
    }
    assert!(fallback::MATH.load_with_kind(&engine).is_err());
    let loaded = fallback::MATH.load_detailed(&engine).unwrap();
    let mut store = Store::new(loaded.engine(), ());
    let instance = Instance::new(&mut store, loaded.module(), &[]).unwrap();
    let square = instance.get_typed_func::<i32, i32>(&mut store, "square").unwrap();
    assert_eq!(square.call(&mut store, 12).unwrap(), 144);
    // Asked of the Pulley engine itself, the fallback is that engine's.
    let pulley = wasmbake::pulley_engine().unwrap();
    assert!(wasmbake::wasmtime::Engine::same(fallback::MATH.load(&pulley).unwrap().engine(), &pulley));
    // A native plugin's module is always the engine's own.
    assert!(wasmbake::wasmtime::Engine::same(linked::GREET_V2.load(&engine).unwrap().engine(), &engine));
}

#[test]
fn linked_objects_load_in_place_and_run() {
    // Only this test loads `linked::MATH`, so its first load is in place.
    for plugin in [&linked::MATH, &linked::GREET_V2] {
        let artifact = plugin.artifact();
        assert_eq!(
            artifact.as_ptr() as usize % 65536,
            0,
            "{}: the linker kept the alignment",
            plugin.source()
        );
        assert!(artifact.starts_with(b"\x7fELF"));
    }
    let engine = engine().unwrap();
    let (module, kind) = linked::MATH.load_with_kind(&engine).unwrap();
    assert_eq!(kind, LoadKind::InPlace);
    assert_eq!(square(&module, 12), 144);
    assert_eq!(linked::MATH.names().index_of("square"), Some(0));
    assert_eq!(linked::GREET_V2.names().module_name(), Some("greet_v2"));
    // The linked artifact is the same bytes the default set embeds.
    #[allow(dead_code, reason = "only MATH is compared")]
    mod default {
        wasmbake::include_plugins!();
    }
    assert_eq!(linked::MATH.artifact(), default::MATH.artifact());
}

/// Components baked with a Pulley fallback: `load` refuses the other
/// engine's component and says what to call; `load_detailed` runs it on
/// Pulley; a command component runs there too, its trap still named.
mod components {
    use wasmbake::wasmtime::Store;
    use wasmbake::wasmtime::component::Linker;
    use wasmbake::{LoadKind, TRAP_EXIT_CODE, engine};

    wasmbake::include_plugins!("fallback_components.rs");

    #[test]
    fn a_foreign_component_falls_back_to_pulley_and_says_so() {
        assert!(GUEST.pulley_artifact().is_some_and(|p| (p.as_ptr() as usize).is_multiple_of(65536)));
        let engine = engine().unwrap();
        let message = format!("{:#}", GUEST.load(&engine).unwrap_err());
        for expected in ["fixtures/guest.wat", "Pulley fallback", "load_detailed", "Loaded::engine()"] {
            assert!(message.contains(expected), "{expected}: {message}");
        }
        let loaded = GUEST.load_detailed(&engine).unwrap();
        assert!(loaded.is_pulley() && loaded.component().engine().is_pulley());
        assert_eq!(loaded.kind(), LoadKind::InPlace);
        assert!(loaded.fallback_reason().is_some_and(|r| r.contains("compiled for")));
        let mut store = Store::new(loaded.engine(), ());
        let instance = Linker::new(loaded.engine()).instantiate(&mut store, loaded.component()).unwrap();
        let run = instance.get_typed_func::<(i32,), (i32,)>(&mut store, "run").unwrap();
        assert_eq!(run.call(&mut store, (0,)).unwrap(), (1,));
        // Asked of the Pulley engine itself, the fallback is that engine's.
        let pulley = wasmbake::pulley_engine().unwrap();
        assert!(wasmbake::wasmtime::Engine::same(GUEST.load(&pulley).unwrap().engine(), &pulley));
    }

    #[test]
    fn a_command_component_runs_on_its_fallback_with_named_traps() {
        let out = P2_TRAP.command().output().unwrap();
        assert_eq!((out.status.trapped(), out.status.code()), (true, TRAP_EXIT_CODE));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("wasm `unreachable` instruction executed"), "{stderr}");
        assert!(stderr.contains("!boom (function 0)"), "{stderr}");
    }
}
