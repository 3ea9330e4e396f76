//! Applying `--sysctl` settings with [`Applied`] guards, one per setting so that an error names
//! its FILE:LINE; they are restored in reverse order when dropped.

use std::path::Path;

use crate::pcap::sysctl_file::Setting;
use crate::sysctl::{self, Applied, Scope};

/// Settings in force until dropped.
pub struct Settings<'a> {
    applied: Vec<Applied<'a>>,
}

impl<'a> Settings<'a> {
    /// Writes `settings` in `scope`; an unknown or unwritable key is an error naming
    /// `file:LINE` (what was written before it is restored on the way out).
    pub fn apply(scope: Scope<'a>, settings: &[Setting], file: &Path) -> Result<Self, String> {
        let mut applied = Settings {
            applied: Vec::new(),
        };
        for s in settings {
            let at = || format!("{}:{}", file.display(), s.line);
            sysctl::read(scope, &s.key).map_err(|e| format!("{}: unknown here: {e}", at()))?;
            let one = [(s.key.clone(), s.value.clone())];
            applied
                .applied
                .push(Applied::apply(scope, &one).map_err(|e| format!("{}: {e}", at()))?);
        }
        Ok(applied)
    }
}

impl Drop for Settings<'_> {
    fn drop(&mut self) {
        while let Some(last) = self.applied.pop() {
            drop(last);
        }
    }
}
