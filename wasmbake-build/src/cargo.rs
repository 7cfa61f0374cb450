//! [`Builder::compile`]: the one part of the helper that talks to Cargo. It
//! reads the build script's environment, prints the `cargo::` lines, and
//! archives link objects; everything it bakes goes through the pure
//! [`Builder::compile_into`].

use std::path::{Path, PathBuf};

use crate::{Builder, Error, Plugin};

impl Builder {
    /// Bakes every plugin, writes `OUT_DIR/wasmbake_plugins.rs` (see
    /// [`Builder::out_file`]), archives link objects, and prints the `cargo:`
    /// lines. Every failing plugin is reported, one line each.
    ///
    /// Also warns, once, when the build script runs unoptimised (no
    /// `[profile.*.build-override] opt-level = 3`), which makes precompiling
    /// many times slower.
    pub fn compile(mut self) -> Result<Vec<Plugin>, Error> {
        let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
        let out_dir = PathBuf::from(env("OUT_DIR")?);
        let target = match self.target.clone() {
            Some(target) => target,
            None => env("TARGET")?,
        };
        if self.package.is_none() {
            self.package = Some((env("CARGO_PKG_NAME")?, env("CARGO_PKG_VERSION")?));
        }
        // Cargo reruns the script when a plugin, or a folder's list of
        // files, changes (printed first: a failed bake must rerun too).
        for dir in &self.dirs {
            println!("cargo::rerun-if-changed={}", manifest_dir.join(dir).display());
        }
        for file in self.files(&manifest_dir).unwrap_or_default() {
            println!("cargo::rerun-if-changed={}", manifest_dir.join(file).display());
        }
        // (and when a file the init functions read at bake time changes).
        if let Some(dir) = self.preinit.as_ref().and_then(|p| p.wasi.as_ref()).and_then(|w| w.dir.as_ref()) {
            println!("cargo::rerun-if-changed={}", manifest_dir.join(dir).display());
        }
        if let Some(warning) = wasmbake_compiler::build_override_warning() {
            for line in warning.lines() {
                println!("cargo::warning={line}");
            }
        }
        let plugins = self.compile_into(
            &manifest_dir,
            &out_dir,
            &target,
            &wasmbake_compiler::cache_dir(&manifest_dir),
        )?;
        // Warnings are for what needs attention: a successful compile says
        // nothing unless WASMBAKE_VERBOSE=1.
        println!("cargo::rerun-if-env-changed=WASMBAKE_VERBOSE");
        let verbose = std::env::var_os("WASMBAKE_VERBOSE").is_some_and(|v| v == "1");
        for plugin in &plugins {
            if let Some(problem) = &plugin.name_problem {
                println!("cargo::warning=wasmbake: {}: {problem}", plugin.file.display());
            }
            if verbose && !plugin.cache_hit {
                let pulley = if plugin.pulley { ", and its Pulley fallback" } else { "" };
                println!(
                    "cargo::warning=wasmbake: compiled {} ({}{pulley})",
                    plugin.file.display(),
                    plugin.name
                );
            }
        }
        let objects: Vec<&Path> = plugins.iter().filter_map(|p| p.object.as_deref()).collect();
        if !objects.is_empty() {
            // `cc` archives the objects into `lib<name>.a` (or `<name>.lib`)
            // with the target's archiver. The generated `extern` blocks link
            // it themselves (`#[link(kind = "static")]`), so it reaches every
            // crate target that includes the statics (a `rustc-link-lib`
            // line would only reach the package's library); they find it
            // through this search path.
            let mut archive = cc::Build::new();
            archive.objects(&objects).target(&target).cargo_metadata(false).cargo_warnings(false);
            archive
                .try_compile(&self.library_name(&manifest_dir, &target))
                .map_err(|e| Error::line(format!("wasmbake: cannot archive link objects: {e}")))?;
            println!("cargo::rustc-link-search=native={}", out_dir.display());
        }
        Ok(plugins)
    }
}

fn env(name: &str) -> Result<String, Error> {
    std::env::var(name)
        .map_err(|_| Error::line(format!("wasmbake-build: {name} is not set: call it from a build script")))
}
