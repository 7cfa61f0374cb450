//! Where the cache of baked artifacts is: one policy for the macro, the
//! build helper and the `wasmbake` command. `WASMBAKE_CACHE_DIR` wins
//! everywhere; otherwise a build caches inside Cargo's target directory
//! (cleaned with it), and the command in the user's cache directory.

use std::path::{Path, PathBuf};

/// The variable that names the cache folder, for every user of the cache.
pub const CACHE_DIR_VARIABLE: &str = "WASMBAKE_CACHE_DIR";

/// Where the cache lives for a crate being built: `WASMBAKE_CACHE_DIR` if
/// set, else `wasmbake/` inside Cargo's target directory
/// (`CARGO_TARGET_DIR`, or `target/` beside the workspace's `Cargo.lock`).
pub fn cache_dir(manifest_dir: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_DIR_VARIABLE) {
        return PathBuf::from(dir);
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => manifest_dir.join(dir),
        None => manifest_dir
            .ancestors()
            .find(|dir| dir.join("Cargo.lock").is_file())
            .unwrap_or(manifest_dir)
            .join("target"),
    };
    target.join("wasmbake")
}

/// Where the cache lives outside a build (the `wasmbake` command):
/// `WASMBAKE_CACHE_DIR` if set, else `wasmbake/` in the user's cache
/// directory (`XDG_CACHE_HOME`, else `~/.cache`, else the temporary folder).
pub fn user_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_DIR_VARIABLE) {
        return dir.into();
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("wasmbake")
}
