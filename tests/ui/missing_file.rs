static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("fixtures/does-not-exist.wasm");

fn main() {}
