//! `ctguard check`: load rule sets as `iptables-restore --test` would, optionally as if
//! nf_conntrack were unloaded, and print them back in iptables-save form.

use ctguard_netfilter::modules::check_without_tracking;
use ctguard_netfilter::rules;

use crate::rulesets;

pub fn run(files: &rulesets::RuleFiles, no_conntrack: bool, save: bool) -> Result<(), String> {
    if files.is_empty() {
        return Err("check: give --rules FILE and/or --rules6 FILE".into());
    }
    let sets = files.load()?;
    if no_conntrack && let Err(e) = check_without_tracking(&sets.all()) {
        eprintln!("{e}");
        return Err(format!(
            "{} rule(s) need connection tracking; they would stop working without nf_conntrack",
            e.0.len()
        ));
    }
    if save {
        for rs in sets.all() {
            print!("{}", rules::save(rs));
        }
    } else {
        eprintln!("ctguard: rule set loads");
    }
    Ok(())
}
