static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("tests/ui/fixtures/does-not-exist.wasm");

fn main() {}
