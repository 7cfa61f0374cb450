//! A host program with a bundled plugin: `cargo run --example hello`.

use wasmbake::wasmtime::{Instance, Store};

static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("greet.wat");

fn main() -> wasmbake::wasmtime::Result<()> {
    let engine = wasmbake::engine()?;
    let (module, kind) = PLUGIN.load_with_kind(&engine)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;

    let greet = instance.get_typed_func::<(), (i32, i32)>(&mut store, "greet")?;
    let (ptr, len) = greet.call(&mut store, ())?;
    let memory = instance.get_memory(&mut store, "memory").expect("plugin exports memory");
    let greeting = &memory.data(&store)[ptr as usize..][..len as usize];
    println!(
        "{} ({kind:?} load, {} bytes of artifact)",
        String::from_utf8_lossy(greeting),
        PLUGIN.artifact().len()
    );

    let fib = instance.get_typed_func::<i32, i32>(&mut store, "fib")?;
    let fib_index = PLUGIN.names().index_of("fib").expect("fib is named");
    println!(
        "fib(20) = {} (function {fib_index} is `{}`)",
        fib.call(&mut store, 20)?,
        PLUGIN.names().name_of(fib_index).unwrap_or("?")
    );

    let validate = instance.get_typed_func::<i32, ()>(&mut store, "validate")?;
    let trap = validate.call(&mut store, -1).expect_err("validate(-1) traps");
    print!("{}", PLUGIN.render_error(&trap));
    Ok(())
}
