//! Telling a consumer crate that its build-time compiler is unoptimised.
//!
//! The macro and the build helper precompile plugins with Cranelift inside
//! the build, where Cargo compiles build dependencies at `opt-level = 0`
//! unless the crate says otherwise; Cranelift is then many times slower
//! (guide, "Compile-time cost"). The compiler's own optimisation level,
//! recorded by its build script, tells whether the override is there: Cargo
//! applies one `build-override` profile to every build dependency.

/// The lines a consumer crate adds to its `Cargo.toml`.
pub const BUILD_OVERRIDE_LINES: &str =
    "[profile.dev.build-override]\nopt-level = 3\n[profile.release.build-override]\nopt-level = 3";

/// The optimisation level this compiler was built at (`0`–`3`, `s`, `z`).
const OPT_LEVEL: &str = env!("WASMBAKE_COMPILER_OPT_LEVEL");

/// The warning to print, or `None` when the compiler is optimised.
pub fn build_override_warning() -> Option<String> {
    warning_for(OPT_LEVEL)
}

fn warning_for(opt_level: &str) -> Option<String> {
    if opt_level != "0" {
        return None;
    }
    Some(format!(
        "wasmbake: this build compiles plugins with an unoptimised compiler (opt-level 0), which precompiles \
         them about 18 times slower (a 5 MB module: about a minute instead of 3.6 s). Add to Cargo.toml:\n\
         {BUILD_OVERRIDE_LINES}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unoptimised_compiler_warns() {
        let warning = warning_for("0").unwrap();
        assert!(warning.contains("[profile.dev.build-override]\nopt-level = 3"), "{warning}");
        assert!(warning.contains("[profile.release.build-override]\nopt-level = 3"), "{warning}");
        for level in ["1", "2", "3", "s", "z"] {
            assert_eq!(warning_for(level), None, "{level}");
        }
    }
}
