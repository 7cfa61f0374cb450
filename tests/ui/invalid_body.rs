// A function body that does not validate (an i64 where an i32 is returned).
static PLUGIN: wasmbake::Embedded = wasmbake::include_module!("fixtures/body.wat");

fn main() {}
