//! `ctguard lint`: the traps in a rule set and its settings, before they reach production.

use std::path::PathBuf;

use ctguard_conntrack::Sysctl;
use ctguard_conntrack::sysctl::conf;
use ctguard_netfilter::lint::{self, LintInput, Severity, SysctlInput};

use crate::rulesets;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    #[command(flatten)]
    pub files: rulesets::RuleFiles,
    /// sysctl.conf settings to check with the rules.
    #[arg(long, value_name = "FILE")]
    pub sysctl: Option<PathBuf>,
    /// Check as if nf_conntrack were removed (the seed's fix 2).
    #[arg(long)]
    pub no_conntrack: bool,
    /// text (default) or json.
    #[arg(long, value_name = "text|json", default_value = "text")]
    pub format: String,
}

/// Ok(true): an error-level finding (exit status 1).
pub fn run(a: &Args) -> Result<bool, String> {
    if a.format != "text" && a.format != "json" {
        return Err(format!("--format {}: text or json", a.format));
    }
    if a.files.is_empty() && a.sysctl.is_none() {
        return Err("lint: give --rules FILE, --rules6 FILE and/or --sysctl FILE".into());
    }
    let sets = a.files.load()?;
    let parsed = match &a.sysctl {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            Some(conf::parse(&p.display().to_string(), &text))
        }
        None => None,
    };
    let mut settings = Sysctl::default();
    if let Some(c) = &parsed {
        // Errors in the file are findings too; apply what can be applied for the checks.
        let _ = settings.apply_conf(c);
    }
    let mut input = LintInput::new(&sets.v4, &sets.v6);
    input.tracking = !a.no_conntrack;
    input.sysctl = parsed.as_ref().map(|c| SysctlInput {
        conf: c,
        settings: &settings,
    });
    let findings = lint::run(&input);
    let text = if a.format == "json" {
        lint::render_json(&findings)
    } else {
        lint::render_text(&findings)
    };
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
    Ok(findings.iter().any(|f| f.severity == Severity::Error))
}
