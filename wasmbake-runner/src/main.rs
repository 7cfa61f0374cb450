//! The runner `wasmbake exe` copies: see the `wasmbake_runner` library.

fn main() {
    wasmbake_runner::main()
}
