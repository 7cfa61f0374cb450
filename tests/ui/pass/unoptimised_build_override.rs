// Built with the compiler unoptimised (the harness passes
// `--config profile.dev.package.wasmbake-compiler.opt-level=0`): the macro
// says so, once for the crate however many plugins it bakes, naming the lines
// to add to Cargo.toml. It still bakes them.
static FIRST: wasmbake::Embedded = wasmbake::include_module!("fixtures/valid.wat");
static SECOND: wasmbake::Embedded = wasmbake::include_module!("fixtures/valid.wat");

#[test]
fn both_plugins_are_baked() {
    assert_eq!(FIRST.names().index_of("answer"), Some(0));
    assert_eq!(SECOND.artifact(), FIRST.artifact());
}
