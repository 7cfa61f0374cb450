// A directory cannot be read as a file.
static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("fixtures");

fn main() {}
