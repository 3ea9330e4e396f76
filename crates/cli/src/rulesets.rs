//! Loading `--rules` / `--rules6` files: iptables-save files or iptables command scripts,
//! detected from their text, all or nothing.

use std::path::{Path, PathBuf};

use ctguard_netfilter::Family;
use ctguard_netfilter::rules::{self, Format, RuleSet};

/// `--rules FILE` and `--rules6 FILE`, as every command that reads rule sets takes them.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RuleFiles {
    /// IPv4 rules: an iptables-save file or a script of iptables commands (detected).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// IPv6 rules: an ip6tables-save file or a script of ip6tables commands.
    #[arg(long, value_name = "FILE")]
    pub rules6: Option<PathBuf>,
}

impl RuleFiles {
    pub fn is_empty(&self) -> bool {
        self.rules.is_none() && self.rules6.is_none()
    }

    pub fn load(&self) -> Result<RuleSets, String> {
        load(self.rules.as_ref(), self.rules6.as_ref())
    }
}

/// The IPv4 and IPv6 rule sets from the command line's files.
pub struct RuleSets {
    pub v4: RuleSet,
    pub v6: RuleSet,
}

impl RuleSets {
    pub fn all(&self) -> [&RuleSet; 2] {
        [&self.v4, &self.v6]
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Loads `rules` (IPv4, or both families for a script with ip6tables lines) and `rules6`
/// (IPv6). Warnings go to stderr; any error refuses everything, naming FILE:LINE.
pub fn load(rules: Option<&PathBuf>, rules6: Option<&PathBuf>) -> Result<RuleSets, String> {
    let mut v4 = RuleSet::new(Family::V4);
    let mut v6 = RuleSet::new(Family::V6);
    let mut failed = Vec::new();
    for (path, family) in [(rules, Family::V4), (rules6, Family::V6)] {
        let Some(path) = path else { continue };
        let text = read(path)?;
        let name = path.display().to_string();
        let loaded = match rules::detect_format(&text) {
            Format::Save => rules::load_save(&text, &name, family),
            Format::Script => rules::load_script(&text, &name),
        };
        match loaded {
            Ok(l) => {
                for w in &l.warnings {
                    eprintln!("{w}");
                }
                match family {
                    Family::V4 => {
                        v4 = l.v4;
                        if !l.v6.is_empty() {
                            v6 = l.v6;
                        }
                    }
                    Family::V6 => {
                        v6 = l.v6;
                        if !l.v4.is_empty() {
                            v4 = l.v4;
                        }
                    }
                }
            }
            Err(errors) => {
                eprintln!("{errors}");
                failed.push(name);
            }
        }
    }
    if failed.is_empty() {
        Ok(RuleSets { v4, v6 })
    } else {
        Err(format!(
            "{}: rule set refused; nothing was applied",
            failed.join(", ")
        ))
    }
}
