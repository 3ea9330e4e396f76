//! The checks the kernel makes when a table is loaded, over the finished rule set:
//!
//! - loops of jumps and gotos (the kernel's mark_source_chains walks every path from each
//!   built-in chain and refuses a chain met again on the same path: ELOOP, "Too many links");
//!   a loop among user chains that no built-in chain reaches is accepted, as by the kernel;
//! - targets outside their table (NOTRACK and CT only in raw; SNAT, DNAT, MASQUERADE and
//!   REDIRECT only in nat; REJECT only in filter);
//! - targets and matches at hooks they refuse (SNAT at POSTROUTING and INPUT, DNAT and REDIRECT
//!   at PREROUTING and OUTPUT, MASQUERADE at POSTROUTING, REJECT at INPUT, FORWARD and OUTPUT,
//!   addrtype's interface limits), checked for a user chain against every built-in chain that
//!   can reach it.

use crate::hook::Hook;
use crate::rules::error::RuleError;
use crate::rules::model::{RuleSet, Table};

/// User chains reached (directly or not) from each chain: `reach[i]` are the hooks chain `i`
/// can be entered from.
fn hooks_reaching(table: &Table) -> Vec<Vec<Hook>> {
    let chains = table.chains();
    let mut reach: Vec<Vec<Hook>> = vec![Vec::new(); chains.len()];
    for (start, c) in chains.iter().enumerate() {
        let Some(hook) = c.hook else {
            continue;
        };
        let mut stack = vec![start];
        let mut seen = vec![false; chains.len()];
        while let Some(i) = stack.pop() {
            if seen[i] {
                continue;
            }
            seen[i] = true;
            if !reach[i].contains(&hook) {
                reach[i].push(hook);
            }
            for r in &chains[i].rules {
                if let Some(t) = r.target.chain()
                    && let Some(j) = table.chain_index(&t.name)
                {
                    stack.push(j);
                }
            }
        }
    }
    reach
}

/// Depth-first search for a cycle; reports the rule that closes it.
fn find_loops(table: &Table, errors: &mut Vec<RuleError>) {
    let chains = table.chains();
    // 0: unvisited, 1: on the current path, 2: done.
    let mut mark = vec![0u8; chains.len()];
    let mut path: Vec<usize> = Vec::new();
    fn visit(
        table: &Table,
        i: usize,
        mark: &mut [u8],
        path: &mut Vec<usize>,
        errors: &mut Vec<RuleError>,
    ) {
        mark[i] = 1;
        path.push(i);
        let chains = table.chains();
        for (ri, r) in chains[i].rules.iter().enumerate() {
            let Some(t) = r.target.chain() else {
                continue;
            };
            let Some(j) = table.chain_index(&t.name) else {
                continue;
            };
            match mark[j] {
                1 => {
                    let from = path.iter().position(|&p| p == j).unwrap_or(0);
                    let mut names: Vec<&str> =
                        path[from..].iter().map(|&p| &*chains[p].name).collect();
                    names.push(&chains[j].name);
                    errors.push(RuleError::new(
                        &r.location,
                        format!(
                            "{} `{}': jumping to {} makes a loop ({}); the kernel refuses loops (Too many links)",
                            RuleSet::rule_name(table.name, &chains[i].name, ri),
                            r.source,
                            t.name,
                            names.join(" -> ")
                        ),
                    ));
                }
                0 => visit(table, j, mark, path, errors),
                _ => {}
            }
        }
        path.pop();
        mark[i] = 2;
    }
    for (i, c) in chains.iter().enumerate() {
        if c.is_builtin() && mark[i] == 0 {
            visit(table, i, &mut mark, &mut path, errors);
        }
    }
}

fn hook_list(hooks: &[Hook]) -> String {
    hooks
        .iter()
        .map(|h| h.chain_name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every kernel refusal of the finished rule set.
pub fn validate(rules: &RuleSet) -> Vec<RuleError> {
    let mut errors = Vec::new();
    for table in rules.tables() {
        find_loops(table, &mut errors);
        let reach = hooks_reaching(table);
        for (ci, c) in table.chains().iter().enumerate() {
            let hooks = &reach[ci];
            for (ri, r) in c.rules.iter().enumerate() {
                let name = RuleSet::rule_name(table.name, &c.name, ri);
                let mut refuse = |msg: String| {
                    errors.push(RuleError::new(
                        &r.location,
                        format!("{name} `{}': {msg}", r.source),
                    ));
                };
                if let Some(t) = r.target.required_table()
                    && t != table.name
                {
                    refuse(format!(
                        "the {} target is only valid in the {t} table, not in {}",
                        r.target.name(),
                        table.name
                    ));
                } else if let Some(allowed) = r.target.allowed_hooks() {
                    let bad: Vec<Hook> = hooks
                        .iter()
                        .copied()
                        .filter(|h| !allowed.contains(h))
                        .collect();
                    if !bad.is_empty() {
                        let via = if c.is_builtin() {
                            String::new()
                        } else {
                            format!(" (chain {} is reached from {})", c.name, hook_list(hooks))
                        };
                        refuse(format!(
                            "the {} target is not allowed in {}{via}; the kernel allows it only in {}",
                            r.target.name(),
                            hook_list(&bad),
                            hook_list(allowed)
                        ));
                    }
                }
                for m in &r.matches {
                    if let Err(e) = m.check_hooks(hooks) {
                        refuse(e);
                    }
                }
            }
        }
    }
    errors
}
