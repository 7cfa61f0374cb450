//! Compile-error tests: one `tests/ui/<case>.rs` + `.stderr` per diagnostic
//! of `include_module!`.
//!
//! trybuild compiles each case in its own project under
//! `target/tests/trybuild/wasmbake/`, whose directory is the cases'
//! `CARGO_MANIFEST_DIR`; the fixtures are copied there so the cases' paths
//! (`tests/ui/fixtures/…`) resolve as they would in this crate. Cases in
//! `tests/ui/pass/` must compile (with warnings, where they say so) and run.

use std::path::{Path, PathBuf};

/// Copies the fixtures, symbolic links as links (one points at itself: the
/// unreadable file).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_symlink() {
            let _ = std::fs::remove_file(&target);
            #[cfg(unix)]
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn ui() {
    let target_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().to_owned();
    let project = target_dir.join("tests/trybuild").join(env!("CARGO_PKG_NAME"));
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/fixtures");
    copy_dir(&fixtures, &project.join("tests/ui/fixtures"));

    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
