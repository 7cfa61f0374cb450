//! Compile-error tests: one `tests/ui/<case>.rs` + `.stderr` per diagnostic
//! of `include_module!`.
//!
//! trybuild compiles each case in its own project under
//! `target/tests/trybuild/wasmbake/`, whose directory is the cases'
//! `CARGO_MANIFEST_DIR`; the fixtures are copied there so the cases' paths
//! (`tests/ui/fixtures/…`) resolve as they would in this crate.

use std::path::{Path, PathBuf};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
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
}
