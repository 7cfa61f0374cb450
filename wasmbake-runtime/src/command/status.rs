//! How a program ended: [`ExitStatus`] and [`Output`].

use std::fmt;

/// The exit status of a trapped program: what `wasmtime run` exits with
/// (128 + SIGABRT on Unix, 3 on Windows).
pub const TRAP_EXIT_CODE: i32 = if cfg!(windows) { 3 } else { 134 };

/// The exit status of a program stopped by its
/// [`Command::timeout`](super::Command::timeout): what GNU `timeout`
/// returns.
pub const TIMEOUT_EXIT_CODE: i32 = 124;

/// How a program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitStatus {
    code: i32,
    trapped: bool,
    timed_out: bool,
}

impl ExitStatus {
    pub(super) fn exited(code: i32) -> ExitStatus {
        ExitStatus { code, trapped: false, timed_out: false }
    }

    pub(super) fn trapped_status(code: i32) -> ExitStatus {
        ExitStatus { code, trapped: true, timed_out: false }
    }

    pub(super) fn timed_out_status() -> ExitStatus {
        ExitStatus { code: TIMEOUT_EXIT_CODE, trapped: false, timed_out: true }
    }

    /// The exit code: what the program passed to `proc_exit`, 0 when
    /// `_start` returned, [`TRAP_EXIT_CODE`] after a trap (as `wasmtime run`),
    /// [`TIMEOUT_EXIT_CODE`] when its timeout stopped it, 1 when a host call
    /// failed in a way that ends the program.
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

    /// Whether the program was stopped by its
    /// [`Command::timeout`](super::Command::timeout): one line on its stderr
    /// said where, and the code is [`TIMEOUT_EXIT_CODE`]. (Not a trap: the
    /// program did nothing wrong but take too long.)
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.trapped, self.timed_out) {
            (true, _) => write!(f, "trapped (exit status: {})", self.code),
            (_, true) => write!(f, "timed out (exit status: {})", self.code),
            _ => write!(f, "exit status: {}", self.code),
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
