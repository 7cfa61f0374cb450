static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("tests/ui/fixtures/custom_page_sizes.wat");

fn main() {}
