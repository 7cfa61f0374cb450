// A malformed name section: the plugin is embedded with the names that can
// be read, and a warning (not an error) says what is wrong.
static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("fixtures/names.wat");

#[test]
fn the_readable_names_are_kept() {
    assert_eq!(PLUGIN.names().name_of(0), Some("a"));
    assert_eq!(PLUGIN.names().name_of(9), None);
}
