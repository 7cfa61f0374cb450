// A file that cannot be read (a symbolic link to itself).
static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("fixtures/loop.wasm");

fn main() {}
