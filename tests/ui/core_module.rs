static PLUGIN: wasmbake::EmbeddedComponent = wasmbake::include_component!("fixtures/valid.wat");

fn main() {}
