//! Where a rule came from, and what went wrong with it.
//!
//! Every message renders as `FILE:LINE: error: MESSAGE` (or `warning:`), the way compilers and
//! `iptables-restore` point at a line, so an editor can jump to it.

use core::fmt;
use std::sync::Arc;

/// A line of an input file (1-based).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    pub file: Arc<str>,
    pub line: u32,
}

impl Location {
    pub fn new(file: &str, line: u32) -> Self {
        Location {
            file: Arc::from(file),
            line,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One refused line or rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    pub location: Location,
    pub message: String,
}

impl RuleError {
    pub fn new(location: &Location, message: impl Into<String>) -> Self {
        RuleError {
            location: location.clone(),
            message: message.into(),
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: error: {}", self.location, self.message)
    }
}

impl std::error::Error for RuleError {}

/// Something accepted but worth telling (a skipped shell line, a truncated log prefix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub location: Location,
    pub message: String,
}

impl Warning {
    pub fn new(location: &Location, message: impl Into<String>) -> Self {
        Warning {
            location: location.clone(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: warning: {}", self.location, self.message)
    }
}

/// Every error found in one input; the rule set is refused as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleErrors(pub Vec<RuleError>);

impl RuleErrors {
    /// The messages alone (without locations), for tests and summaries.
    pub fn messages(&self) -> Vec<&str> {
        self.0.iter().map(|e| e.message.as_str()).collect()
    }
}

impl fmt::Display for RuleErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RuleErrors {}
