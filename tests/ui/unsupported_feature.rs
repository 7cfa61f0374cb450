static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("fixtures/custom_page_sizes.wat");

fn main() {}
