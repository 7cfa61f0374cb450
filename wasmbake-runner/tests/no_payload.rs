//! The runner on its own, as Cargo built it: a program without a payload
//! says what it is for and exits 2. (Having an integration test also makes
//! `cargo test --workspace` build the runner binary, which a development
//! `wasmbake exe` copies.)

#[test]
fn a_runner_without_a_payload_says_so_and_exits_2() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wasmbake-runner")).arg("x").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("carries no program (it is made by `wasmbake exe`)"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(out.stdout.is_empty());
}
