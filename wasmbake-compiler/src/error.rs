use std::fmt;
use std::path::PathBuf;

/// Everything that can stop a plugin from being baked. Each message names the
/// file; the macro shows it on the path literal, the build helper on one line.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The file does not exist.
    Missing {
        /// The path after resolving it against the crate's manifest dir.
        resolved: PathBuf,
    },
    /// The file exists but could not be read.
    Unreadable {
        /// The resolved path.
        resolved: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is empty.
    Empty {
        /// The file as written by the user.
        file: String,
    },
    /// The path is not UTF-8 (the generated Rust code has to name it).
    NonUtf8Path {
        /// The path, as found.
        path: PathBuf,
    },
    /// The `name` section is malformed and strict mode is on (otherwise the
    /// readable names are kept and the problem is reported as a warning).
    MalformedNames {
        /// The file as written by the user.
        file: String,
        /// What is wrong (see `NameTable::read`).
        message: String,
    },
    /// The text format did not parse (the message carries line and column).
    InvalidWat {
        /// `wat`'s message, with the file, line and column.
        message: String,
    },
    /// The binary is not a valid WebAssembly module.
    InvalidWasm {
        /// The file as written by the user.
        file: String,
        /// wasmparser's message.
        message: String,
        /// Byte offset of the problem in the file.
        offset: usize,
    },
    /// The file is a component, not a core module.
    Component {
        /// The file as written by the user.
        file: String,
    },
    /// The file is a core module, not a component.
    CoreModule {
        /// The file as written by the user.
        file: String,
    },
    /// The module is valid WebAssembly but uses a feature wasmbake's Wasmtime
    /// configuration cannot compile.
    UnsupportedFeature {
        /// The file as written by the user.
        file: String,
        /// Wasmtime's (wasmparser's) message, which names the feature.
        message: String,
        /// Byte offset of the first use.
        offset: Option<usize>,
    },
    /// Wasmtime failed to compile the module (or rejected the configuration).
    Compile {
        /// The file as written by the user.
        file: String,
        /// Wasmtime's error chain.
        message: String,
    },
    /// The component does not implement the world it was baked against
    /// (`include_component!(…, world = "…")`).
    World {
        /// The file as written by the user.
        file: String,
        /// The world, as named in the macro call.
        world: String,
        /// Every difference found, `; `-separated.
        message: String,
    },
    /// Pre-initialisation failed: no init function, a trap in it, or a
    /// call to an import it cannot make (`include_module!(…, preinitialize)`).
    Preinit {
        /// The file as written by the user.
        file: String,
        /// What went wrong, on one line (a trap with the functions it was in).
        message: String,
    },
    /// Something does not fit wasmbake's 32-bit table format.
    TooLarge(String),
    /// Reading or writing the artifact cache failed.
    Cache {
        /// The cache file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An unknown target triple or CPU setting was requested.
    Target(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Missing { resolved } => write!(
                f,
                "wasm file not found: {} (paths are relative to the crate's Cargo.toml directory)",
                resolved.display()
            ),
            Error::Unreadable { resolved, source } => {
                write!(f, "cannot read {}: {source}", resolved.display())
            }
            Error::Empty { file } => write!(f, "{file} is an empty file, not a WebAssembly module"),
            Error::NonUtf8Path { path } => write!(
                f,
                "{}: the path is not valid UTF-8 (the generated Rust code has to name the file): rename it",
                path.display()
            ),
            Error::MalformedNames { file, message } => write!(f, "{file}: {message} (strict mode)"),
            Error::InvalidWat { message } => write!(f, "invalid WebAssembly text: {message}"),
            Error::InvalidWasm { file, message, offset } => {
                write!(f, "invalid WebAssembly in {file} at byte offset {offset:#x}: {message}")
            }
            Error::Component { file } => write!(
                f,
                "{file} is a WebAssembly component, but include_module! expects a core module: \
                 bake it with include_component! (the `component` feature of wasmbake)"
            ),
            Error::CoreModule { file } => write!(
                f,
                "{file} is a core WebAssembly module, but include_component! expects a component: \
                 bake it with include_module!"
            ),
            Error::UnsupportedFeature { file, message, offset } => {
                write!(
                    f,
                    "{file} uses a WebAssembly feature that wasmbake's Wasmtime configuration does not enable: {message}"
                )?;
                if let Some(offset) = offset {
                    write!(f, " (at byte offset {offset:#x})")?;
                }
                Ok(())
            }
            Error::Compile { file, message } => write!(f, "Wasmtime failed to compile {file}: {message}"),
            Error::World { file, world, message } => {
                write!(f, "{file} does not implement the world `{world}`: {message}")
            }
            Error::Preinit { file, message } => write!(f, "cannot pre-initialise {file}: {message}"),
            Error::TooLarge(message) => f.write_str(message),
            Error::Cache { path, source } => {
                write!(f, "wasmbake artifact cache at {}: {source}", path.display())
            }
            Error::Target(message) => f.write_str(message),
        }
    }
}

impl Error {
    /// The message on one line, for the build helper (`Display` keeps the
    /// text format's source excerpt, which the macro shows under the path).
    pub fn one_line(&self) -> String {
        match self {
            Error::InvalidWat { message } => {
                let mut lines = message.lines();
                let first = lines.next().unwrap_or_default();
                match lines.find_map(|l| l.trim().strip_prefix("--> ")) {
                    Some(at) => format!("invalid WebAssembly text at {at}: {first}"),
                    None => format!("invalid WebAssembly text: {first}"),
                }
            }
            other => crate::one_line(&other.to_string()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Unreadable { source, .. } | Error::Cache { source, .. } => Some(source),
            _ => None,
        }
    }
}
