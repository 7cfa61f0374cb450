static PLUGIN: wasmbake::EmbeddedComponent = wasmbake::include_component!("fixtures/bad_component.wat");

fn main() {}
