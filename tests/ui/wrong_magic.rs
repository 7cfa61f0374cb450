// A binary whose magic number is wrong.
static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("fixtures/magic.wasm");

fn main() {}
