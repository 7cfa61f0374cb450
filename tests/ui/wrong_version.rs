// The right magic number with an unknown version.
static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("tests/ui/fixtures/version.wasm");

fn main() {}
