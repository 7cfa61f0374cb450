//! A consumer whose compiler is optimised (this workspace sets
//! `[profile.*.build-override] opt-level = 3`) gets no warning from the
//! macro: here any would be an error. (The unoptimised case is the UI test
//! `tests/ui/unoptimised_build_override.rs`.)
#![deny(deprecated)]

static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("fixtures/unnamed.wat");

#[test]
fn an_optimised_build_bakes_without_a_warning() {
    assert!(PLUGIN.names().is_empty());
    assert!(!PLUGIN.artifact().is_empty());
}
