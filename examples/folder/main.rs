//! A host with a folder of plugins: `cargo run -p wasmbake-examples --example folder`.
//!
//! `examples/build.rs` bakes every file in `examples/plugins/` with
//! wasmbake-build (native code for Cargo's target plus a Pulley fallback);
//! `include_plugins!` turns them into one static per plugin.

use wasmbake::wasmtime::{Instance, Store};

wasmbake::include_plugins!();

fn main() -> wasmbake::wasmtime::Result<()> {
    let engine = wasmbake::engine()?;

    let calc = CALC.load_detailed(&engine)?;
    let backend = if calc.is_pulley() { "Pulley fallback" } else { "native" };
    let mut store = Store::new(calc.module().engine(), ());
    let instance = Instance::new(&mut store, calc.module(), &[])?;
    let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add")?;
    let mul = instance.get_typed_func::<(i32, i32), i32>(&mut store, "mul")?;
    println!(
        "{}: add(2, 3) = {}, mul(6, 7) = {} ({backend}, {:?} load; exports `{}` and `{}`)",
        CALC.source(),
        add.call(&mut store, (2, 3))?,
        mul.call(&mut store, (6, 7))?,
        calc.kind(),
        CALC.names().name_of(0).unwrap_or("?"),
        CALC.names().name_of(1).unwrap_or("?"),
    );

    let shout = SHOUT.load(&engine)?;
    let mut store = Store::new(shout.engine(), ());
    let instance = Instance::new(&mut store, &shout, &[])?;
    let memory = instance.get_memory(&mut store, "memory").expect("plugin exports memory");
    let text = b"baked plugins, zero start-up";
    memory.write(&mut store, 0, text)?;
    let len = text.len() as i32;
    instance.get_typed_func::<(i32, i32), ()>(&mut store, "shout")?.call(&mut store, (0, len))?;
    println!("{}: {}", SHOUT.source(), String::from_utf8_lossy(&memory.data(&store)[..text.len()]));
    Ok(())
}
