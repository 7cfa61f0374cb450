// A missing file named through .. components: the resolved path is shown.
static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("../ui/fixtures/nope.wasm");

fn main() {}
