//! How a program ended: [`ExitStatus`] and [`Output`].

use std::fmt;

/// The exit status of a trapped program: what `wasmtime run` exits with
/// (128 + SIGABRT on Unix, 3 on Windows).
pub const TRAP_EXIT_CODE: i32 = if cfg!(windows) { 3 } else { 134 };

/// How a program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitStatus {
    pub(super) code: i32,
    pub(super) trapped: bool,
}

impl ExitStatus {
    /// The exit code: what the program passed to `proc_exit`, 0 when
    /// `_start` returned, [`TRAP_EXIT_CODE`] after a trap (as `wasmtime run`),
    /// 1 when a host call failed in a way that ends the program.
    pub fn code(&self) -> i32 {
        self.code
    }

    /// Whether the exit code is 0.
    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// Whether the program trapped (or a host call failed): its error and
    /// wasm backtrace, with the plugin's function names, went to its stderr.
    pub fn trapped(&self) -> bool {
        self.trapped
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.trapped {
            true => write!(f, "trapped (exit status: {})", self.code),
            false => write!(f, "exit status: {}", self.code),
        }
    }
}

/// What [`Command::output`](super::Command::output) returns: the status and the captured output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// How the program ended.
    pub status: ExitStatus,
    /// What it wrote to stdout, if stdout was [`Stdio::piped`](super::Stdio::piped).
    pub stdout: Vec<u8>,
    /// What it wrote to stderr (a trap's rendering included), if stderr was
    /// [`Stdio::piped`](super::Stdio::piped).
    pub stderr: Vec<u8>,
}
