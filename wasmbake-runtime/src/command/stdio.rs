//! Where a program's streams come from and go: [`Stdio`], the defaults of
//! each way of running, and preopened directories' [`Access`].

use std::sync::Arc;

use wasmtime_wasi::cli::OutputFile;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

/// What a preopened directory lets the program do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read files and list directories; nothing can be created, changed or
    /// removed.
    ReadOnly,
    /// Everything, within the directory.
    ReadWrite,
}

/// Where a program's stdin comes from, or where its stdout or stderr go.
#[derive(Clone, Debug)]
pub struct Stdio(pub(super) StdioKind);

#[derive(Clone, Debug)]
pub(super) enum StdioKind {
    Inherit,
    Null,
    Piped,
    Bytes(Arc<[u8]>),
    File(Arc<std::fs::File>),
}

impl Stdio {
    /// The host process's own stream.
    pub fn inherit() -> Stdio {
        Stdio(StdioKind::Inherit)
    }

    /// Nothing: stdin is empty, output is discarded.
    pub fn null() -> Stdio {
        Stdio(StdioKind::Null)
    }

    /// Output is captured in memory and returned by [`Command::output`](super::Command::output)
    /// ([`Command::run`](super::Command::run) discards it, as `std::process::Command::status`
    /// does). Not valid for stdin: give its bytes with [`Stdio::bytes`].
    pub fn piped() -> Stdio {
        Stdio(StdioKind::Piped)
    }

    /// Stdin that reads these bytes, then end-of-file.
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Stdio {
        Stdio(StdioKind::Bytes(bytes.into().into()))
    }
}

impl From<std::fs::File> for Stdio {
    /// Reads from or writes to this file.
    fn from(file: std::fs::File) -> Stdio {
        Stdio(StdioKind::File(Arc::new(file)))
    }
}

/// A configured stdout or stderr, as wasmtime-wasi takes it.
pub(super) enum Sink {
    Inherit,
    Pipe(MemoryOutputPipe),
    Null,
    File(OutputFile),
}

impl Sink {
    pub(super) fn new(stdio: Stdio) -> std::io::Result<Sink> {
        Ok(match stdio.0 {
            StdioKind::Inherit => Sink::Inherit,
            StdioKind::Piped => Sink::Pipe(MemoryOutputPipe::new(usize::MAX)),
            // (`Stdio::bytes` is an input: as an output it discards.)
            StdioKind::Null | StdioKind::Bytes(_) => Sink::Null,
            StdioKind::File(file) => Sink::File(OutputFile::new(file.try_clone()?)),
        })
    }

    pub(super) fn pipe(&self) -> Option<MemoryOutputPipe> {
        match self {
            Sink::Pipe(pipe) => Some(pipe.clone()),
            _ => None,
        }
    }
}

/// Which defaults apply to unset streams: [`Command::run`]'s or
/// [`Command::output`]'s.
#[derive(Clone, Copy)]
pub(super) enum Streams {
    Inherit,
    Capture,
}

impl Streams {
    pub(super) fn default_in(self) -> Stdio {
        match self {
            Streams::Inherit => Stdio::inherit(),
            Streams::Capture => Stdio::null(),
        }
    }

    pub(super) fn default_out(self) -> Stdio {
        match self {
            Streams::Inherit => Stdio::inherit(),
            Streams::Capture => Stdio::piped(),
        }
    }
}

/// Writes a trap's rendering to the program's stderr, whatever it is
/// (`captured`: what a piped stderr holds). Best effort, like a program's
/// own last words: a closed stderr must not turn the status into an error.
pub(super) fn report(stderr: &Stdio, captured: &mut Vec<u8>, text: &str) {
    use std::io::Write as _;
    match &stderr.0 {
        StdioKind::Inherit => {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
        StdioKind::Piped => captured.extend_from_slice(text.as_bytes()),
        StdioKind::File(file) => {
            let _ = (&**file).write_all(text.as_bytes());
        }
        StdioKind::Null | StdioKind::Bytes(_) => {}
    }
}
