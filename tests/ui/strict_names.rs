// A malformed name section in strict mode: an error on the path.
static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("fixtures/names.wat", strict_names);

fn main() {}
