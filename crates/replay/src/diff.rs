//! One capture under two configurations: which connections fare differently.
//!
//! Every packet goes through two [`Replayer`]s, A (the configuration in force) and B (the
//! one to compare with), in the same pass. Packets are grouped into connections: the packets
//! of one flow in either direction (protocol, and the two endpoints sorted; the ICMP echo id
//! stands in for the ports). Under each configuration a connection is *accepted* when every
//! packet was accepted and *dropped* when one was dropped, with the rule that dropped its
//! first dropped packet ([`Decision::rule`](ctguard_netfilter::pipeline::Decision)); it is
//! *tracked*, *UNTRACKED* or *partly UNTRACKED* by its packets' ctstate.
//!
//! [`Diff::finish`] groups the connections whose fate or tracking differs by service (the
//! protocol and destination port of each connection's first packet), the two deciding rules
//! and the two fates, and, when B drops connections because they are UNTRACKED, asks the lint
//! module (CT001 on B's rule sets) which rule to add UNTRACKED to:
//!
//! ```text
//! 3 connections to tcp/80 that were accepted are now dropped, by filter INPUT rule 6 (REJECT);
//! they are UNTRACKED and no rule accepts UNTRACKED; add UNTRACKED to filter INPUT rule 1
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use ctguard_conntrack::intake::{self, LinkType};
use ctguard_conntrack::{CtState, Instant, Verdict as V};
use ctguard_netfilter::lint::{self, Finding, LintInput};
use ctguard_netfilter::modules::TrackingRequired;
use ctguard_netfilter::pipeline::{Decision, Path, RuleRef};
use ctguard_netfilter::rules::{Policy, RuleSet};
use ctguard_netfilter::{Family, TableName};
use ctguard_wire::ip::protocol;

use crate::config::Config;
use crate::json;
use crate::replayer::Replayer;
use crate::summary::{Service, service_name};

/// How many example connections a group keeps.
const EXAMPLES: usize = 3;

/// One endpoint: address and port (the echo id for ICMP echo, 0 without ports).
pub type Endpoint = (IpAddr, u16);

/// A connection, direction-independent: protocol and the two endpoints, sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnKey {
    pub proto: u8,
    pub lo: Endpoint,
    pub hi: Endpoint,
}

/// The first packet of a connection: who sent it to whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirstPacket {
    pub index: u64,
    pub time: Instant,
    pub proto: u8,
    pub src: Endpoint,
    pub dst: Endpoint,
}

impl FirstPacket {
    /// Protocol and destination port, as the replay summary names services.
    pub fn service(&self) -> Service {
        match self.proto {
            protocol::TCP | protocol::UDP | protocol::UDPLITE | protocol::SCTP | protocol::DCCP => {
                (self.proto, self.dst.1)
            }
            p => (p, 0),
        }
    }

    /// `10.99.1.100:41000 > 10.99.1.1:80`.
    pub fn describe(&self) -> String {
        let ep = |(a, p): Endpoint| match (self.service().1, a) {
            (0, a) => a.to_string(),
            (_, IpAddr::V6(a)) => format!("[{a}]:{p}"),
            (_, a) => format!("{a}:{p}"),
        };
        format!("{} > {}", ep(self.src), ep(self.dst))
    }
}

/// Accepted or dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fate {
    Accepted,
    Dropped,
}

impl Fate {
    pub fn name(self) -> &'static str {
        match self {
            Fate::Accepted => "accepted",
            Fate::Dropped => "dropped",
        }
    }
}

/// Whether a connection's packets were tracked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tracking {
    /// No packet was UNTRACKED.
    Tracked,
    /// Some packets were UNTRACKED (e.g. one direction only), others not.
    Partly,
    /// Every packet was UNTRACKED.
    Untracked,
}

impl Tracking {
    pub fn name(self) -> &'static str {
        match self {
            Tracking::Tracked => "tracked",
            Tracking::Partly => "partly UNTRACKED",
            Tracking::Untracked => "UNTRACKED",
        }
    }
}

/// One connection under one configuration.
#[derive(Clone, Debug, Default)]
pub struct ConnFate {
    pub packets: u64,
    pub dropped: u64,
    pub untracked: u64,
    /// The rule that decided the first packet (None: no rule decided; with ACCEPT policies).
    pub first_rule: Option<RuleRef>,
    pub first_drop: Option<FirstDrop>,
}

/// A connection's first dropped packet under one configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstDrop {
    pub index: u64,
    /// The rule that dropped it (None: the tracker or routing).
    pub rule: Option<RuleRef>,
    pub ctstate: Option<CtState>,
    /// The way it took through the host, when it got past routing.
    pub path: Option<Path>,
}

impl ConnFate {
    fn add(&mut self, index: u64, d: &Decision) {
        let (verdict, rule, ctstate) = (d.verdict, &d.rule, d.ctstate);
        if self.packets == 0 {
            self.first_rule = rule.clone();
        }
        self.packets += 1;
        if ctstate == Some(CtState::Untracked) {
            self.untracked += 1;
        }
        if verdict == V::Drop {
            self.dropped += 1;
            if self.first_drop.is_none() {
                self.first_drop = Some(FirstDrop {
                    index,
                    rule: rule.clone(),
                    ctstate,
                    path: d.path,
                });
            }
        }
    }

    pub fn fate(&self) -> Fate {
        if self.dropped > 0 {
            Fate::Dropped
        } else {
            Fate::Accepted
        }
    }

    pub fn tracking(&self) -> Tracking {
        match self.untracked {
            0 => Tracking::Tracked,
            n if n >= self.packets => Tracking::Untracked,
            _ => Tracking::Partly,
        }
    }

    /// The deciding rule: the one that dropped the first dropped packet, or the one that
    /// accepted the first packet.
    pub fn deciding_rule(&self) -> Option<&RuleRef> {
        match &self.first_drop {
            Some(d) => d.rule.as_ref(),
            None => self.first_rule.as_ref(),
        }
    }

    /// The first dropped packet was UNTRACKED.
    pub fn dropped_untracked(&self) -> bool {
        self.first_drop
            .as_ref()
            .is_some_and(|d| d.ctstate == Some(CtState::Untracked))
    }
}

/// One connection under both configurations.
#[derive(Clone, Debug)]
pub struct Conn {
    pub key: ConnKey,
    pub family: Family,
    pub first: FirstPacket,
    pub a: ConnFate,
    pub b: ConnFate,
}

impl Conn {
    pub fn differs(&self) -> bool {
        self.a.fate() != self.b.fate() || self.a.tracking() != self.b.tracking()
    }
}

/// One side of a group: fate, tracking and the deciding rule, described.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Side {
    pub fate: Fate,
    pub tracking: Tracking,
    pub rule: Option<RuleRef>,
    /// "filter INPUT rule 6 (REJECT)", "filter INPUT policy DROP", "no rule (ACCEPT
    /// policies)".
    pub rule_text: String,
    /// The first dropped packet was UNTRACKED.
    pub dropped_untracked: bool,
}

/// The lint module's fix for untracked connections that B drops (CT001).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// "filter INPUT".
    pub chain: String,
    /// The rule to add UNTRACKED to, or the position to insert the UNTRACKED rule at
    /// (1-based, as `iptables -L --line-numbers`), when the fix names one.
    pub rule: Option<usize>,
    /// The fix as the lint module words it (may span lines).
    pub text: String,
    /// The NOTRACK rule the finding is about ("raw PREROUTING rule 1").
    pub notrack: Option<String>,
}

/// Connections of one service that changed the same way.
#[derive(Clone, Debug)]
pub struct Group {
    pub service: Service,
    pub family: Family,
    pub connections: u64,
    pub a: Side,
    pub b: Side,
    /// When B drops these connections because they are UNTRACKED: lint's CT001 answer.
    pub fix: Option<Fix>,
    /// Whether lint was asked (B drops them as UNTRACKED) and found no CT001 for them.
    pub lint_silent: bool,
    /// A few of the connections.
    pub examples: Vec<FirstPacket>,
}

impl Group {
    /// The one-paragraph answer: "N connections to tcp/80 that were accepted are now
    /// dropped, by filter INPUT rule 6 (REJECT); they are UNTRACKED and no rule accepts
    /// UNTRACKED; add UNTRACKED to filter INPUT rule 1".
    pub fn headline(&self) -> String {
        let n = self.connections;
        let s = if n == 1 { "" } else { "s" };
        let svc = service_name(self.service);
        let mut o = String::new();
        if self.a.fate != self.b.fate {
            let by = match self.b.fate {
                Fate::Dropped => format!("by {}", self.b.rule_text),
                Fate::Accepted => format!("(were dropped by {})", self.a.rule_text),
            };
            let _ = write!(
                o,
                "{n} connection{s} to {svc} that were {} {} now {}, {by}",
                self.a.fate.name(),
                if n == 1 { "is" } else { "are" },
                self.b.fate.name(),
            );
            if self.b.fate == Fate::Accepted && self.b.rule.is_some() {
                let _ = write!(o, "; now accepted by {}", self.b.rule_text);
            }
        } else {
            let _ = write!(
                o,
                "{n} connection{s} to {svc} that were {} {} now {} ({} under both, by {})",
                self.a.tracking.name(),
                if n == 1 { "is" } else { "are" },
                self.b.tracking.name(),
                self.b.fate.name(),
                self.b.rule_text,
            );
        }
        if self.b.fate == Fate::Dropped && self.b.dropped_untracked && self.a.fate != self.b.fate {
            let they = match (self.b.tracking, n) {
                (Tracking::Untracked, 1) => "it is",
                (Tracking::Untracked, _) => "they are",
                // e.g. NOTRACK in one direction only: the packets it drops.
                _ => "the packets dropped are",
            };
            match &self.fix {
                Some(f) => {
                    let _ = write!(o, "; {they} UNTRACKED and no rule accepts UNTRACKED");
                    match f.rule {
                        Some(k) if f.text.starts_with("add UNTRACKED to ") => {
                            let _ = write!(o, "; add UNTRACKED to {} rule {k}", f.chain);
                        }
                        Some(k) if f.text.starts_with("insert ") => {
                            let _ = write!(
                                o,
                                "; insert a rule accepting UNTRACKED as {} rule {k}",
                                f.chain
                            );
                        }
                        _ => {
                            let first = f.text.lines().next().unwrap_or_default();
                            let _ = write!(o, "; {first}");
                        }
                    }
                }
                None => {
                    let _ = write!(
                        o,
                        "; {they} UNTRACKED (lint finds no CT001 for them: check the rule that \
                         drops them)"
                    );
                }
            }
        }
        o
    }
}

/// What [`Diff::finish`] found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub packets: u64,
    /// Packets that belong to no connection (unreadable, non-first fragments of unseen
    /// datagrams).
    pub unattributed: u64,
    pub connections: u64,
    /// Connections whose fate or tracking differs.
    pub differing: u64,
    /// Largest first.
    pub groups: Vec<Group>,
}

/// Both replays in progress.
pub struct Diff {
    a: Replayer,
    b: Replayer,
    rules_a: [RuleSet; 2],
    rules_b: [RuleSet; 2],
    conns: HashMap<ConnKey, Conn>,
    /// First fragments seen: (family, src, dst, proto, id) → connection.
    fragments: HashMap<(IpAddr, IpAddr, u8, u32), ConnKey>,
    packets: u64,
    unattributed: u64,
}

/// A packet's connection key and first-packet view, from its headers.
fn classify(ip: &intake::Ip<'_>) -> Option<(ConnKey, Endpoint, Endpoint)> {
    let src = ctguard_conntrack::addr_from_bytes(ip.l3, &ip.src);
    let dst = ctguard_conntrack::addr_from_bytes(ip.l3, &ip.dst);
    if ip.fragment.is_some_and(|f| f.offset != 0) {
        return None;
    }
    let l4 = ip.l4();
    let (sp, dp) = match ip.proto {
        protocol::TCP | protocol::UDP | protocol::UDPLITE | protocol::SCTP | protocol::DCCP
            if l4.len() >= 4 =>
        {
            (
                u16::from_be_bytes([l4[0], l4[1]]),
                u16::from_be_bytes([l4[2], l4[3]]),
            )
        }
        // Echo request and reply: the id pairs them.
        protocol::ICMP if l4.len() >= 6 && matches!(l4[0], 0 | 8) => {
            let id = u16::from_be_bytes([l4[4], l4[5]]);
            (id, id)
        }
        protocol::ICMPV6 if l4.len() >= 6 && matches!(l4[0], 128 | 129) => {
            let id = u16::from_be_bytes([l4[4], l4[5]]);
            (id, id)
        }
        _ => (0, 0),
    };
    let (s, d) = ((src, sp), (dst, dp));
    let (lo, hi) = if s <= d { (s, d) } else { (d, s) };
    Some((
        ConnKey {
            proto: ip.proto,
            lo,
            hi,
        },
        s,
        d,
    ))
}

impl Diff {
    /// `a`: the configuration in force, `b`: the one to compare with. `ifaces`: the
    /// capture's interface names (pcapng), if it has any.
    pub fn new(a: &Config, b: &Config, ifaces: &[String]) -> Result<Diff, TrackingRequired> {
        Ok(Diff {
            a: Replayer::new(a, ifaces)?,
            b: Replayer::new(b, ifaces)?,
            rules_a: [a.rules4.clone(), a.rules6.clone()],
            rules_b: [b.rules4.clone(), b.rules6.clone()],
            conns: HashMap::new(),
            fragments: HashMap::new(),
            packets: 0,
            unattributed: 0,
        })
    }

    /// The two replayers (A, B), e.g. for their summaries.
    pub fn replayers(&self) -> (&Replayer, &Replayer) {
        (&self.a, &self.b)
    }

    /// One captured frame through both configurations.
    pub fn packet(&mut self, time: Instant, link: LinkType, iface: Option<&str>, frame: &[u8]) {
        let index = self.packets;
        self.packets += 1;
        let va = self.a.packet(time, link, iface, frame, false);
        let vb = self.b.packet(time, link, iface, frame, false);
        let Ok(ip) = intake::parse_frame(link, frame) else {
            self.unattributed += 1;
            return;
        };
        let src = ctguard_conntrack::addr_from_bytes(ip.l3, &ip.src);
        let dst = ctguard_conntrack::addr_from_bytes(ip.l3, &ip.dst);
        let key = match (classify(&ip), ip.fragment) {
            (Some((key, s, d)), frag) => {
                if let Some(f) = frag {
                    self.fragments.insert((src, dst, ip.proto, f.id), key);
                }
                self.conns.entry(key).or_insert_with(|| Conn {
                    key,
                    family: if src.is_ipv4() {
                        Family::V4
                    } else {
                        Family::V6
                    },
                    first: FirstPacket {
                        index,
                        time,
                        proto: ip.proto,
                        src: s,
                        dst: d,
                    },
                    a: ConnFate::default(),
                    b: ConnFate::default(),
                });
                key
            }
            (None, Some(f)) => match self.fragments.get(&(src, dst, ip.proto, f.id)) {
                Some(k) => *k,
                None => {
                    self.unattributed += 1;
                    return;
                }
            },
            (None, None) => {
                self.unattributed += 1;
                return;
            }
        };
        let conn = self.conns.get_mut(&key).expect("inserted above");
        // A fragment held for reassembly has no verdict yet: the datagram's last one has.
        if va.decision.verdict != V::Held {
            conn.a.add(index, &va.decision);
        }
        if vb.decision.verdict != V::Held {
            conn.b.add(index, &vb.decision);
        }
        if ip.fragment.is_some_and(|f| !f.more && f.offset != 0) {
            self.fragments
                .remove(&(src, dst, ip.proto, ip.fragment.map_or(0, |f| f.id)));
        }
    }

    /// The connections seen so far.
    pub fn connections(&self) -> impl Iterator<Item = &Conn> {
        self.conns.values()
    }

    /// Groups the differing connections; asks lint (CT001 on B) for the fix where B drops
    /// them as UNTRACKED.
    pub fn finish(&self) -> Report {
        let mut differing: Vec<&Conn> = self.conns.values().filter(|c| c.differs()).collect();
        differing.sort_by_key(|c| c.first.index);
        type GroupKey = (
            Service,
            Family,
            Fate,
            Tracking,
            Option<String>,
            Fate,
            Tracking,
            Option<String>,
            bool,
        );
        let mut order: Vec<GroupKey> = Vec::new();
        let mut groups: HashMap<GroupKey, Group> = HashMap::new();
        let mut lint_cache: [Option<Vec<Finding>>; 2] = [None, None];
        for c in &differing {
            let k: GroupKey = (
                c.first.service(),
                c.family,
                c.a.fate(),
                c.a.tracking(),
                c.a.deciding_rule().map(ToString::to_string),
                c.b.fate(),
                c.b.tracking(),
                c.b.deciding_rule().map(ToString::to_string),
                c.b.dropped_untracked(),
            );
            if let Some(g) = groups.get_mut(&k) {
                g.connections += 1;
                if g.examples.len() < EXAMPLES {
                    g.examples.push(c.first);
                }
                continue;
            }
            let fam = c.family as usize;
            let a = side(&c.a, &self.rules_a[fam]);
            let b = side(&c.b, &self.rules_b[fam]);
            let (mut fix, mut lint_silent) = (None, false);
            if b.fate == Fate::Dropped && b.dropped_untracked && a.fate != b.fate {
                let findings = lint_cache[fam].get_or_insert_with(|| {
                    let empty = RuleSet::new(other(c.family));
                    let input = match c.family {
                        Family::V4 => LintInput::new(&self.rules_b[0], &empty),
                        Family::V6 => LintInput::new(&empty, &self.rules_b[1]),
                    };
                    lint::run(&input)
                });
                let path = c.b.first_drop.as_ref().and_then(|d| d.path);
                fix = untracked_fix(
                    findings,
                    b.rule.as_ref(),
                    path,
                    &self.rules_b[fam],
                    c.family,
                );
                lint_silent = fix.is_none();
            }
            order.push(k.clone());
            groups.insert(
                k,
                Group {
                    service: c.first.service(),
                    family: c.family,
                    connections: 1,
                    a,
                    b,
                    fix,
                    lint_silent,
                    examples: vec![c.first],
                },
            );
        }
        let mut out: Vec<Group> = order
            .into_iter()
            .filter_map(|k| groups.remove(&k))
            .collect();
        // Largest first; ties in order of first appearance (the sort is stable).
        out.sort_by_key(|g| std::cmp::Reverse(g.connections));
        Report {
            packets: self.packets,
            unattributed: self.unattributed,
            connections: self.conns.len() as u64,
            differing: differing.len() as u64,
            groups: out,
        }
    }
}

fn other(f: Family) -> Family {
    match f {
        Family::V4 => Family::V6,
        Family::V6 => Family::V4,
    }
}

/// "filter INPUT rule 6 (REJECT)", "filter INPUT policy DROP".
pub fn describe_rule(r: Option<&RuleRef>, rules: &RuleSet, fate: Fate) -> String {
    let Some(r) = r else {
        return match fate {
            Fate::Accepted => "no rule (ACCEPT policies)".into(),
            Fate::Dropped => "no rule (the tracker or routing dropped it)".into(),
        };
    };
    let chain = rules.table(r.table).chain(&r.chain);
    match r.rule {
        Some(n) => {
            let target = chain
                .and_then(|c| c.rules.get(n.wrapping_sub(1)))
                .map(|rule| rule.target.name().to_string())
                .filter(|t| !t.is_empty());
            match target {
                Some(t) => format!("{} {} rule {n} ({t})", r.table, r.chain),
                None => format!("{} {} rule {n}", r.table, r.chain),
            }
        }
        None => {
            let policy = chain.and_then(|c| c.policy).map_or("", |p| match p {
                Policy::Accept => " ACCEPT",
                Policy::Drop => " DROP",
            });
            format!("{} {} policy{policy}", r.table, r.chain)
        }
    }
}

fn side(f: &ConnFate, rules: &RuleSet) -> Side {
    let fate = f.fate();
    let rule = f.deciding_rule().cloned();
    Side {
        fate,
        tracking: f.tracking(),
        rule_text: describe_rule(rule.as_ref(), rules, fate),
        rule,
        dropped_untracked: f.dropped_untracked(),
    }
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

/// The CT001 finding on B for untracked packets that `decider` dropped on `path`, and the
/// rule its fix names.
fn untracked_fix(
    findings: &[Finding],
    decider: Option<&RuleRef>,
    path: Option<Path>,
    rules: &RuleSet,
    family: Family,
) -> Option<Fix> {
    let decider = decider?;
    if decider.table != TableName::Filter {
        return None;
    }
    // The built-in chain the packet was in (the decider may sit in a user chain).
    let chain = match path {
        Some(Path::Input) => "INPUT",
        Some(Path::Forward) => "FORWARD",
        Some(Path::Output) => "OUTPUT",
        None => &*decider.chain,
    };
    let v6 = family == Family::V6;
    let in_chain: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.code == "CT001")
        .filter(|f| f.rule.as_deref().is_some_and(|r| r.contains("(ip6tables)")) == v6)
        .filter(|f| f.message.contains(&format!(" in filter {chain}: ")))
        .collect();
    // The explanation names what drops them: "Filter INPUT rule 6 (`...`) then rejects
    // them", "The DROP policy of filter INPUT then drops them".
    let needle = match decider.rule {
        Some(n) => format!(
            "{} (",
            RuleSet::rule_name(TableName::Filter, &decider.chain, n.saturating_sub(1))
        ),
        None => format!("the DROP policy of filter {} then", decider.chain),
    };
    let found = in_chain
        .iter()
        .find(|f| contains_ci(&f.explanation, &needle))
        .or_else(|| in_chain.first())?;
    let text = found.fix.clone();
    let builtin = rules.table(TableName::Filter).chain(chain);
    // "add UNTRACKED to `-A INPUT SPEC` (FILE:LINE):": that rule's number in B's chain.
    let rule = if let Some(rest) = text.strip_prefix("add UNTRACKED to `") {
        let quoted = rest.split('`').next().unwrap_or_default();
        builtin
            .and_then(|c| {
                c.rules.iter().position(|r| {
                    format!("-A {chain} {}", r.spec()) == quoted
                        && text.contains(&format!("({}):", r.location))
                })
            })
            .map(|i| i + 1)
    } else if text.starts_with("insert ") {
        // "... (`iptables -I INPUT N -m state --state UNTRACKED -j ACCEPT`)".
        let marker = format!(" -I {chain} ");
        text.find(&marker).and_then(|i| {
            text[i + marker.len()..]
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
        })
    } else {
        None
    };
    Some(Fix {
        chain: format!("filter {chain}"),
        rule,
        text,
        notrack: found.rule.clone(),
    })
}

fn family_name(f: Family) -> &'static str {
    match f {
        Family::V4 => "ipv4",
        Family::V6 => "ipv6",
    }
}

impl Report {
    /// The human answer. `a`, `b`: how to name the two configurations.
    pub fn render_text(&self, a: &str, b: &str) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "A: {a}\nB: {b}\n{} packets, {} connections: {} fare differently under B",
            self.packets, self.connections, self.differing
        );
        if self.groups.is_empty() {
            let _ = writeln!(o, "no connection fares differently");
            return o;
        }
        for g in &self.groups {
            let _ = writeln!(o, "\n{}", g.headline());
            if let Some(f) = &g.fix {
                let notrack = f
                    .notrack
                    .as_deref()
                    .map_or(String::new(), |n| format!(", about {n}"));
                let mut lines = f.text.lines();
                let _ = writeln!(
                    o,
                    "  fix (lint CT001{notrack}): {}",
                    lines.next().unwrap_or_default()
                );
                for l in lines {
                    let _ = writeln!(o, "    {}", l.trim_start());
                }
            }
            for (name, s) in [("A", &g.a), ("B", &g.b)] {
                let _ = writeln!(
                    o,
                    "  under {name}: {} ({}), deciding rule: {}",
                    s.fate.name(),
                    s.tracking.name(),
                    s.rule_text
                );
            }
            let ex: Vec<String> = g.examples.iter().map(FirstPacket::describe).collect();
            let more = if g.connections > g.examples.len() as u64 {
                format!(", and {} more", g.connections - g.examples.len() as u64)
            } else {
                String::new()
            };
            let _ = writeln!(o, "  connections: {}{more}", ex.join(", "));
        }
        o
    }

    /// The same for programs: one JSON object.
    pub fn render_json(&self, a: &str, b: &str) -> String {
        let opt = |s: Option<String>| s.map_or("null".to_string(), |s| json::string(&s));
        let side = |s: &Side| {
            format!(
                "{{\"fate\":\"{}\",\"tracking\":\"{}\",\"rule\":{},\"rule_text\":{},\"dropped_untracked\":{}}}",
                s.fate.name(),
                s.tracking.name(),
                opt(s.rule.as_ref().map(ToString::to_string)),
                json::string(&s.rule_text),
                s.dropped_untracked
            )
        };
        let groups: Vec<String> = self
            .groups
            .iter()
            .map(|g| {
                let fix = g.fix.as_ref().map_or("null".to_string(), |f| {
                    format!(
                        "{{\"check\":\"CT001\",\"chain\":{},\"rule\":{},\"notrack_rule\":{},\"text\":{}}}",
                        json::string(&f.chain),
                        f.rule.map_or("null".to_string(), |k| k.to_string()),
                        opt(f.notrack.clone()),
                        json::string(&f.text)
                    )
                });
                let ex: Vec<String> = g
                    .examples
                    .iter()
                    .map(|e| {
                        format!(
                            "{{\"first_packet\":{},\"flow\":{}}}",
                            e.index,
                            json::string(&e.describe())
                        )
                    })
                    .collect();
                format!(
                    "{{\"service\":{},\"family\":\"{}\",\"connections\":{},\"a\":{},\"b\":{},\"message\":{},\"fix\":{},\"examples\":[{}]}}",
                    json::string(&service_name(g.service)),
                    family_name(g.family),
                    g.connections,
                    side(&g.a),
                    side(&g.b),
                    json::string(&g.headline()),
                    fix,
                    ex.join(",")
                )
            })
            .collect();
        format!(
            "{{\"a\":{},\"b\":{},\"packets\":{},\"unattributed_packets\":{},\"connections\":{},\"differing\":{},\"groups\":[{}]}}",
            json::string(a),
            json::string(b),
            self.packets,
            self.unattributed,
            self.connections,
            self.differing,
            groups.join(",")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fate(verdicts: &[(V, Option<CtState>)]) -> ConnFate {
        let mut f = ConnFate::default();
        for (i, (v, s)) in verdicts.iter().enumerate() {
            let d = Decision {
                verdict: *v,
                ctstate: *s,
                conn: None,
                path: None,
                rule: None,
            };
            f.add(i as u64, &d);
        }
        f
    }

    #[test]
    fn fate_and_tracking_of_a_connection() {
        let f = fate(&[
            (V::Accept, Some(CtState::New)),
            (V::Accept, Some(CtState::Established)),
        ]);
        assert_eq!(
            (f.fate(), f.tracking()),
            (Fate::Accepted, Tracking::Tracked)
        );
        let f = fate(&[
            (V::Accept, Some(CtState::New)),
            (V::Drop, Some(CtState::Untracked)),
            (V::Drop, Some(CtState::Invalid)),
        ]);
        assert_eq!((f.fate(), f.tracking()), (Fate::Dropped, Tracking::Partly));
        assert_eq!(f.first_drop.as_ref().map(|d| d.index), Some(1));
        assert!(f.dropped_untracked());
        let f = fate(&[(V::Drop, Some(CtState::Untracked))]);
        assert_eq!(f.tracking(), Tracking::Untracked);
    }

    #[test]
    fn policies_and_rules_are_named_with_their_target() {
        let text = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -j REJECT\nCOMMIT\n";
        let rs = ctguard_netfilter::rules::load_save(text, "f", Family::V4)
            .unwrap()
            .v4;
        let r = |rule| RuleRef {
            table: TableName::Filter,
            chain: "INPUT".into(),
            rule,
        };
        assert_eq!(
            describe_rule(Some(&r(Some(2))), &rs, Fate::Dropped),
            "filter INPUT rule 2 (REJECT)"
        );
        assert_eq!(
            describe_rule(Some(&r(None)), &rs, Fate::Dropped),
            "filter INPUT policy DROP"
        );
        assert_eq!(
            describe_rule(None, &rs, Fate::Accepted),
            "no rule (ACCEPT policies)"
        );
    }
}
