//! The rule-set checks: CT001 (untracked traffic dropped), CT002 (one direction), CT003
//! (NAT), CT004 (tracking off), CT008 (shadowed rules).

use super::flow::{Decider, Fate, RuleAt, TableView};
use super::space::{Dim, ESTABLISHED, INVALID, NEW, RELATED, Ranges, Space, UNTRACKED, Universe};
use super::{Finding, LintInput, Severity};
use crate::hook::{Family, Hook, TableName};
use crate::modules::check_without_tracking;
use crate::rules::matches::StateMask;
use crate::rules::{Match, Rule, RuleSet, Target};

/// Past this many cubes, CT008 stops widening what earlier rules cover.
const MAX_COVER_CUBES: usize = 512;

/// One NOTRACK rule of the raw table and the packets it marks (as raw sees them: state
/// INVALID, since nothing is tracked yet).
struct Class {
    hook: Hook,
    at: RuleAt,
    space: Space,
}

fn tool(family: Family) -> &'static str {
    match family {
        Family::V4 => "iptables",
        Family::V6 => "ip6tables",
    }
}

fn suffix(family: Family) -> &'static str {
    match family {
        Family::V4 => "",
        Family::V6 => " (ip6tables)",
    }
}

/// "filter INPUT rule 5".
fn rule_name(view: &TableView<'_>, at: RuleAt, family: Family) -> String {
    let chain = &view.table.chains()[at.0];
    format!(
        "{}{}",
        RuleSet::rule_name(view.table.name, &chain.name, at.1),
        suffix(family)
    )
}

fn rule_at<'a>(view: &TableView<'a>, at: RuleAt) -> &'a Rule {
    &view.table.chains()[at.0].rules[at.1]
}

/// "`-A INPUT -j REJECT` at FILE:LINE".
fn quote(view: &TableView<'_>, at: RuleAt) -> String {
    let chain = &view.table.chains()[at.0];
    let r = &chain.rules[at.1];
    format!("`-A {} {}` at {}", chain.name, r.spec(), r.location)
}

fn rule_numbers(ats: &[RuleAt]) -> String {
    let n: Vec<String> = ats.iter().map(|a| (a.1 + 1).to_string()).collect();
    match n.len() {
        0 => String::new(),
        1 => format!("rule {}", n[0]),
        _ => format!(
            "rules {} and {}",
            n[..n.len() - 1].join(", "),
            n[n.len() - 1]
        ),
    }
}

fn is_notrack(t: &Target) -> bool {
    match t {
        Target::Notrack => true,
        Target::Ct(ct) => ct.notrack,
        _ => false,
    }
}

fn is_nat(t: &Target) -> bool {
    matches!(
        t,
        Target::Snat(_) | Target::Dnat(_) | Target::Masquerade(_) | Target::Redirect(_)
    )
}

/// The host forwards when a filter FORWARD rule accepts or jumps somewhere.
fn infer_forwarding(rs: &RuleSet) -> bool {
    rs.builtin_rules(TableName::Filter, Hook::Forward)
        .iter()
        .any(|r| matches!(r.target, Target::Accept | Target::Jump(_) | Target::Goto(_)))
}

pub(super) fn check_family(rs: &RuleSet, input: &LintInput<'_>, out: &mut Vec<Finding>) {
    if rs.is_empty() {
        return;
    }
    let uni = Universe::new(rs.family, &[rs]);
    for t in rs.tables().filter(|t| t.present) {
        let view = TableView::new(t, &uni);
        shadowed(&view, rs.family, out);
    }
    if !input.tracking {
        return;
    }
    let raw = TableView::new(rs.table(TableName::Raw), &uni);
    if !raw.table.present {
        return;
    }
    let forwarding = input.forwarding.unwrap_or_else(|| infer_forwarding(rs));
    let mut classes = Vec::new();
    for hook in [Hook::Prerouting, Hook::Output] {
        let Some(start) = raw.builtin_index(hook) else {
            continue;
        };
        let within = uni.at_hook(hook).with(Dim::State, &Ranges::single(INVALID));
        for (at, space) in raw.collect(start, &within, &is_notrack) {
            classes.push(Class { hook, at, space });
        }
    }
    let filter = TableView::new(rs.table(TableName::Filter), &uni);
    let nat = TableView::new(rs.table(TableName::Nat), &uni);
    for c in &classes {
        untracked_dropped(&raw, &filter, c, forwarding, rs.family, out);
    }
    one_direction(&raw, &classes, rs.family, out);
    if nat.table.present {
        for c in &classes {
            hidden_from_nat(&raw, &nat, c, forwarding, rs.family, out);
        }
    }
}

/// CT001.
fn untracked_dropped(
    raw: &TableView<'_>,
    filter: &TableView<'_>,
    class: &Class,
    forwarding: bool,
    family: Family,
    out: &mut Vec<Finding>,
) {
    let uni = raw.uni;
    let untracked = class.space.with(Dim::State, &Ranges::single(UNTRACKED));
    let mut paths = Vec::new();
    match class.hook {
        Hook::Prerouting => {
            paths.push((Hook::Input, untracked.clone()));
            if forwarding {
                paths.push((
                    Hook::Forward,
                    untracked.with(Dim::OutIface, &uni.some_iface()),
                ));
            }
        }
        _ => paths.push((Hook::Output, untracked)),
    }
    let notrack = rule_at(raw, class.at);
    for (hook, cls) in paths {
        let Fate::Dead {
            decider,
            dropped,
            partial,
        } = filter.fate(hook, &cls)
        else {
            continue;
        };
        let Some(start) = filter.builtin_index(hook) else {
            continue;
        };
        let chain = hook.chain_name();
        let what = uni.describe(&dropped.with(Dim::State, &uni.full(Dim::State)));
        let (verb, decider_name, decider_index) = match &decider {
            Decider::Rule(at) => {
                let verb = match rule_at(filter, *at).target {
                    Target::Reject(_) => "rejected",
                    _ => "dropped",
                };
                (
                    verb,
                    format!(
                        "{} ({})",
                        rule_name(filter, *at, family),
                        quote(filter, *at)
                    ),
                    (at.0 == start).then_some(at.1),
                )
            }
            Decider::Policy(_) => (
                "dropped",
                format!("the DROP policy of filter {chain}"),
                None,
            ),
        };
        let message = format!(
            "untracked packets ({what}) are {verb} in filter {chain}: no rule accepts ctstate \
             UNTRACKED for them"
        );
        // Rules of the built-in chain that take the class only when it is tracked.
        let mut tracked_only = Vec::new();
        for (i, r) in filter.table.chains()[start].rules.iter().enumerate() {
            if decider_index.is_some_and(|d| i >= d) {
                break;
            }
            let rs = &filter.spaces[start][i];
            if r.target != Target::Accept || rs.relation(&cls) != super::space::Relation::None {
                continue;
            }
            let states: Vec<&str> = [
                (NEW, "NEW"),
                (RELATED, "RELATED"),
                (ESTABLISHED, "ESTABLISHED"),
            ]
            .into_iter()
            .filter(|(s, _)| {
                rs.relation(&cls.with(Dim::State, &Ranges::single(*s)))
                    == super::space::Relation::All
            })
            .map(|(_, n)| n)
            .collect();
            if !states.is_empty() {
                tracked_only.push(format!("rule {} only as {}", i + 1, states.join(",")));
            }
        }
        let mut explanation = format!(
            "{} ({}) marks these packets UNTRACKED before connection tracking sees them, and \
             an untracked packet never becomes NEW or ESTABLISHED.",
            rule_name(raw, class.at, family),
            quote(raw, class.at)
        );
        if !tracked_only.is_empty() {
            explanation.push_str(&format!(
                "\nIn filter {chain} they would be accepted if tracked ({}), but as UNTRACKED \
                 they match none of these.",
                tracked_only.join(", ")
            ));
        }
        for at in partial.iter().take(3) {
            explanation.push_str(&format!(
                "\n{} ({}) accepts only part of them.",
                capitalise(&rule_name(filter, *at, family)),
                quote(filter, *at)
            ));
        }
        explanation.push_str(&format!(
            "\n{} then {} them: every connection of this traffic fails. This is the seed's \
             outage: the raw NOTRACK rules went in without UNTRACKED in the state rule, and \
             the web site stopped answering.",
            capitalise(&decider_name),
            if verb == "rejected" {
                "rejects"
            } else {
                "drops"
            }
        ));
        let fix = fix_for(filter, start, hook, &cls, &decider, decider_index, family);
        out.push(Finding {
            code: "CT001",
            severity: Severity::Error,
            location: Some(notrack.location.clone()),
            rule: Some(rule_name(raw, class.at, family)),
            message,
            explanation,
            fix,
        });
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The fix for CT001: extend the state rule that already accepts the class when tracked, or
/// insert an UNTRACKED rule before the one that drops it.
fn fix_for(
    filter: &TableView<'_>,
    start: usize,
    hook: Hook,
    cls: &Space,
    decider: &Decider,
    decider_index: Option<usize>,
    family: Family,
) -> String {
    let chain = hook.chain_name();
    let as_established = cls.with(Dim::State, &Ranges::single(ESTABLISHED));
    for (i, r) in filter.table.chains()[start].rules.iter().enumerate() {
        if decider_index.is_some_and(|d| i >= d) {
            break;
        }
        if r.target != Target::Accept
            || filter.spaces[start][i].relation(&as_established) != super::space::Relation::All
        {
            continue;
        }
        let mut fixed = r.clone();
        let mut changed = false;
        for m in &mut fixed.matches {
            match m {
                Match::State(s) if !s.invert => {
                    if let Some(mask) = &mut s.mask {
                        mask.0 |= StateMask::UNTRACKED;
                        changed = true;
                    }
                }
                Match::Conntrack(c) => {
                    if let Some((mask, false)) = &mut c.state {
                        mask.0 |= StateMask::UNTRACKED;
                        changed = true;
                    }
                }
                _ => {}
            }
        }
        if changed {
            return format!(
                "add UNTRACKED to `-A {chain} {}` ({}):\n-A {chain} {}",
                r.spec(),
                r.location,
                fixed.spec()
            );
        }
    }
    let rule = format!("-A {chain} -m state --state UNTRACKED -j ACCEPT");
    match (decider, decider_index) {
        (Decider::Rule(at), Some(i)) => format!(
            "insert `{rule}` before {} (`{} -I {chain} {} -m state --state UNTRACKED -j ACCEPT`)",
            quote(filter, *at),
            tool(family),
            i + 1
        ),
        (Decider::Rule(_), None) => format!(
            "insert `{rule}` at the top of filter {chain} (`{} -I {chain} 1 -m state --state \
             UNTRACKED -j ACCEPT`)",
            tool(family)
        ),
        (Decider::Policy(_), _) => format!("add `{rule}`"),
    }
}

/// Swaps the direction words of a rule in iptables-save form.
fn mirrored_spec(spec: &str) -> String {
    spec.split(' ')
        .map(|w| match w {
            "--dports" => "--sports",
            "--sports" => "--dports",
            "--dport" => "--sport",
            "--sport" => "--dport",
            "--destination-ports" => "--source-ports",
            "--source-ports" => "--destination-ports",
            "-i" => "-o",
            "-o" => "-i",
            "-s" => "-d",
            "-d" => "-s",
            "--src-range" => "--dst-range",
            "--dst-range" => "--src-range",
            w => w,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// CT002.
fn one_direction(raw: &TableView<'_>, classes: &[Class], family: Family, out: &mut Vec<Finding>) {
    let uni = raw.uni;
    for c in classes {
        let other = match c.hook {
            Hook::Prerouting => Hook::Output,
            _ => Hook::Prerouting,
        };
        let cover = classes
            .iter()
            .filter(|o| o.hook == other)
            .fold(Space::empty(), |acc, o| acc.union(&o.space));
        let reply = c.space.reversed();
        let Some(missing) = reply.subtract_bounded(&cover, 4096) else {
            continue;
        };
        if missing.is_empty() {
            continue;
        }
        let rule = rule_at(raw, c.at);
        let own = uni.describe(&c.space.with(Dim::State, &uni.full(Dim::State)));
        let back = uni.describe(&missing.with(Dim::State, &uni.full(Dim::State)));
        let (dir, other_name) = match c.hook {
            Hook::Prerouting => ("incoming", "raw OUTPUT"),
            _ => ("outgoing", "raw PREROUTING"),
        };
        let partly = if missing == reply { "" } else { " all of" };
        out.push(Finding {
            code: "CT002",
            severity: Severity::Warning,
            location: Some(rule.location.clone()),
            rule: Some(rule_name(raw, c.at, family)),
            message: format!(
                "NOTRACK in one direction only: {dir} {own} is untracked, but no {other_name} \
                 NOTRACK covers{partly} the packets going the other way ({back})"
            ),
            explanation:
                ("Tracking is decided packet by packet: the other direction of these connections \
                 is still tracked. Its first packet (a SYN/ACK, a reply) finds no entry and is \
                 INVALID, and with nf_conntrack_tcp_loose=1 later ones create entries picked up \
                 mid-stream, so the table still fills and any rule that drops INVALID or \
                 accepts only ESTABLISHED breaks the connections. The seed sets both \
                 directions: `--dports 80` in raw PREROUTING and `--sports 80` in raw OUTPUT.")
                    .into(),
            fix: format!(
                "add `{} -t raw -A {} {}`",
                tool(family),
                other.chain_name(),
                mirrored_spec(&rule.spec())
            ),
        });
    }
}

/// CT003.
fn hidden_from_nat(
    raw: &TableView<'_>,
    nat: &TableView<'_>,
    class: &Class,
    forwarding: bool,
    family: Family,
    out: &mut Vec<Finding>,
) {
    let uni = raw.uni;
    let first = class.space.with(Dim::State, &Ranges::single(NEW));
    let paths: Vec<(Hook, Space)> = match class.hook {
        Hook::Prerouting => {
            let mut p = vec![
                (Hook::Prerouting, first.clone()),
                (Hook::Input, first.clone()),
            ];
            if forwarding {
                p.push((
                    Hook::Postrouting,
                    first.with(Dim::OutIface, &uni.some_iface()),
                ));
            }
            p
        }
        _ => vec![(Hook::Output, first.clone()), (Hook::Postrouting, first)],
    };
    let mut seen: Vec<RuleAt> = Vec::new();
    for (hook, cls) in paths {
        let Some(start) = nat.builtin_index(hook) else {
            continue;
        };
        for (at, sp) in nat.collect(start, &cls, &is_nat) {
            if seen.contains(&at) {
                continue;
            }
            seen.push(at);
            let nat_rule = rule_at(nat, at);
            let what = uni.describe(&sp.with(Dim::State, &uni.full(Dim::State)));
            out.push(Finding {
                code: "CT003",
                severity: Severity::Warning,
                location: Some(rule_at(raw, class.at).location.clone()),
                rule: Some(rule_name(raw, class.at, family)),
                message: format!(
                    "NOTRACK covers traffic that {} ({}) would translate: {what}",
                    rule_name(nat, at, family),
                    nat_rule.target.name()
                ),
                explanation: format!(
                    "NAT is bound to connection tracking: the nat table sees the first packet \
                     of each tracked connection and never an untracked one. Untracked packets \
                     matching {} keep their original addresses: a DNAT or REDIRECT service \
                     stops being reachable, SNAT or MASQUERADE traffic leaves with its private \
                     source address. The seed: use NOTRACK only where no NAT is needed.",
                    quote(nat, at)
                ),
                fix: format!(
                    "narrow {} so that it leaves out the translated traffic, or remove it",
                    quote(raw, class.at)
                ),
            });
        }
    }
}

/// CT004.
pub(super) fn check_tracking_off(input: &LintInput<'_>, out: &mut Vec<Finding>) {
    let Err(users) = check_without_tracking(&[input.v4, input.v6]) else {
        return;
    };
    for (family, u) in users.0 {
        let (rule, message) = match u.rule {
            Some(n) => (
                Some(format!(
                    "{} {} rule {n}{}",
                    u.table,
                    u.chain,
                    suffix(family)
                )),
                format!(
                    "{} ({}) needs nf_conntrack, and connection tracking is off",
                    u.feature, u.kernel_module
                ),
            ),
            None => (
                None,
                format!(
                    "the {} table of {} ({}) needs nf_conntrack, and connection tracking is off",
                    u.table,
                    tool(family),
                    u.kernel_module
                ),
            ),
        };
        out.push(Finding {
            code: "CT004",
            severity: Severity::Error,
            location: u.location.clone(),
            rule,
            message,
            explanation: format!(
                "The seed's fix 2 unloads nf_conntrack (`modprobe -r nf_conntrack`); {} \
                 depends on it, so loading this rule set loads nf_conntrack again (undoing \
                 the fix) or, with the module blocked, iptables-restore refuses the whole \
                 rule set. State matches, NAT, NOTRACK/CT, connmark and connlimit all need \
                 connection tracking.",
                u.kernel_module
            ),
            fix: "replace the rule with stateless matches (ports, TCP flags) or remove it; or \
                  keep tracking on and take the busy traffic out of it with raw NOTRACK (the \
                  seed's fix 3)"
                .into(),
        });
    }
}

/// Whether a rule with this target decides every packet of `space` it matches.
fn decides(view: &TableView<'_>, target: &Target, space: &Space) -> bool {
    match target {
        Target::Accept
        | Target::Drop
        | Target::Reject(_)
        | Target::Return
        | Target::Goto(_)
        | Target::Snat(_)
        | Target::Dnat(_)
        | Target::Masquerade(_)
        | Target::Redirect(_) => true,
        Target::Jump(c) => view
            .table
            .chain_index(&c.name)
            .and_then(|i| view.undecided(i, space))
            .is_some_and(|u| u.is_empty()),
        _ => false,
    }
}

/// CT008.
fn shadowed(view: &TableView<'_>, family: Family, out: &mut Vec<Finding>) {
    for (ci, chain) in view.table.chains().iter().enumerate() {
        let mut cover = Space::empty();
        let mut covering: Vec<usize> = Vec::new();
        for (i, rule) in chain.rules.iter().enumerate() {
            let rs = &view.spaces[ci][i];
            if !rs.space.is_empty()
                && !covering.is_empty()
                && rs
                    .space
                    .subtract_bounded(&cover, 4096)
                    .is_some_and(|rest| rest.is_empty())
            {
                let by: Vec<RuleAt> = covering
                    .iter()
                    .filter(|&&j| view.spaces[ci][j].space.overlaps(&rs.space))
                    .map(|&j| (ci, j))
                    .collect();
                let quoted: Vec<String> = by.iter().map(|&at| quote(view, at)).collect();
                let verb = if by.len() == 1 { "decides" } else { "decide" };
                out.push(Finding {
                    code: "CT008",
                    severity: Severity::Warning,
                    location: Some(rule.location.clone()),
                    rule: Some(rule_name(view, (ci, i), family)),
                    message: format!(
                        "{} can never match: {} before it already {verb} every packet it would \
                         match",
                        rule_name(view, (ci, i), family),
                        rule_numbers(&by)
                    ),
                    explanation: format!(
                        "{} matches only packets that {} take first, and iptables stops at the \
                         first rule that decides a packet. The rule is dead: its counters stay \
                         at zero and changing it changes nothing.",
                        quote(view, (ci, i)),
                        quoted.join(" and ")
                    ),
                    fix: format!(
                        "remove the rule, or move it above {} if it was meant to take effect",
                        rule_numbers(&by)
                    ),
                });
            }
            if rs.exact()
                && !rs.space.is_empty()
                && cover.len() < MAX_COVER_CUBES
                && decides(view, &rule.target, &rs.space)
            {
                cover = cover.union(&rs.space);
                covering.push(i);
            }
        }
    }
}
