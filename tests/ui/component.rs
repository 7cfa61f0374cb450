static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("fixtures/component.wat");

fn main() {}
