//! [`Error`]: why baking failed, one line per problem.

use std::fmt;

/// Why baking failed: one line per problem, each naming its file.
pub struct Error(pub(crate) Vec<String>);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

/// The same lines as `Display`: a build script's `main` returning
/// `Result<(), Box<dyn Error>>` prints its error with `Debug`, and should
/// still show one plain line per plugin.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

impl Error {
    /// The problems, one line each, each naming its file: what a build
    /// script prints (as `Display` does, joined by newlines).
    pub fn lines(&self) -> &[String] {
        &self.0
    }

    pub(crate) fn line(line: String) -> Error {
        Error(vec![line])
    }
}
