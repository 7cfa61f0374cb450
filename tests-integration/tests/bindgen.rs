//! Wasmtime's own `bindgen!`, through wasmbake's re-exported Wasmtime, on a
//! baked component: strings both ways, a list of records, a host import.

use wasmbake::wasmtime::Store;
use wasmbake::wasmtime::component::{HasSelf, Linker};
use wasmbake::{EmbeddedComponent, include_component};

wasmbake::wasmtime::component::bindgen!({
    world: "inventory",
    path: "wit",
    wasmtime_crate: wasmbake::wasmtime,
});

// Checked at compile time against the same WIT world `bindgen!` reads.
static INVENTORY: EmbeddedComponent = include_component!("fixtures/inventory.wat", world = "inventory");

/// What the guest logged through its import.
#[derive(Default)]
struct Host {
    logged: Vec<String>,
}

impl InventoryImports for Host {
    fn log(&mut self, msg: String) {
        self.logged.push(msg);
    }
}

#[test]
fn bindgen_calls_a_baked_component() {
    let engine = wasmbake::engine().unwrap();
    let component = INVENTORY.load(&engine).unwrap();
    let mut linker = Linker::new(&engine);
    Inventory::add_to_linker::<_, HasSelf<_>>(&mut linker, |host| host).unwrap();
    let mut store = Store::new(&engine, Host::default());
    let inventory = Inventory::instantiate(&mut store, &component, &linker).unwrap();

    let items = [Item { name: "apples".into(), count: 3 }, Item { name: "pears".into(), count: 39 }];
    assert_eq!(inventory.call_total(&mut store, &items).unwrap(), 42);
    assert_eq!(store.data().logged, ["total"]);
    assert_eq!(inventory.call_shout(&mut store, "hello, wasm").unwrap(), "HELLO, WASM");
}
