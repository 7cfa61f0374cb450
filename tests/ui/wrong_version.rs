// The right magic number with an unknown version.
static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("fixtures/version.wasm");

fn main() {}
