//! The front end: reading a plugin file, text to binary, and validation,
//! with byte offsets in every error.

use std::path::Path;

use crate::Error;

/// `message` on one line, its whitespace runs single spaces: wasmparser
/// prints some values over several indented lines (a bad magic number) or
/// padded (a version), and every error is one line, both in the build
/// helper's output and on the macro's path literal.
pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ").replace("[ ", "[").replace(", ]", "]")
}

pub(crate) fn read(source: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(source).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Missing { resolved: source.to_owned() },
        _ => Error::Unreadable { resolved: source.to_owned(), source: e },
    })
}

/// A module's binary form from a file's `bytes` (`file` names it in
/// errors): binary modules are used as they are; anything else is parsed as
/// text. A file that starts with a NUL byte, or is not UTF-8, is taken for a
/// binary (so a wrong magic number or version is reported by the validator,
/// with its offset, not as text that does not parse).
pub fn module_bytes(bytes: &[u8], file: &str) -> Result<Vec<u8>, Error> {
    if bytes.is_empty() {
        return Err(Error::Empty { file: file.to_owned() });
    }
    if bytes[0] == 0 || std::str::from_utf8(bytes).is_err() && !bytes.starts_with(b"(") {
        return Ok(bytes.to_vec());
    }
    let text = std::str::from_utf8(bytes).map_err(|e| Error::InvalidWasm {
        file: file.to_owned(),
        message: format!("neither a WebAssembly binary (no `\\0asm` header) nor UTF-8 text ({e})"),
        offset: e.valid_up_to(),
    })?;
    wat::Parser::new()
        .parse_str(Some(Path::new(file)), text)
        .map_err(|e| Error::InvalidWat { message: e.to_string() })
}

/// What a plugin file holds: a core module or a component.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A core WebAssembly module (`include_module!`).
    Module,
    /// A component (`include_component!`).
    Component,
}

impl Kind {
    /// The kind of a WebAssembly binary, from its header.
    pub fn of(wasm: &[u8]) -> Kind {
        match wasmparser::Parser::is_component(wasm) {
            true => Kind::Component,
            false => Kind::Module,
        }
    }
}

/// Rejects components and invalid modules. Feature support is checked by
/// Wasmtime itself when compiling (see [`compile_error`]), so that what
/// counts as "supported" is exactly what the engine enables.
pub fn validate(wasm: &[u8], file: &str) -> Result<(), Error> {
    validate_as(wasm, file, Kind::Module)
}

/// Rejects invalid binaries and those of the other kind than `expected`.
pub fn validate_as(wasm: &[u8], file: &str, expected: Kind) -> Result<(), Error> {
    match (Kind::of(wasm), expected) {
        (Kind::Component, Kind::Module) => return Err(Error::Component { file: file.to_owned() }),
        (Kind::Module, Kind::Component) if wasm.starts_with(b"\0asm\x01\0\0\0") => {
            return Err(Error::CoreModule { file: file.to_owned() });
        }
        _ => {}
    }
    let mut validator = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all());
    validator.validate_all(wasm).map_err(|e| Error::InvalidWasm {
        file: file.to_owned(),
        message: one_line(e.message()),
        offset: e.offset(),
    })?;
    Ok(())
}

/// A module that is valid with every feature on but fails Wasmtime's own
/// validation uses a feature this configuration cannot compile.
pub(crate) fn compile_error(error: wasmtime::Error, file: &str) -> Error {
    match error.downcast_ref::<wasmparser::BinaryReaderError>() {
        Some(e) => Error::UnsupportedFeature {
            file: file.to_owned(),
            message: one_line(e.message()),
            offset: Some(e.offset()),
        },
        None => Error::Compile { file: file.to_owned(), message: one_line(&format!("{error:#}")) },
    }
}
