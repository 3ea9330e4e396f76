//! The one error type: a message naming the file and line it is about.

use core::fmt;

/// A problem with a scenario or golden file, located as `FILE:LINE` (line 0 when the problem is
/// with the file as a whole, e.g. it cannot be read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl Error {
    pub fn new(file: &str, line: usize, message: impl Into<String>) -> Self {
        Error {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for Error {}
