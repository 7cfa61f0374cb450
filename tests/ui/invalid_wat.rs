static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("tests/ui/fixtures/bad.wat");

fn main() {}
