// Pre-initialisation: a module without an init function (an error on the
// path), and WASI details given without `wasi` (an error on the detail).
static NO_INIT: wasmbake::Embedded = wasmbake::include_module!("fixtures/valid.wat", preinitialize);
static NO_WASI: wasmbake::Embedded =
    wasmbake::include_module!("fixtures/valid.wat", preinitialize(args = ["tool"]));
static COMPONENT: wasmbake::EmbeddedComponent =
    wasmbake::include_component!("fixtures/component.wat", preinitialize);

fn main() {}
