//! `ctguard modules`: the kernel modules the rule sets need, `lsmod`-style, and the rules
//! that depend on connection tracking.

use ctguard_netfilter::modules::{modules, render_lsmod};

use crate::rulesets;

pub fn run(files: &rulesets::RuleFiles) -> Result<(), String> {
    let sets = files.load()?;
    print!("{}", render_lsmod(&modules(&sets.all())));
    let users: Vec<_> = sets
        .all()
        .into_iter()
        .flat_map(|rs| rs.conntrack_users())
        .collect();
    println!();
    if users.is_empty() {
        println!("No rule needs connection tracking: these rules work without nf_conntrack.");
        return Ok(());
    }
    println!("Needs connection tracking (these stop working if nf_conntrack is removed):");
    for u in users {
        let at = u.location.map(|l| format!("{l}: ")).unwrap_or_default();
        match u.rule {
            Some(n) => println!(
                "  {at}{} {} rule {n}: {} ({})",
                u.table, u.chain, u.feature, u.kernel_module
            ),
            None => println!("  the {} table ({})", u.table, u.kernel_module),
        }
    }
    Ok(())
}
