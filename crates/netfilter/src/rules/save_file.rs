//! The iptables-save / ip6tables-save format, as `iptables-restore` reads it.
//!
//! ```text
//! # comment
//! *filter
//! :INPUT DROP [12:3400]
//! :LOGDROP - [0:0]
//! [5:300] -A INPUT -p tcp --dport 22 -j ACCEPT
//! -A INPUT -j LOGDROP
//! COMMIT
//! ```
//!
//! - `*table` opens a block and `COMMIT` closes it; a block left open at the end of the file
//!   is refused ("COMMIT expected"), as is a second block for the same table (iptables-restore
//!   would silently discard the first one's rules; ctguard refuses the file instead).
//! - `:CHAIN POLICY [packets:bytes]` sets a built-in chain's policy (ACCEPT, DROP, or `-` to
//!   keep it) and counters, or declares a user chain (its policy must be `-`; iptables-restore
//!   v1.8.9 ignores a policy there, ctguard refuses it as a likely mistake). The counters may
//!   be left out.
//! - Every other line is an iptables command without the program name and without `-t`
//!   (`-A`, `-I`, `-D`, `-R`, `-N`, `-X`, `-F`, `-Z`, `-P`, `-E`), optionally prefixed by
//!   `[packets:bytes]`; words are split as [`split_restore`] describes. Jump targets are
//!   checked at `COMMIT`, so a rule may jump to a chain declared further down the block.
//! - Lines starting with `#` and blank lines are ignored.
//!
//! An empty block (`*nat` straight followed by `COMMIT`) creates nothing: iptables-nft only
//! creates a table on its first chain, rule or policy, and iptables-save then omits it.

use std::collections::HashMap;

use crate::hook::TableName;
use crate::rules::apply::{apply, check_chain_name, check_jump_targets};
use crate::rules::error::{Location, RuleError, Warning};
use crate::rules::lexer::split_restore;
use crate::rules::model::{Counters, Policy, RuleSet};
use crate::rules::spec::parse_command;

/// `[packets:bytes]`.
pub(crate) fn parse_counters(s: &str) -> Option<Counters> {
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    let (p, b) = inner.split_once(':')?;
    let num = |x: &str| {
        (!x.is_empty() && x.bytes().all(|c| c.is_ascii_digit()))
            .then(|| x.parse::<u64>().ok())
            .flatten()
    };
    Some(Counters::new(num(p)?, num(b)?))
}

/// Parses a whole file into `rules` (which should be empty). Errors and warnings are appended.
pub fn parse_save_into(
    text: &str,
    file: &str,
    rules: &mut RuleSet,
    errors: &mut Vec<RuleError>,
    warnings: &mut Vec<Warning>,
) {
    let family = rules.family;
    let mut current: Option<(TableName, u32)> = None;
    let mut seen: HashMap<TableName, u32> = HashMap::new();
    let mut last_line = 0;
    // After a bad `*table` line: ignore the block up to its COMMIT.
    let mut skipping = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i as u32 + 1;
        last_line = n;
        let loc = Location::new(file, n);
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |errors: &mut Vec<RuleError>, m: String| errors.push(RuleError::new(&loc, m));
        if skipping && !line.starts_with('*') {
            skipping = line != "COMMIT";
            continue;
        }
        skipping = false;
        if let Some(name) = line.strip_prefix('*') {
            if let Some((t, at)) = current.take() {
                err(
                    errors,
                    format!(
                        "COMMIT expected: table {t} (opened at line {at}) is not committed before `{line}'"
                    ),
                );
            }
            let name = name.trim();
            let Some(t) = TableName::from_name(name) else {
                err(
                    errors,
                    format!("table name '{name}' invalid (raw, mangle, nat or filter)"),
                );
                skipping = true;
                continue;
            };
            if let Some(prev) = seen.insert(t, n) {
                err(
                    errors,
                    format!(
                        "table {t} appears a second time (first at line {prev}); iptables-restore would discard the rules of the first block"
                    ),
                );
            }
            current = Some((t, n));
            continue;
        }
        if line == "COMMIT" {
            match current.take() {
                None => err(errors, "COMMIT outside a table block".into()),
                Some((t, _)) => {
                    let table = rules.table(t);
                    for c in table.chains() {
                        for (ri, r) in c.rules.iter().enumerate() {
                            if let Err(e) = check_jump_targets(table, std::slice::from_ref(r)) {
                                errors.push(RuleError::new(
                                    &r.location,
                                    format!(
                                        "{} `{}': {e}",
                                        RuleSet::rule_name(t, &c.name, ri),
                                        r.source
                                    ),
                                ));
                            }
                        }
                    }
                }
            }
            continue;
        }
        let Some((table, _)) = current else {
            err(
                errors,
                format!("`{line}' is outside a table block (start one with *filter, *nat, ...)"),
            );
            continue;
        };
        if let Some(decl) = line.strip_prefix(':') {
            let parts: Vec<&str> = decl.split_whitespace().collect();
            let (name, policy, counters) = match parts.as_slice() {
                [name, policy] => (*name, *policy, None),
                [name, policy, c] => match parse_counters(c) {
                    Some(c) => (*name, *policy, Some(c)),
                    None => {
                        err(
                            errors,
                            format!("invalid policy counters for chain '{name}': `{c}'"),
                        );
                        continue;
                    }
                },
                _ => {
                    err(
                        errors,
                        format!("bad chain line `{line}' (expected :CHAIN POLICY [packets:bytes])"),
                    );
                    continue;
                }
            };
            let t = rules.table_mut(table);
            match t.chain(name).map(|c| c.is_builtin()) {
                Some(true) => {
                    let c = t.chain_mut(name).expect("exists");
                    match policy {
                        "-" => {}
                        p => match Policy::parse(p) {
                            Some(p) => c.policy = Some(p),
                            None => {
                                err(
                                    errors,
                                    format!(
                                        "Bad policy name `{p}' for chain {name} (ACCEPT or DROP)"
                                    ),
                                );
                                continue;
                            }
                        },
                    }
                    if let Some(cn) = counters {
                        c.policy_counters = cn;
                    }
                }
                Some(false) => {
                    if policy != "-" {
                        err(
                            errors,
                            format!(
                                "user chain {name} cannot have a policy (`{policy}'): only built-in chains have one; write `:{name} - [0:0]'"
                            ),
                        );
                    }
                }
                None => {
                    if policy != "-" {
                        err(
                            errors,
                            format!(
                                "user chain {name} cannot have a policy (`{policy}'): only built-in chains have one; write `:{name} - [0:0]'"
                            ),
                        );
                        continue;
                    }
                    if let Err(e) = check_chain_name(t, name) {
                        err(errors, e);
                        continue;
                    }
                    t.add_user_chain(name);
                }
            }
            rules.table_mut(table).present = true;
            continue;
        }
        // A rule or command line, maybe with a [packets:bytes] prefix.
        let (prefix, rest) = if line.starts_with('[') {
            match line.split_once(']') {
                Some((c, rest)) => {
                    let c = format!("{c}]");
                    match parse_counters(&c) {
                        Some(c) => (Some(c), rest.trim_start()),
                        None => {
                            err(errors, format!("bad counters `{c}'"));
                            continue;
                        }
                    }
                }
                None => {
                    err(errors, format!("bad counters in `{line}'"));
                    continue;
                }
            }
        } else {
            (None, line)
        };
        let words = match split_restore(rest) {
            Ok(w) => w,
            Err(e) => {
                err(errors, format!("`{line}': {e}"));
                continue;
            }
        };
        let mut parsed = match parse_command(&words, family, true, &loc) {
            Ok(p) => p,
            Err(e) => {
                err(errors, format!("`{line}': {e}"));
                continue;
            }
        };
        if parsed.only_family.is_some_and(|f| f != family) {
            continue;
        }
        if let Some(c) = prefix
            && !words.iter().any(|w| w == "-c" || w == "--set-counters")
        {
            for r in &mut parsed.rules {
                r.counters = c;
            }
        }
        match apply(rules, table, parsed) {
            Ok(ws) => {
                for w in ws {
                    warnings.push(Warning::new(&loc, format!("`{line}': {w}")));
                }
            }
            Err(e) => err(errors, format!("`{line}': {e}")),
        }
    }
    if let Some((t, at)) = current {
        errors.push(RuleError::new(
            &Location::new(file, last_line + 1),
            format!("COMMIT expected at the end of the file: table {t} (opened at line {at}) is not committed"),
        ));
    }
}
