//! Shell scripts of iptables / ip6tables commands, applied in order to an empty rule set.
//!
//! ```sh
//! #!/bin/sh
//! set -e
//! modprobe nf_conntrack              # skipped, with a warning
//! /sbin/iptables -t raw -A PREROUTING -p tcp -m multiport --dports 80 -j NOTRACK
//! iptables -N LOGDROP 2>/dev/null || true
//! ip6tables -A INPUT -p ipv6-icmp -j ACCEPT
//! iptables -A INPUT -p tcp \
//!          --dport 22 -j ACCEPT
//! ```
//!
//! What counts:
//! - A command whose program is `iptables`, `iptables-legacy`, `iptables-nft` (the IPv4 rule
//!   set) or `ip6tables`, `ip6tables-legacy`, `ip6tables-nft` (IPv6), with any directory in
//!   front (`/sbin/iptables`, `/usr/sbin/iptables`) and optionally after `sudo`. `-t` picks the
//!   table (default filter).
//! - Lines are split as a POSIX shell does ([`split_shell`]): quotes, backslash escapes,
//!   `#` comments, backslash-newline continuations (the command's location is its first line),
//!   `;` `&&` `||` between commands, and redirections (dropped).
//! - `CMD || ...`: a failing iptables command is reported as a warning, not an error (the
//!   script says the failure is expected: `iptables -N X || true`). After `CMD && ...` a
//!   failed command skips the rest of the chain.
//!
//! What is skipped with a warning: every other command (`modprobe`, `echo`, `sysctl`, `set`,
//! `service`, shell keywords...), `iptables-restore`/`iptables-save` invocations (load their
//! input file on its own), and `-L`/`-S`/`-C`, which change nothing. `true`, `:` and `exit`
//! are skipped silently. Refused: an iptables command with a shell expansion (`$VAR`,
//! `$(..)`, backquotes, globs): ctguard does not run a shell, so it cannot know the value.
//!
//! Errors: every failing command is reported (the script goes on, as a shell without `set -e`
//! does), and any error refuses the whole rule set.

use crate::hook::{Family, TableName};
use crate::rules::apply::{apply, check_jump_targets};
use crate::rules::error::{Location, RuleError, Warning};
use crate::rules::lexer::{Tok, split_shell};
use crate::rules::model::RuleSet;
use crate::rules::spec::{Cmd, echo, parse_command};

/// The family an iptables program name stands for.
fn program_family(word: &str) -> Option<Family> {
    let base = word.rsplit('/').next().unwrap_or(word);
    match base {
        "iptables" | "iptables-legacy" | "iptables-nft" => Some(Family::V4),
        "ip6tables" | "ip6tables-legacy" | "ip6tables-nft" => Some(Family::V6),
        _ => None,
    }
}

fn is_restore_tool(word: &str) -> bool {
    let base = word.rsplit('/').next().unwrap_or(word);
    base.starts_with("iptables-") || base.starts_with("ip6tables-")
}

/// One simple command of a line: its words, whether a word expands, and the operator after it.
struct Segment {
    words: Vec<String>,
    expands: bool,
    op_after: Option<&'static str>,
}

fn segments(tokens: Vec<Tok>) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut cur = Segment {
        words: Vec::new(),
        expands: false,
        op_after: None,
    };
    let mut skip_next_word = false;
    for t in tokens {
        match t {
            Tok::Word { text, expands } => {
                if std::mem::take(&mut skip_next_word) {
                    continue;
                }
                cur.expands |= expands;
                cur.words.push(text);
            }
            Tok::Redirect { takes_word } => skip_next_word = takes_word,
            Tok::Op(op) => {
                cur.op_after = Some(op);
                out.push(std::mem::replace(
                    &mut cur,
                    Segment {
                        words: Vec::new(),
                        expands: false,
                        op_after: None,
                    },
                ));
            }
        }
    }
    out.push(cur);
    out.retain(|s| !s.words.is_empty() || s.op_after.is_some());
    out
}

/// Applies a script to the two rule sets. Errors and warnings are appended.
pub fn parse_script_into(
    text: &str,
    file: &str,
    v4: &mut RuleSet,
    v6: &mut RuleSet,
    errors: &mut Vec<RuleError>,
    warnings: &mut Vec<Warning>,
) {
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let first = i as u32 + 1;
        let loc = Location::new(file, first);
        // Join backslash-newline continuations.
        let mut joined = String::new();
        let tokens = loop {
            joined.push_str(lines[i]);
            i += 1;
            match split_shell(&joined) {
                Ok(sw) if sw.continues && i < lines.len() => {
                    // Drop the trailing backslash and go on with the next line.
                    joined.pop();
                    joined.push(' ');
                }
                Ok(sw) => break Ok(sw.tokens),
                Err(e) if i < lines.len() && e.starts_with("unterminated") => {
                    joined.push('\n');
                }
                Err(e) => break Err(e),
            }
        };
        let tokens = match tokens {
            Ok(t) => t,
            Err(e) => {
                errors.push(RuleError::new(&loc, format!("{e}: `{}'", joined.trim())));
                continue;
            }
        };
        let mut skip_rest_of_and_chain = false;
        for seg in segments(tokens) {
            if std::mem::take(&mut skip_rest_of_and_chain) {
                if seg.op_after == Some("&&") {
                    skip_rest_of_and_chain = true;
                }
                continue;
            }
            let mut words = seg.words.as_slice();
            // Leading variable assignments (`LC_ALL=C iptables ...`) and sudo.
            while let Some(w) = words.first()
                && (w == "sudo" || (w.contains('=') && !w.starts_with('-')))
            {
                words = &words[1..];
            }
            let Some(prog) = words.first() else {
                continue;
            };
            let Some(family) = program_family(prog) else {
                if matches!(prog.as_str(), "true" | ":" | "exit") {
                    continue;
                }
                let what = if is_restore_tool(prog) {
                    "iptables-restore/save is not followed; load its input file on its own"
                } else {
                    "not an iptables command"
                };
                warnings.push(Warning::new(
                    &loc,
                    format!("skipped `{}': {what}", echo(words)),
                ));
                continue;
            };
            let text = echo(words);
            let failed = if seg.expands {
                Err("shell expansion ($VAR, $(...), backquotes, globs) is not supported: ctguard does not run a shell; write the value".to_string())
            } else {
                run_command(&words[1..], family, v4, v6, &loc, warnings)
            };
            if let Err(e) = failed {
                let msg = format!("`{text}': {e}");
                if seg.op_after == Some("||") {
                    warnings.push(Warning::new(
                        &loc,
                        format!("{msg} (ignored: the script expects failure with `||')"),
                    ));
                } else {
                    errors.push(RuleError::new(&loc, msg));
                    if seg.op_after == Some("&&") {
                        skip_rest_of_and_chain = true;
                    }
                }
            }
        }
    }
}

fn run_command(
    args: &[String],
    family: Family,
    v4: &mut RuleSet,
    v6: &mut RuleSet,
    loc: &Location,
    warnings: &mut Vec<Warning>,
) -> Result<(), String> {
    let parsed = parse_command(args, family, false, loc)?;
    if parsed.only_family.is_some_and(|f| f != family) {
        return Ok(());
    }
    let table = parsed.table.unwrap_or(TableName::Filter);
    let rules = match family {
        Family::V4 => v4,
        Family::V6 => v6,
    };
    if matches!(
        parsed.cmd,
        Cmd::Append(_) | Cmd::Insert(..) | Cmd::Replace(..)
    ) {
        check_jump_targets(rules.table(table), &parsed.rules)?;
    }
    for w in apply(rules, table, parsed)? {
        warnings.push(Warning::new(loc, w));
    }
    Ok(())
}
