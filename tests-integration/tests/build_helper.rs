//! Plugins baked by `build.rs` with wasmbake-build, included with
//! `include_plugins!`: the statics exist, carry their names, and run.

use wasmbake::wasmtime::{Instance, Store};

wasmbake::include_plugins!();

#[test]
fn folder_plugins_are_statics_named_from_their_files() {
    assert_eq!(GREET_V2.source(), "plugins/greet-v2.wat");
    assert_eq!(MATH.source(), "plugins/math.wat");
    assert_eq!(GREET_V2.names().module_name(), Some("greet_v2"));
    assert_eq!(MATH.names().index_of("square"), Some(0));
    assert_eq!(MATH.names().name_of(1), Some("boom"));
}

#[test]
fn folder_plugins_load_and_run() {
    let engine = wasmbake::engine().unwrap();
    let module = MATH.load(&engine).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let square = instance.get_typed_func::<i32, i32>(&mut store, "square").unwrap();
    assert_eq!(square.call(&mut store, 12).unwrap(), 144);
    let boom = instance.get_typed_func::<(), ()>(&mut store, "boom").unwrap();
    let rendered = MATH.render_error(&boom.call(&mut store, ()).unwrap_err());
    assert!(rendered.contains("math!boom (function 1)"), "{rendered}");
    assert!(GREET_V2.load(&engine).is_ok());
}

/// The crate as a framework would re-export it.
mod reexported {
    pub use wasmbake;
}

mod through_reexport {
    wasmbake::include_plugins!("reexported.rs");
}

/// `Builder::crate_path` names the crate in every path of the generated
/// file, as the macro's `crate = …` does.
#[test]
fn the_generated_file_names_the_crate_as_told() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/reexported.rs"));
    assert!(generated.contains("crate::reexported::wasmbake::Embedded"), "{generated}");
    assert!(generated.contains("crate::reexported::wasmbake::__private::"), "{generated}");
    assert!(!generated.contains(" ::wasmbake::"), "{generated}");
    assert_eq!(through_reexport::MATH.names().index_of("square"), Some(0));
}
