static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("fixtures/bad.wat");

fn main() {}
