//! Where the shared corpus of real modules is: one place, for every test,
//! bench, example and build script.
//!
//! `WASMBAKE_CORPUS` names the folder (relative paths are taken from the
//! workspace root); without it, the corpus is `../shared/corpus` beside the
//! workspace. What is in it, and how to make more, is its `MANIFEST.md`.

use std::path::{Component, Path, PathBuf};

/// The variable that names the corpus folder.
pub const VARIABLE: &str = "WASMBAKE_CORPUS";

/// The workspace root (this crate's parent folder).
pub fn workspace_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The corpus folder (which may not exist: see [`require`]).
pub fn dir() -> PathBuf {
    match std::env::var_os(VARIABLE) {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("../shared/corpus"),
    }
}

/// The corpus folder as a path relative to `base` (a crate's manifest
/// folder), for build scripts: plugin paths given to the build helper are
/// kept as written in `Embedded::source`, and a relative one puts no
/// machine's path into a binary.
pub fn dir_from(base: &Path) -> PathBuf {
    relative(base, &dir())
}

/// `file` in the corpus, if it is there.
pub fn file(name: &str) -> Option<PathBuf> {
    let path = dir().join(name);
    path.is_file().then_some(path)
}

/// The corpus folder when every one of `files` is in it; otherwise `None`,
/// after telling on standard error what was skipped and why (`what`).
pub fn require(files: &[&str], what: &str) -> Option<PathBuf> {
    let dir = dir();
    match files.iter().find(|f| !dir.join(f).is_file()) {
        None => Some(dir),
        Some(missing) => {
            eprintln!(
                "skipped {what}: {} is absent (set {VARIABLE} to the corpus folder)",
                dir.join(missing).display()
            );
            None
        }
    }
}

/// For build scripts: bakes `modules` from the corpus into the build
/// helper's file `out_file` (include it with `include_plugins!`) and sets
/// the `wasmbake_corpus` cfg; without the corpus, warns that what depends on
/// it is skipped. Exits the build script on a baking error.
#[cfg(feature = "bake")]
pub fn bake(modules: &[&str], out_file: &str) {
    println!("cargo::rustc-check-cfg=cfg(wasmbake_corpus)");
    println!("cargo::rerun-if-env-changed={VARIABLE}");
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("run from a build script");
    let dir = dir_from(Path::new(&manifest_dir));
    println!("cargo::rerun-if-changed={}", dir.display());
    if !modules.iter().all(|m| dir.join(m).is_file()) {
        println!("cargo::warning=shared corpus not found at {}: corpus tests are skipped", dir.display());
        return;
    }
    let set =
        modules.iter().fold(wasmbake_build::Builder::new().out_file(out_file), |b, m| b.module(dir.join(m)));
    if let Err(e) = set.compile() {
        eprintln!("{e}");
        std::process::exit(1);
    }
    println!("cargo::rustc-cfg=wasmbake_corpus");
}

/// `path` relative to `base`, lexically (both made absolute against the
/// current directory; `..` components are folded first).
fn relative(base: &Path, path: &Path) -> PathBuf {
    let absolute = |p: &Path| -> Vec<std::ffi::OsString> {
        let p =
            if p.is_absolute() { p.to_owned() } else { std::env::current_dir().unwrap_or_default().join(p) };
        let mut out = Vec::new();
        for c in p.components() {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir => {}
                c => out.push(c.as_os_str().to_owned()),
            }
        }
        out
    };
    let (base, path) = (absolute(base), absolute(path));
    let common = base.iter().zip(&path).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    for c in &path[common..] {
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::relative;
    use std::path::Path;

    #[test]
    fn relative_paths_climb_to_the_common_folder() {
        assert_eq!(
            relative(Path::new("/w/main/examples"), Path::new("/w/main/../shared/corpus")),
            Path::new("../../shared/corpus")
        );
        assert_eq!(relative(Path::new("/w/main"), Path::new("/w/main/a/b")), Path::new("a/b"));
        assert_eq!(relative(Path::new("/x/y"), Path::new("/z")), Path::new("../../z"));
    }
}
