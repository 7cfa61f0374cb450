static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("tests/ui/fixtures/component.wat");

fn main() {}
