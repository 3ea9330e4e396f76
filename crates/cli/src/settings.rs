//! `ctguard sysctl`: the settings, after any sysctl.conf files.

use std::path::{Path, PathBuf};

use ctguard_conntrack::Sysctl;
use ctguard_conntrack::sysctl::{CTGUARD_KEYS, KEYS, conf};

/// Applies `files` in order to the defaults: diagnostics on stderr, an error if any file has
/// one (and nothing of that file applied).
pub fn load(files: &[PathBuf]) -> Result<Sysctl, String> {
    let mut s = Sysctl::default();
    for f in files {
        apply(&mut s, f)?;
    }
    Ok(s)
}

pub fn apply(s: &mut Sysctl, file: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let parsed = conf::parse(&file.display().to_string(), &text);
    match s.apply_conf(&parsed) {
        Ok(notes) => {
            for n in notes {
                eprintln!("{n}");
            }
            Ok(())
        }
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            Err(format!("{}: not applied", file.display()))
        }
    }
}

pub fn run(files: &[PathBuf]) -> Result<(), String> {
    let s = load(files)?;
    for key in KEYS {
        println!("{key} = {}", s.get(key).unwrap_or_default());
    }
    println!("# ctguard's own (no kernel has these; keep them out of a host's sysctl.conf)");
    for key in CTGUARD_KEYS {
        println!("{key} = {}", s.get(key).unwrap_or_default());
    }
    Ok(())
}
