//! Applying one parsed command to a rule set, with iptables' refusals.

use crate::hook::{Hook, TableName};
use crate::rules::model::{Policy, Rule, RuleSet, Table};
use crate::rules::spec::{Cmd, ParsedCommand};
use crate::rules::targets::{TARGET_NAMES, Target};

/// "chain INPUT does not exist in table raw (raw has PREROUTING, OUTPUT)".
pub(crate) fn no_chain(table: &Table, chain: &str) -> String {
    let builtins: Vec<&str> = table.name.hooks().iter().map(|h| h.chain_name()).collect();
    if Hook::from_chain_name(chain).is_some() {
        format!(
            "chain {chain} does not exist in table {} (its built-in chains are {})",
            table.name,
            builtins.join(", ")
        )
    } else {
        format!("chain {chain} does not exist in table {}", table.name)
    }
}

/// The checks iptables makes on a new user chain's name.
pub(crate) fn check_chain_name(table: &Table, name: &str) -> Result<(), String> {
    if name.len() >= 29 {
        return Err(format!(
            "chain name `{name}' too long (must be under 29 chars)"
        ));
    }
    if name.is_empty() || name.starts_with('-') {
        return Err("chain name not allowed to start with `-'".into());
    }
    if name.starts_with('!') || name.contains(char::is_whitespace) {
        return Err(format!("invalid chain name `{name}'"));
    }
    if TARGET_NAMES.contains(&name) {
        return Err("chain name may not clash with target name".into());
    }
    if Hook::from_chain_name(name).is_some() && table.chain(name).is_none() {
        return Err(format!(
            "{name} is the name of a built-in chain; table {} has no such chain and ctguard does not create a user chain of that name",
            table.name
        ));
    }
    if table.chain(name).is_some() {
        return Err(format!("Chain '{name}' already exists"));
    }
    Ok(())
}

/// Refuses `-i` on output hooks and `-o` on input hooks of a built-in chain.
fn check_ifaces(table: &Table, chain: &str, rules: &[Rule]) -> Result<(), String> {
    let Some(hook) = table.chain(chain).and_then(|c| c.hook) else {
        return Ok(());
    };
    for r in rules {
        if r.ip.out_iface.is_some() && matches!(hook, Hook::Prerouting | Hook::Input) {
            return Err(format!("Can't use -o with {chain}"));
        }
        if r.ip.in_iface.is_some() && matches!(hook, Hook::Output | Hook::Postrouting) {
            return Err(format!("Can't use -i with {chain}"));
        }
    }
    Ok(())
}

/// Jumps and gotos of `rules` must name a user chain of the table.
pub(crate) fn check_jump_targets(table: &Table, rules: &[Rule]) -> Result<(), String> {
    for r in rules {
        if let Some(c) = r.target.chain() {
            match table.chain(&c.name) {
                None => return Err(format!("Chain '{}' does not exist", c.name)),
                Some(ch) if ch.is_builtin() => {
                    return Err(format!(
                        "cannot jump to built-in chain {} (the kernel refuses it)",
                        c.name
                    ));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

fn chain_mut<'a>(
    table: &'a mut Table,
    chain: &str,
) -> Result<&'a mut crate::rules::model::Chain, String> {
    if table.chain(chain).is_none() {
        return Err(no_chain(table, chain));
    }
    Ok(table.chain_mut(chain).expect("checked above"))
}

/// Applies `cmd` to `table` of `rules`. Returns warnings.
pub fn apply(
    rules: &mut RuleSet,
    table: TableName,
    cmd: ParsedCommand,
) -> Result<Vec<String>, String> {
    let mut warnings = cmd.warnings;
    let t = rules.table_mut(table);
    match cmd.cmd {
        Cmd::Append(chain) => {
            check_ifaces(t, &chain, &cmd.rules)?;
            chain_mut(t, &chain)?.rules.extend(cmd.rules);
            t.present = true;
        }
        Cmd::Insert(chain, pos) => {
            check_ifaces(t, &chain, &cmd.rules)?;
            let c = chain_mut(t, &chain)?;
            if pos > c.rules.len() + 1 {
                return Err(format!(
                    "Index of insertion too big ({chain} has {} rules)",
                    c.rules.len()
                ));
            }
            for r in cmd.rules {
                c.rules.insert(pos - 1, r);
            }
            t.present = true;
        }
        Cmd::Delete(chain, Some(n)) => {
            let c = chain_mut(t, &chain)?;
            if n > c.rules.len() {
                return Err(format!(
                    "Index of deletion too big ({chain} has {} rules)",
                    c.rules.len()
                ));
            }
            c.rules.remove(n - 1);
        }
        Cmd::Delete(chain, None) => {
            let c = chain_mut(t, &chain)?;
            for r in cmd.rules {
                let spec = r.spec();
                let Some(i) = c.rules.iter().position(|x| x.spec() == spec) else {
                    return Err(format!(
                        "Bad rule (does a matching rule exist in that chain?): no rule `{spec}' in {chain}"
                    ));
                };
                c.rules.remove(i);
            }
        }
        Cmd::Replace(chain, n) => {
            check_ifaces(t, &chain, &cmd.rules)?;
            let c = chain_mut(t, &chain)?;
            if cmd.rules.len() != 1 {
                return Err("Replacement rule does not specify a unique address".into());
            }
            if n > c.rules.len() {
                return Err(format!(
                    "Index of replacement too big ({chain} has {} rules)",
                    c.rules.len()
                ));
            }
            let r = cmd.rules.into_iter().next().expect("one rule");
            c.rules[n - 1] = r;
        }
        Cmd::NewChain(name) => {
            check_chain_name(t, &name)?;
            t.add_user_chain(&name);
            t.present = true;
        }
        Cmd::DeleteChain(Some(name)) => {
            let Some(c) = t.chain(&name) else {
                return Err(format!("Chain '{name}' does not exist"));
            };
            if c.is_builtin() {
                return Err(format!("cannot delete built-in chain {name}"));
            }
            let refs = t.references(&name);
            if let Some((rc, rn)) = refs.first() {
                return Err(format!(
                    "cannot delete chain {name}: it is referenced by {} rule(s), first {} {rc} rule {rn} (iptables: Too many links)",
                    refs.len(),
                    t.name
                ));
            }
            if !c.rules.is_empty() {
                return Err(format!(
                    "cannot delete chain {name}: it has {} rule(s); flush it first with -F {name} (iptables: Directory not empty)",
                    c.rules.len()
                ));
            }
            t.remove_chain(&name);
        }
        Cmd::DeleteChain(None) => {
            let users: Vec<String> = t.user_chains().map(|c| c.name.to_string()).collect();
            for name in &users {
                let from_builtin = t.references(name).into_iter().find(|(c, _)| {
                    Hook::from_chain_name(c).is_some() && t.chain(c).is_some_and(|c| c.is_builtin())
                });
                if let Some((c, n)) = from_builtin {
                    return Err(format!(
                        "cannot delete chain {name}: it is referenced by {} {c} rule {n} (iptables: Too many links)",
                        t.name
                    ));
                }
                if let Some(ch) = t.chain(name)
                    && !ch.rules.is_empty()
                {
                    return Err(format!(
                        "cannot delete chain {name}: it has {} rule(s); flush it first (iptables: Directory not empty)",
                        ch.rules.len()
                    ));
                }
            }
            for name in &users {
                t.remove_chain(name);
            }
        }
        Cmd::Flush(Some(name)) => {
            chain_mut(t, &name)?.rules.clear();
        }
        Cmd::Flush(None) => {
            for c in t.chains_mut() {
                c.rules.clear();
            }
        }
        Cmd::Zero(chain, n) => match chain {
            None => t.zero_counters(),
            Some(name) => {
                let c = chain_mut(t, &name)?;
                match n {
                    Some(n) => {
                        let len = c.rules.len();
                        c.rules
                            .get_mut(n - 1)
                            .ok_or_else(|| {
                                format!("Index of zero too big ({name} has {len} rules)")
                            })?
                            .counters
                            .zero();
                    }
                    None => {
                        c.policy_counters.zero();
                        for r in &mut c.rules {
                            r.counters.zero();
                        }
                    }
                }
            }
        },
        Cmd::Policy(chain, policy) => {
            let Some(c) = t.chain(&chain) else {
                return Err(no_chain(t, &chain));
            };
            if !c.is_builtin() {
                return Err(format!(
                    "Bad built-in chain name: {chain} is a user chain and has no policy (only built-in chains do)"
                ));
            }
            let p = Policy::parse(&policy).ok_or_else(|| {
                format!("Bad policy name `{policy}' (a built-in chain's policy is ACCEPT or DROP)")
            })?;
            chain_mut(t, &chain)?.policy = Some(p);
            t.present = true;
        }
        Cmd::Rename(old, new) => {
            let Some(c) = t.chain(&old) else {
                return Err(format!("Chain '{old}' does not exist"));
            };
            if c.is_builtin() {
                return Err(format!("cannot rename built-in chain {old}"));
            }
            check_chain_name(t, &new)?;
            let mut chain = t.chain(&old).expect("exists").clone();
            chain.name = new.as_str().into();
            t.remove_chain(&old);
            t.add_user_chain(&new);
            let rules_moved = chain.rules;
            chain_mut(t, &new)?.rules = rules_moved;
            for c in t.chains_mut() {
                for r in &mut c.rules {
                    if let Target::Jump(cr) | Target::Goto(cr) = &mut r.target
                        && cr.name == old
                    {
                        cr.name = new.clone();
                    }
                }
            }
        }
        Cmd::NoEffect(flag) => {
            warnings.push(format!("{flag} does not change the rule set; ignored"));
        }
    }
    Ok(warnings)
}
