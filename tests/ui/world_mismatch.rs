static PLUGIN: wasmbake::EmbeddedComponent =
    wasmbake::include_component!("fixtures/component.wat", world = "plugin");

fn main() {}
