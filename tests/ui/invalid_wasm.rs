static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("fixtures/truncated.wasm");

fn main() {}
