static PLUGIN: wasmbake::EmbeddedComponent = wasmbake::include_component!("fixtures/async_component.wat");

fn main() {}
