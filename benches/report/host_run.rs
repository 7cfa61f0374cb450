// Shared by the report's generated host programs (`include!`d by their
// `main.rs`) and its compile-at-start host (`--host-compile`): instantiate
// the plugin (imports it needs are stubs that trap if called) and make the
// first call: `add(2, 3)` when the plugin exports `add`.
fn run(engine: &wasmbake::wasmtime::Engine, module: &wasmbake::wasmtime::Module, call: &str) {
    let mut linker = wasmbake::wasmtime::Linker::new(engine);
    linker.define_unknown_imports_as_traps(module).unwrap();
    let mut store = wasmbake::wasmtime::Store::new(engine, ());
    let instance = linker.instantiate(&mut store, module).unwrap();
    if call == "add" {
        let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add").unwrap();
        println!("add(2, 3) = {}", add.call(&mut store, (2, 3)).unwrap());
    } else {
        println!("instantiated");
    }
}
