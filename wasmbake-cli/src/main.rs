//! `wasmbake`: make a standalone executable of a WASI program (`exe`), and
//! look inside modules and baked binaries (`inspect`). guide, "The
//! `wasmbake` command".

mod component;
mod exe;
mod inspect;
mod limits;
mod preinit;

use std::ffi::OsString;
use std::process::ExitCode;

const USAGE: &str = "\
usage: wasmbake exe INPUT.wasm... -o OUTPUT [--static] [--target TRIPLE] [--name NAME]
                    [--cpu FLAGS] [--env KEY=VALUE]... [--inherit-env]
                    [--dir HOST[::GUEST]]... [--dir-ro HOST[::GUEST]]... [--runner PATH]
                    [--keep-runner-sections]
                    [--timeout DURATION] [--fuel N] [--max-memory SIZE]
                    [--preinitialize [--init-func NAME] [--init-wasi [--init-arg ARG]...
                     [--init-env KEY=VALUE]... [--init-dir DIR]]]
       wasmbake inspect FILE [--names] [--demangle] [--json]
       wasmbake --version";

/// A failure: one line on stderr, exit status 2.
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure(e.to_string())
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let result = match args.next().as_ref().and_then(|a| a.to_str()) {
        Some("exe") => exe::run(args.collect()),
        Some("inspect") => inspect::run(args.collect()),
        Some("--version" | "-V") => {
            println!(
                "wasmbake {} (Wasmtime {})",
                env!("CARGO_PKG_VERSION"),
                wasmbake_compiler::WASMTIME_VERSION
            );
            Ok(())
        }
        Some("--help" | "-h" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(Failure(USAGE.to_owned())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("wasmbake: {message}");
            ExitCode::from(2)
        }
    }
}

/// Command-line arguments, read in order: flags with or without a value,
/// and positional arguments.
pub struct Args {
    args: std::vec::IntoIter<OsString>,
}

impl Args {
    pub fn new(args: Vec<OsString>) -> Args {
        Args { args: args.into_iter() }
    }

    /// The next argument: `Some(Ok(flag))` for `--flag`, `Some(Err(value))`
    /// for anything else.
    pub fn next_arg(&mut self) -> Option<Result<String, OsString>> {
        let arg = self.args.next()?;
        match arg.to_str() {
            Some(flag) if flag.starts_with('-') && flag.len() > 1 => Some(Ok(flag.to_owned())),
            _ => Some(Err(arg)),
        }
    }

    /// The value of `flag`.
    pub fn value(&mut self, flag: &str) -> Result<OsString, Failure> {
        self.args.next().ok_or_else(|| Failure(format!("{flag} needs a value")))
    }

    /// The value of `flag`, as UTF-8.
    pub fn string(&mut self, flag: &str) -> Result<String, Failure> {
        self.value(flag)?.into_string().map_err(|v| Failure(format!("{flag}: {v:?} is not UTF-8")))
    }
}
