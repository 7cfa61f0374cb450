static A: wasmbake::Embedded = wasmbake::include_module!(42);
static B: wasmbake::Embedded = wasmbake::include_module!("x.wasm", krate = foo);

fn main() {}
