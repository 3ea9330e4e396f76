//! A fresh topology for one run, made with the topology script and always torn down.

use std::path::Path;
use std::process::Command;

/// Namespaces `PREFIX-c`, `-r`, `-s`, deleted when dropped.
pub struct Topology<'a> {
    script: &'a Path,
    prefix: &'a str,
}

fn call(script: &Path, action: &str, prefix: &str) -> Result<(), String> {
    let status = Command::new(script)
        .args([action, prefix])
        .status()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{} {action} {prefix}` failed", script.display()))
    }
}

impl<'a> Topology<'a> {
    /// Sets the namespaces up; the script refuses if they exist (another recording's).
    pub fn up(script: &'a Path, prefix: &'a str) -> Result<Self, String> {
        // The script deletes what it made when it fails.
        call(script, "up", prefix)?;
        Ok(Topology { script, prefix })
    }
}

impl Drop for Topology<'_> {
    fn drop(&mut self) {
        if let Err(e) = call(self.script, "down", self.prefix) {
            eprintln!("ctguard-record: FAILED to delete the namespaces: {e}");
        }
    }
}
