// A directory cannot be read as a file.
static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("tests/ui/fixtures");

fn main() {}
