//! A busybox-style command-line tool: one binary bundling WASI programs,
//! baked by `examples/build.rs` (the toolbox set). Build it fully static:
//!
//! ```text
//! RUSTFLAGS="-C target-feature=+crt-static" \
//!     cargo build --release --target x86_64-unknown-linux-gnu --example toolbox
//! ```
//!
//! Run a tool by its name (`toolbox cat file`), or through a link named after
//! it (`ln -s toolbox cat; ./cat file`); `toolbox --list` lists them. Each
//! tool gets the toolbox's arguments, stdin, stdout and stderr, and the
//! current directory (as `.`, read-write: what a native tool could touch);
//! its exit status is the toolbox's (a trap: 134, as `wasmtime run`). No
//! environment variable is passed. A tool is a preview-1 module or a
//! preview-2 command component (`hello-c.component`, `avr-as.component`,
//! from the corpus).

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use wasmbake::{Access, Command, Embedded, EmbeddedComponent};

mod tools {
    wasmbake::include_plugins!("toolbox.rs");
}

/// A bundled tool: a preview-1 module or a preview-2 command component.
#[derive(Clone, Copy)]
enum Tool {
    Module(&'static Embedded),
    Component(&'static EmbeddedComponent),
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Module(m) => m.program_name(),
            Tool::Component(c) => c.program_name(),
        }
    }

    fn command(self) -> Command {
        match self {
            Tool::Module(m) => m.command(),
            Tool::Component(c) => c.command(),
        }
    }

    /// (Source, artifact bytes, name-table bytes.)
    fn sizes(self) -> (&'static str, usize, usize) {
        match self {
            Tool::Module(m) => (m.source(), m.artifact().len(), m.names().as_bytes().len()),
            Tool::Component(c) => (c.source(), c.artifact().len(), c.names().as_bytes().len()),
        }
    }
}

/// The bundled tools. The corpus programs are there when the shared corpus
/// was present at build time (`wasmbake_corpus`).
static TOOLS: &[Tool] = &[
    Tool::Module(&tools::CAT),
    #[cfg(wasmbake_corpus)]
    Tool::Module(&tools::AVR_AS),
    #[cfg(wasmbake_corpus)]
    Tool::Module(&tools::FLITE),
    #[cfg(wasmbake_corpus)]
    Tool::Module(&tools::HELLO_C),
    #[cfg(wasmbake_corpus)]
    Tool::Component(&tools::HELLO_C_COMPONENT),
    #[cfg(wasmbake_corpus)]
    Tool::Component(&tools::AVR_AS_COMPONENT),
];

fn find(name: &OsString) -> Option<Tool> {
    TOOLS.iter().copied().find(|tool| name.to_str() == Some(tool.name()))
}

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    let invoked = args.next().unwrap_or_default();
    let invoked = Path::new(&invoked).file_name().map(OsString::from).unwrap_or_default();
    let args: Vec<OsString> = args.collect();
    // `avr-as …` through a link, else `toolbox avr-as …`.
    let (tool, name, rest) = match find(&invoked) {
        Some(tool) => (tool, invoked, &args[..]),
        None => match args.first() {
            Some(first) if first == "--list" => return list(),
            Some(first) => match find(first) {
                Some(tool) => (tool, first.clone(), &args[1..]),
                None => {
                    eprintln!("toolbox: no tool named {first:?} (`toolbox --list` lists them)");
                    return ExitCode::from(2);
                }
            },
            None => {
                eprintln!("usage: toolbox TOOL [ARG]...   or   toolbox --list");
                return ExitCode::from(2);
            }
        },
    };
    let status =
        tool.command().arg0(name).args(rest).inherit_stdio().preopened_dir(".", ".", Access::ReadWrite).run();
    match status {
        // Exit codes are 8 bits wide on Unix, as for a native program.
        Ok(status) => ExitCode::from(status.code() as u8),
        Err(e) => {
            eprintln!("toolbox: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn list() -> ExitCode {
    for tool in TOOLS {
        let (source, artifact, names) = tool.sizes();
        println!(
            "{:<17} {artifact:>10} bytes of native code and data, {names:>7} bytes of names  ({source})",
            tool.name(),
        );
    }
    if cfg!(not(wasmbake_corpus)) {
        println!(
            "(avr-as, flite, hello-c, hello-c.component and avr-as.component are bundled when the shared corpus is present at build time)"
        );
    }
    ExitCode::SUCCESS
}
