// An empty file is not a module (and not WAT that fails at 1:1).
static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("fixtures/empty.wasm");

fn main() {}
