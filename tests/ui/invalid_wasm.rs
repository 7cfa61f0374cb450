static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("tests/ui/fixtures/truncated.wasm");

fn main() {}
