//! Packet classes: sets of packets described by the header fields iptables rules test, and the
//! set algebra the lint runs chains with.
//!
//! A [`Space`] is a union of [`Cube`]s. A cube is a product of one integer set per field
//! ([`Dim`]): protocol, source and destination address, source and destination port, TCP
//! flags, connection-tracking state, input and output interface. Every field is a [`Ranges`]
//! (sorted disjoint intervals), so intersection and difference are exact:
//!
//! - addresses are numbers (IPv4 in 0..2^32, IPv6 in 0..2^128); a CIDR network is one
//!   interval, `! -s` its complement, `-m iprange` an interval;
//! - ports are 0..=65535, and [`NO_PORT`] (65536) stands for packets that have none (ICMP);
//! - TCP flags are the 64 combinations of FIN SYN RST PSH ACK URG, and [`NOT_TCP`] (64) stands
//!   for packets that are not TCP;
//! - states are INVALID, NEW, RELATED, ESTABLISHED, UNTRACKED (0..=4, the `-m state` bit order);
//! - interfaces are indices into the [`Universe`]'s representative names: every name a rule
//!   mentions, one name per `-i PREFIX+` that only the prefix matches, one name that no rule
//!   names, and "" (no interface: `-o` before routing, `-i` on locally sent packets). Two real
//!   names that every `-i`/`-o` of the rule set treats alike share a representative, so the
//!   sets are exact for that rule set.
//!
//! Cubes are normalised so that every point in them is a possible packet: a cube holds TCP
//! only, or other port-carrying protocols only (UDP, UDP-Lite, SCTP, DCCP), or protocols
//! without ports only, with ports and flags restricted to match. Emptiness is therefore exact.
//!
//! What a rule matches ([`Universe::rule`]) is a [`RuleSpace`]: the space of its modelled
//! tests, plus the tests it could not model (`-m mark`, `-m length`, ICMP types, ...) and its
//! stateful matches (`-m limit`, `-m hashlimit`, `-m recent`, `-m connlimit`). The space is
//! exact when both lists are empty; otherwise the rule matches a subset of it that the lint
//! does not know. Non-first fragments are not modelled: classes hold whole packets and first
//! fragments, so `-f` matches none of them and `! -f` all.

use std::net::IpAddr;

use crate::hook::{Family, Hook};
use crate::rules::matches::StateMask;
use crate::rules::{IfaceMatch, Match, Net, Rule, RuleSet};

/// The port value of packets without ports.
pub const NO_PORT: u128 = 65_536;
/// The flags value of packets that are not TCP.
pub const NOT_TCP: u128 = 64;

const TCP: u128 = 6;
/// Protocols with 16-bit ports besides TCP: UDP, DCCP, SCTP, UDP-Lite.
const PORTED: [u128; 4] = [17, 33, 132, 136];

/// State values, in `-m state` bit order.
pub const INVALID: u128 = 0;
pub const NEW: u128 = 1;
pub const RELATED: u128 = 2;
pub const ESTABLISHED: u128 = 3;
pub const UNTRACKED: u128 = 4;
const STATE_NAMES: [&str; 5] = ["INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED"];

/// A set of integers: sorted, disjoint, non-adjacent inclusive intervals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ranges(Vec<(u128, u128)>);

impl Ranges {
    pub fn empty() -> Ranges {
        Ranges(Vec::new())
    }

    pub fn range(lo: u128, hi: u128) -> Ranges {
        if lo > hi {
            Ranges::empty()
        } else {
            Ranges(vec![(lo, hi)])
        }
    }

    pub fn single(v: u128) -> Ranges {
        Ranges(vec![(v, v)])
    }

    /// Any intervals, in any order, overlapping or not.
    pub fn from_intervals(it: impl IntoIterator<Item = (u128, u128)>) -> Ranges {
        let mut v: Vec<(u128, u128)> = it.into_iter().filter(|(a, b)| a <= b).collect();
        v.sort_unstable();
        let mut out: Vec<(u128, u128)> = Vec::with_capacity(v.len());
        for (lo, hi) in v {
            match out.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => out.push((lo, hi)),
            }
        }
        Ranges(out)
    }

    pub fn intervals(&self) -> &[(u128, u128)] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, v: u128) -> bool {
        self.0.iter().any(|&(lo, hi)| lo <= v && v <= hi)
    }

    /// How many values the set holds (saturating).
    pub fn count(&self) -> u128 {
        self.0.iter().fold(0u128, |n, &(lo, hi)| {
            n.saturating_add(hi - lo).saturating_add(1)
        })
    }

    pub fn intersect(&self, o: &Ranges) -> Ranges {
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < o.0.len() {
            let (a, b) = (self.0[i], o.0[j]);
            let lo = a.0.max(b.0);
            let hi = a.1.min(b.1);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a.1 < b.1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        Ranges(out)
    }

    pub fn subtract(&self, o: &Ranges) -> Ranges {
        let mut out = Vec::new();
        for &(lo, hi) in &self.0 {
            let mut start = lo;
            let mut open = true;
            for &(olo, ohi) in &o.0 {
                if ohi < start || olo > hi {
                    continue;
                }
                if olo > start {
                    out.push((start, olo - 1));
                }
                if ohi >= hi {
                    open = false;
                    break;
                }
                start = ohi + 1;
            }
            if open {
                out.push((start, hi));
            }
        }
        Ranges(out)
    }

    pub fn union(&self, o: &Ranges) -> Ranges {
        Ranges::from_intervals(self.0.iter().chain(o.0.iter()).copied())
    }

    pub fn is_subset(&self, o: &Ranges) -> bool {
        self.subtract(o).is_empty()
    }
}

/// The fields of a cube, in the order cube differences split them.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Dim {
    State = 0,
    Proto,
    Dport,
    Sport,
    InIface,
    OutIface,
    Dst,
    Src,
    Flags,
}

const DIMS: usize = 9;

/// A product of one set per [`Dim`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cube([Ranges; DIMS]);

impl Cube {
    pub fn get(&self, d: Dim) -> &Ranges {
        &self.0[d as usize]
    }

    fn set(&mut self, d: Dim, r: Ranges) {
        self.0[d as usize] = r;
    }

    fn is_empty(&self) -> bool {
        self.0.iter().any(Ranges::is_empty)
    }

    fn intersect(&self, o: &Cube) -> Option<Cube> {
        let mut out = self.clone();
        for i in 0..DIMS {
            out.0[i] = self.0[i].intersect(&o.0[i]);
            if out.0[i].is_empty() {
                return None;
            }
        }
        Some(out)
    }

    /// `self \ o` as disjoint cubes.
    fn subtract(&self, o: &Cube, out: &mut Vec<Cube>) {
        if self.intersect(o).is_none() {
            out.push(self.clone());
            return;
        }
        let mut prefix = self.clone();
        for i in 0..DIMS {
            let rest = self.0[i].subtract(&o.0[i]);
            if !rest.is_empty() {
                let mut piece = prefix.clone();
                piece.0[i] = rest;
                out.push(piece);
            }
            prefix.0[i] = self.0[i].intersect(&o.0[i]);
        }
    }

    /// Splits the cube so that every point is a possible packet (see the module docs).
    fn normalised(self, out: &mut Vec<Cube>) {
        let groups: [(Ranges, Ranges, Ranges); 3] = [
            (
                Ranges::single(TCP),
                Ranges::range(0, 65_535),
                Ranges::range(0, NOT_TCP - 1),
            ),
            (
                Ranges::from_intervals(PORTED.iter().map(|&p| (p, p))),
                Ranges::range(0, 65_535),
                Ranges::single(NOT_TCP),
            ),
            (
                Ranges::range(0, 255)
                    .subtract(&Ranges::single(TCP))
                    .subtract(&Ranges::from_intervals(PORTED.iter().map(|&p| (p, p)))),
                Ranges::single(NO_PORT),
                Ranges::single(NOT_TCP),
            ),
        ];
        for (protos, ports, flags) in groups {
            let mut c = self.clone();
            c.set(Dim::Proto, c.get(Dim::Proto).intersect(&protos));
            c.set(Dim::Sport, c.get(Dim::Sport).intersect(&ports));
            c.set(Dim::Dport, c.get(Dim::Dport).intersect(&ports));
            c.set(Dim::Flags, c.get(Dim::Flags).intersect(&flags));
            if !c.is_empty() {
                out.push(c);
            }
        }
    }
}

/// A union of cubes (possibly overlapping); every stored cube is non-empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Space(Vec<Cube>);

impl Space {
    pub fn empty() -> Space {
        Space(Vec::new())
    }

    pub fn cubes(&self) -> &[Cube] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of cubes (a measure of cost, not of size).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    fn from_cube(c: Cube) -> Space {
        let mut out = Vec::new();
        c.normalised(&mut out);
        Space(out)
    }

    pub fn intersect(&self, o: &Space) -> Space {
        let mut out = Vec::new();
        for a in &self.0 {
            for b in &o.0 {
                if let Some(c) = a.intersect(b) {
                    out.push(c);
                }
            }
        }
        Space(out).dedup()
    }

    pub fn subtract(&self, o: &Space) -> Space {
        let mut cur = self.0.clone();
        for b in &o.0 {
            let mut next = Vec::with_capacity(cur.len());
            for a in &cur {
                a.subtract(b, &mut next);
            }
            cur = next;
            if cur.is_empty() {
                break;
            }
        }
        Space(cur).dedup()
    }

    /// `self` minus `o`, or None once an intermediate result exceeds `limit` cubes.
    pub fn subtract_bounded(&self, o: &Space, limit: usize) -> Option<Space> {
        let mut cur = self.0.clone();
        for b in &o.0 {
            let mut next = Vec::with_capacity(cur.len());
            for a in &cur {
                a.subtract(b, &mut next);
            }
            cur = Space(next).dedup().0;
            if cur.is_empty() {
                break;
            }
            if cur.len() > limit {
                return None;
            }
        }
        Some(Space(cur))
    }

    pub fn union(&self, o: &Space) -> Space {
        let mut v = self.0.clone();
        v.extend(o.0.iter().cloned());
        Space(v).dedup()
    }

    pub fn is_subset(&self, o: &Space) -> bool {
        self.subtract(o).is_empty()
    }

    pub fn overlaps(&self, o: &Space) -> bool {
        self.0
            .iter()
            .any(|a| o.0.iter().any(|b| a.intersect(b).is_some()))
    }

    /// Every cube with field `d` intersected with `r`.
    pub fn restrict(&self, d: Dim, r: &Ranges) -> Space {
        let v = self
            .0
            .iter()
            .filter_map(|c| {
                let mut c = c.clone();
                c.set(d, c.get(d).intersect(r));
                (!c.is_empty()).then_some(c)
            })
            .collect();
        Space(v).dedup()
    }

    /// Every cube with field `d` replaced by `r`.
    pub fn with(&self, d: Dim, r: &Ranges) -> Space {
        if r.is_empty() {
            return Space::empty();
        }
        let v = self
            .0
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.set(d, r.clone());
                c
            })
            .collect();
        Space(v).dedup()
    }

    /// The packets going the other way: addresses, ports and interfaces swapped (a class seen
    /// at PREROUTING, input interface set and output interface "", becomes one at OUTPUT).
    pub fn reversed(&self) -> Space {
        let v = self
            .0
            .iter()
            .filter_map(|c| {
                let mut r = c.clone();
                r.set(Dim::Src, c.get(Dim::Dst).clone());
                r.set(Dim::Dst, c.get(Dim::Src).clone());
                r.set(Dim::Sport, c.get(Dim::Dport).clone());
                r.set(Dim::Dport, c.get(Dim::Sport).clone());
                r.set(Dim::OutIface, c.get(Dim::InIface).clone());
                r.set(Dim::InIface, c.get(Dim::OutIface).clone());
                (!r.is_empty()).then_some(r)
            })
            .collect();
        Space(v).dedup()
    }

    /// The union of field `d` over every cube.
    pub fn project(&self, d: Dim) -> Ranges {
        self.0
            .iter()
            .fold(Ranges::empty(), |acc, c| acc.union(c.get(d)))
    }

    fn dedup(mut self) -> Space {
        if self.0.len() > 1 {
            let mut seen = std::collections::HashSet::new();
            self.0.retain(|c| seen.insert(c.clone()));
        }
        self
    }
}

/// How a rule relates to a packet class.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Relation {
    /// It matches no packet of the class.
    None,
    /// It matches part of the class, and the lint knows which part.
    Some,
    /// It matches every packet of the class.
    All,
    /// It may match part of the class, through a test the lint does not model.
    Unknown,
}

/// What one rule matches.
#[derive(Clone, Debug)]
pub struct RuleSpace {
    /// The packets its modelled tests accept: exactly what it matches when
    /// [`RuleSpace::exact`], a superset otherwise.
    pub space: Space,
    /// Tests not modelled ("-m mark", "--tcp-option", "-m conntrack --ctorigdst", ...).
    pub unmodelled: Vec<String>,
    /// Stateful matches: "limit", "hashlimit", "recent", "connlimit".
    pub stateful: Vec<&'static str>,
}

impl RuleSpace {
    pub fn exact(&self) -> bool {
        self.unmodelled.is_empty() && self.stateful.is_empty()
    }

    /// Only rate limits stand between the space and the rule: it matches part of any class in
    /// its space (packets over the rate do not match), never all of it.
    pub fn rate_limited(&self) -> bool {
        self.unmodelled.is_empty()
            && !self.stateful.is_empty()
            && self
                .stateful
                .iter()
                .all(|s| matches!(*s, "limit" | "hashlimit"))
    }

    /// How the rule relates to `class`.
    pub fn relation(&self, class: &Space) -> Relation {
        if !class.overlaps(&self.space) {
            Relation::None
        } else if !self.exact() {
            Relation::Unknown
        } else if class.is_subset(&self.space) {
            Relation::All
        } else {
            Relation::Some
        }
    }
}

/// The value ranges of each field for one family, and the interface representatives of the
/// rule sets the lint reads.
#[derive(Clone, Debug)]
pub struct Universe {
    pub family: Family,
    /// Index 0 is "" (no interface), index 1 a name no rule mentions.
    ifaces: Vec<String>,
}

/// A character no interface name contains, to build names no rule mentions.
const FRESH: char = '\u{1}';

fn ip_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

impl Universe {
    /// The universe of `family` with every interface name the rule sets mention.
    pub fn new(family: Family, sets: &[&RuleSet]) -> Universe {
        let mut names: Vec<String> = Vec::new();
        for rs in sets {
            for t in rs.tables() {
                for c in t.chains() {
                    for r in &c.rules {
                        for m in [&r.ip.in_iface, &r.ip.out_iface].into_iter().flatten() {
                            names.push(match m.name.strip_suffix('+') {
                                Some(prefix) => format!("{prefix}{FRESH}"),
                                None => m.name.clone(),
                            });
                        }
                    }
                }
            }
        }
        names.sort();
        names.dedup();
        let mut ifaces = vec![String::new(), FRESH.to_string()];
        ifaces.extend(
            names
                .into_iter()
                .filter(|n| !n.is_empty() && *n != FRESH.to_string()),
        );
        Universe { family, ifaces }
    }

    fn addr_max(&self) -> u128 {
        match self.family {
            Family::V4 => u128::from(u32::MAX),
            Family::V6 => u128::MAX,
        }
    }

    /// Every value field `d` can take.
    pub fn full(&self, d: Dim) -> Ranges {
        match d {
            Dim::Proto => Ranges::range(0, 255),
            Dim::Src | Dim::Dst => Ranges::range(0, self.addr_max()),
            Dim::Sport | Dim::Dport => Ranges::range(0, NO_PORT),
            Dim::Flags => Ranges::range(0, NOT_TCP),
            Dim::State => Ranges::range(0, UNTRACKED),
            Dim::InIface | Dim::OutIface => Ranges::range(0, self.ifaces.len() as u128 - 1),
        }
    }

    /// Every packet.
    pub fn all(&self) -> Space {
        let dims = [
            Dim::State,
            Dim::Proto,
            Dim::Dport,
            Dim::Sport,
            Dim::InIface,
            Dim::OutIface,
            Dim::Dst,
            Dim::Src,
            Dim::Flags,
        ];
        Space::from_cube(Cube(dims.map(|d| self.full(d))))
    }

    /// The interface value of "no interface".
    pub fn no_iface(&self) -> Ranges {
        Ranges::single(0)
    }

    /// Every real interface (not "").
    pub fn some_iface(&self) -> Ranges {
        Ranges::range(1, self.ifaces.len() as u128 - 1)
    }

    /// The packets a hook can see: an input interface except on locally sent packets, an
    /// output interface once routed.
    pub fn at_hook(&self, hook: Hook) -> Space {
        let (i, o) = match hook {
            Hook::Prerouting | Hook::Input => (self.some_iface(), self.no_iface()),
            Hook::Forward => (self.some_iface(), self.some_iface()),
            Hook::Output => (self.no_iface(), self.some_iface()),
            Hook::Postrouting => (self.full(Dim::InIface), self.some_iface()),
        };
        self.all()
            .restrict(Dim::InIface, &i)
            .restrict(Dim::OutIface, &o)
    }

    /// The representatives `-i`/`-o` matches.
    pub fn iface_set(&self, m: &IfaceMatch) -> Ranges {
        Ranges::from_intervals(
            self.ifaces
                .iter()
                .enumerate()
                .filter(|(_, n)| m.matches(Some(n)))
                .map(|(i, _)| (i as u128, i as u128)),
        )
    }

    /// A readable name for representative `i` ("eth+" for a prefix-only name).
    pub fn iface_name(&self, i: u128) -> String {
        match self.ifaces.get(i as usize) {
            Some(n) if n.is_empty() => "(none)".into(),
            Some(n) if n.as_str() == FRESH.to_string() => "(other)".into(),
            Some(n) => n.replace(FRESH, "+"),
            None => "?".into(),
        }
    }

    /// The addresses of `-s`/`-d`: None for a non-contiguous mask.
    fn net(&self, net: &Net, invert: bool) -> Option<Ranges> {
        let mask = ip_bits(net.mask);
        let host = !mask & self.addr_max();
        if (host.wrapping_add(1) & host) != 0 {
            return None;
        }
        let lo = ip_bits(net.addr) & mask;
        let r = Ranges::range(lo, lo | host);
        Some(if invert {
            self.full(Dim::Src).subtract(&r)
        } else {
            r
        })
    }

    /// What `rule` matches.
    pub fn rule(&self, rule: &Rule) -> RuleSpace {
        let mut space = self.all();
        let mut unmodelled = Vec::new();
        let mut stateful = Vec::new();
        let ip = &rule.ip;
        for (d, slot, flag) in [(Dim::Src, &ip.src, "-s"), (Dim::Dst, &ip.dst, "-d")] {
            if let Some((net, inv)) = slot {
                match self.net(net, *inv) {
                    Some(r) => space = space.restrict(d, &r),
                    None => unmodelled.push(format!("{flag} with a non-contiguous mask")),
                }
            }
        }
        if let Some(m) = &ip.in_iface {
            space = space.restrict(Dim::InIface, &self.iface_set(m));
        }
        if let Some(m) = &ip.out_iface {
            space = space.restrict(Dim::OutIface, &self.iface_set(m));
        }
        if let Some((p, inv)) = ip.proto
            && p != 0
        {
            let one = Ranges::single(u128::from(p));
            let r = if inv {
                self.full(Dim::Proto).subtract(&one)
            } else {
                one
            };
            space = space.restrict(Dim::Proto, &r);
        }
        if ip.fragment == Some(false) {
            space = Space::empty();
        }
        for m in &rule.matches {
            self.apply_match(m, &mut space, &mut unmodelled, &mut stateful);
        }
        RuleSpace {
            space,
            unmodelled,
            stateful,
        }
    }

    fn apply_match(
        &self,
        m: &Match,
        space: &mut Space,
        unmodelled: &mut Vec<String>,
        stateful: &mut Vec<&'static str>,
    ) {
        let ports = Ranges::range(0, 65_535);
        let port_set = |r: crate::rules::matches::PortRange, inv: bool| {
            let s = Ranges::range(u128::from(r.lo), u128::from(r.hi));
            if inv { ports.subtract(&s) } else { s }
        };
        let states = |mask: u16, inv: bool| {
            let s =
                Ranges::from_intervals((0..5u128).filter(|i| mask & (1 << i) != 0).map(|i| (i, i)));
            if inv {
                self.full(Dim::State).subtract(&s)
            } else {
                s
            }
        };
        match m {
            Match::Tcp(t) => {
                *space = space.restrict(Dim::Proto, &Ranges::single(TCP));
                if let Some((r, inv)) = t.sport {
                    *space = space.restrict(Dim::Sport, &port_set(r, inv));
                }
                if let Some((r, inv)) = t.dport {
                    *space = space.restrict(Dim::Dport, &port_set(r, inv));
                }
                if let Some((mask, comp, inv)) = t.flags {
                    let f = Ranges::from_intervals(
                        (0..NOT_TCP)
                            .filter(|f| ((*f as u8 & mask) == comp) != inv)
                            .map(|f| (f, f)),
                    );
                    *space = space.restrict(Dim::Flags, &f);
                }
                if t.option.is_some() {
                    unmodelled.push("--tcp-option".into());
                }
            }
            Match::Udp(u) => {
                if let Some((r, inv)) = u.sport {
                    *space = space.restrict(Dim::Sport, &port_set(r, inv));
                }
                if let Some((r, inv)) = u.dport {
                    *space = space.restrict(Dim::Dport, &port_set(r, inv));
                }
            }
            Match::Multiport(mp) => {
                let Some((side, list, inv)) = &mp.spec else {
                    return;
                };
                let set = Ranges::from_intervals(
                    list.iter()
                        .map(|&(lo, hi)| (u128::from(lo), u128::from(hi))),
                );
                let not = ports.subtract(&set);
                *space = space
                    .restrict(Dim::Sport, &ports)
                    .restrict(Dim::Dport, &ports);
                use crate::rules::matches::Side;
                match (side, inv) {
                    (Side::Source, false) => *space = space.restrict(Dim::Sport, &set),
                    (Side::Source, true) => *space = space.restrict(Dim::Sport, &not),
                    (Side::Destination, false) => *space = space.restrict(Dim::Dport, &set),
                    (Side::Destination, true) => *space = space.restrict(Dim::Dport, &not),
                    (_, false) => {
                        *space = space
                            .restrict(Dim::Sport, &set)
                            .union(&space.restrict(Dim::Dport, &set));
                    }
                    (_, true) => {
                        *space = space.restrict(Dim::Sport, &not).restrict(Dim::Dport, &not);
                    }
                }
            }
            Match::State(s) => {
                if let Some(mask) = s.mask {
                    *space = space.restrict(Dim::State, &states(mask.0, s.invert));
                }
            }
            Match::Conntrack(c) => {
                if let Some((mask, inv)) = c.state {
                    if mask.0 & (StateMask::SNAT | StateMask::DNAT) != 0 {
                        unmodelled.push("--ctstate SNAT/DNAT".into());
                    } else {
                        *space = space.restrict(Dim::State, &states(mask.0, inv));
                    }
                }
                if c.tests_beyond_state() {
                    unmodelled.push("-m conntrack tuple, status, expiry or direction".into());
                }
            }
            Match::Iprange(r) => {
                for (d, slot) in [(Dim::Src, &r.src), (Dim::Dst, &r.dst)] {
                    if let Some((a, b, inv)) = slot {
                        let s = Ranges::range(ip_bits(*a), ip_bits(*b));
                        let s = if *inv {
                            self.full(Dim::Src).subtract(&s)
                        } else {
                            s
                        };
                        *space = space.restrict(d, &s);
                    }
                }
            }
            Match::Icmp(i) => {
                if i.kind != 0xff || i.invert {
                    unmodelled.push("--icmp-type".into());
                }
            }
            Match::Icmp6(i) => {
                if i.kind.is_some() {
                    unmodelled.push("--icmpv6-type".into());
                }
            }
            Match::Comment(_) => {}
            Match::Limit(_) => stateful.push("limit"),
            Match::Hashlimit(_) => stateful.push("hashlimit"),
            Match::Recent(_) => stateful.push("recent"),
            Match::Connlimit(_) => stateful.push("connlimit"),
            Match::Mark(_)
            | Match::Connmark(_)
            | Match::Addrtype(_)
            | Match::Length(_)
            | Match::Ttl(_)
            | Match::Hl(_) => unmodelled.push(format!("-m {}", m.name())),
        }
    }

    /// A short description of a space for messages: "tcp dport 80 UNTRACKED".
    pub fn describe(&self, s: &Space) -> String {
        if s.is_empty() {
            return "no packets".into();
        }
        let mut parts = Vec::new();
        let proto = s.project(Dim::Proto);
        if proto != self.full(Dim::Proto) {
            parts.push(list(&proto, 6, |v| proto_name(v).to_string()));
        }
        for (d, word) in [(Dim::Src, "from"), (Dim::Dst, "to")] {
            let r = s.project(d);
            if r != self.full(d) {
                parts.push(format!("{word} {}", self.addrs(&r)));
            }
        }
        for (d, word) in [(Dim::Sport, "sport"), (Dim::Dport, "dport")] {
            let r = s.project(d).subtract(&Ranges::single(NO_PORT));
            if !r.is_empty() && r != Ranges::range(0, 65_535) {
                parts.push(format!("{word} {}", list(&r, 8, |v| v.to_string())));
            }
        }
        for (d, word) in [(Dim::InIface, "in"), (Dim::OutIface, "out")] {
            let r = s.project(d);
            let real = r.intersect(&self.some_iface());
            if r == self.full(d) || real == self.some_iface() || real.is_empty() {
                continue;
            }
            let missing = self.some_iface().subtract(&real);
            if real.contains(1) {
                parts.push(format!(
                    "{word} !{}",
                    list(&missing, 6, |v| self.iface_name(v))
                ));
            } else {
                parts.push(format!("{word} {}", list(&real, 6, |v| self.iface_name(v))));
            }
        }
        let st = s.project(Dim::State);
        if st != self.full(Dim::State) {
            parts.push(list(&st, 5, |v| STATE_NAMES[v as usize].to_string()));
        }
        if parts.is_empty() {
            "every packet".into()
        } else {
            parts.join(" ")
        }
    }

    fn addrs(&self, r: &Ranges) -> String {
        let items: Vec<String> = r
            .intervals()
            .iter()
            .take(4)
            .map(|&(lo, hi)| self.cidr(lo, hi))
            .collect();
        let more = if r.intervals().len() > 4 { ",..." } else { "" };
        format!("{}{more}", items.join(","))
    }

    fn cidr(&self, lo: u128, hi: u128) -> String {
        let width = match self.family {
            Family::V4 => 32,
            Family::V6 => 128,
        };
        let size = hi.wrapping_sub(lo).wrapping_add(1);
        let addr = |v: u128| match self.family {
            Family::V4 => std::net::Ipv4Addr::from(v as u32).to_string(),
            Family::V6 => std::net::Ipv6Addr::from(v).to_string(),
        };
        if size == 0 {
            return format!("{}/0", addr(0));
        }
        if size.is_power_of_two() && lo & (size - 1) == 0 {
            let len = width - size.trailing_zeros();
            if len == width {
                addr(lo)
            } else {
                format!("{}/{len}", addr(lo))
            }
        } else {
            format!("{}-{}", addr(lo), addr(hi))
        }
    }
}

fn proto_name(p: u128) -> &'static str {
    match p {
        1 => "icmp",
        6 => "tcp",
        17 => "udp",
        33 => "dccp",
        58 => "icmpv6",
        132 => "sctp",
        136 => "udplite",
        _ => "",
    }
}

/// `a,b,c-d` with at most `max` items.
fn list(r: &Ranges, max: usize, name: impl Fn(u128) -> String) -> String {
    let count = r.count();
    if count <= max as u128 {
        let mut items = Vec::new();
        for &(lo, hi) in r.intervals() {
            for v in lo..=hi {
                let n = name(v);
                items.push(if n.is_empty() { v.to_string() } else { n });
            }
        }
        return items.join(",");
    }
    let items: Vec<String> = r
        .intervals()
        .iter()
        .take(max)
        .map(|&(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}:{hi}")
            }
        })
        .collect();
    let more = if r.intervals().len() > max {
        ",..."
    } else {
        ""
    };
    format!("{}{more}", items.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hook::TableName;
    use crate::rules;

    fn rules_of(text: &str) -> (Universe, Vec<RuleSpace>) {
        let l = rules::load_script(text, "t.sh").unwrap();
        let uni = Universe::new(Family::V4, &[&l.v4]);
        let spaces =
            l.v4.builtin_rules(TableName::Filter, Hook::Input)
                .iter()
                .map(|r| uni.rule(r))
                .collect();
        (uni, spaces)
    }

    #[test]
    fn ranges_algebra() {
        let a = Ranges::from_intervals([(0, 10), (20, 30)]);
        let b = Ranges::from_intervals([(5, 25)]);
        assert_eq!(a.intersect(&b), Ranges::from_intervals([(5, 10), (20, 25)]));
        assert_eq!(a.subtract(&b), Ranges::from_intervals([(0, 4), (26, 30)]));
        assert_eq!(a.union(&b), Ranges::range(0, 30));
        assert!(Ranges::range(6, 9).is_subset(&a));
        assert!(!b.is_subset(&a));
        assert_eq!(
            Ranges::from_intervals([(3, 4), (5, 6), (1, 1)]),
            Ranges::from_intervals([(1, 1), (3, 6)])
        );
        assert_eq!(
            Ranges::range(0, u128::MAX).subtract(&Ranges::single(u128::MAX)),
            Ranges::range(0, u128::MAX - 1)
        );
        assert_eq!(a.count(), 22);
    }

    #[test]
    fn untracked_class_against_state_and_port_rules() {
        let (uni, r) = rules_of(
            "iptables -A INPUT -m state --state NEW -j ACCEPT\n\
             iptables -A INPUT -m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT\n\
             iptables -A INPUT -p tcp --dport 22 -j ACCEPT\n\
             iptables -A INPUT -p tcp -m multiport --dports 22,80:90 -j ACCEPT\n\
             iptables -A INPUT -p tcp -j ACCEPT\n\
             iptables -A INPUT -m conntrack --ctstate UNTRACKED -m comment --comment x -j ACCEPT\n\
             iptables -A INPUT -p tcp --dport 80 -m limit --limit 1/s -j ACCEPT\n\
             iptables -A INPUT -p tcp --dport 80 -m mark --mark 1 -j ACCEPT\n",
        );
        let class = uni
            .at_hook(Hook::Input)
            .restrict(Dim::Proto, &Ranges::single(6))
            .restrict(Dim::Dport, &Ranges::single(80))
            .with(Dim::State, &Ranges::single(UNTRACKED));
        let rel: Vec<Relation> = r.iter().map(|s| s.relation(&class)).collect();
        assert_eq!(
            rel,
            [
                Relation::None,
                Relation::All,
                Relation::None,
                Relation::All,
                Relation::All,
                Relation::All,
                Relation::Unknown,
                Relation::Unknown,
            ]
        );
        assert!(r[6].rate_limited());
        assert!(!r[7].rate_limited());
        assert_eq!(uni.describe(&class), "tcp dport 80 UNTRACKED");
        // Partial overlap of ports: some.
        let wide = class.with(Dim::Dport, &Ranges::range(20, 25));
        assert_eq!(r[2].relation(&wide), Relation::Some);
    }

    #[test]
    fn interfaces_prefixes_and_inversion() {
        let (uni, r) = rules_of(
            "iptables -A INPUT -i lo -j ACCEPT\n\
             iptables -A INPUT -i eth+ -j ACCEPT\n\
             iptables -A INPUT ! -i eth0 -j ACCEPT\n",
        );
        let eth0 = uni.iface_set(&IfaceMatch {
            name: "eth0".into(),
            invert: false,
        });
        let class = uni.at_hook(Hook::Input).restrict(Dim::InIface, &eth0);
        assert_eq!(r[0].relation(&class), Relation::None);
        assert_eq!(r[1].relation(&class), Relation::All);
        assert_eq!(r[2].relation(&class), Relation::None);
        let any = uni.at_hook(Hook::Input);
        assert_eq!(r[1].relation(&any), Relation::Some);
        // lo, eth0 and ! eth0 together cover every interface.
        let union = r[1].space.union(&r[2].space);
        assert!(any.is_subset(&union));
    }

    #[test]
    fn addresses_flags_and_normalisation() {
        let (uni, r) = rules_of(
            "iptables -A INPUT -s 10.0.0.0/8 -j ACCEPT\n\
             iptables -A INPUT ! -s 10.0.0.0/8 -j ACCEPT\n\
             iptables -A INPUT -p tcp --syn -j ACCEPT\n\
             iptables -A INPUT -p tcp ! --syn -j ACCEPT\n\
             iptables -A INPUT -m iprange --src-range 10.1.0.0-10.1.255.255 -j ACCEPT\n",
        );
        let all = uni.all();
        assert!(all.is_subset(&r[0].space.union(&r[1].space)));
        let tcp = all.restrict(Dim::Proto, &Ranges::single(6));
        // --syn and ! --syn together cover all TCP packets; no "non-TCP flags" point is left.
        assert!(tcp.is_subset(&r[2].space.union(&r[3].space)));
        assert_eq!(r[4].relation(&r[0].space), Relation::Some);
        assert_eq!(r[0].relation(&r[4].space), Relation::All);
        assert_eq!(uni.describe(&r[4].space), "from 10.1.0.0/16");
        // ICMP packets have no ports: a port rule never matches them.
        let icmp = all.restrict(Dim::Proto, &Ranges::single(1));
        assert!(icmp.project(Dim::Dport) == Ranges::single(NO_PORT));
    }

    #[test]
    fn reversed_swaps_directions() {
        let uni = Universe::new(Family::V4, &[]);
        let c = uni
            .at_hook(Hook::Prerouting)
            .restrict(Dim::Proto, &Ranges::single(6))
            .restrict(Dim::Dport, &Ranges::single(80))
            .restrict(Dim::Src, &Ranges::range(10 << 24, (11 << 24) - 1));
        let r = c.reversed();
        assert_eq!(r.project(Dim::Sport), Ranges::single(80));
        assert_eq!(r.project(Dim::Dst), Ranges::range(10 << 24, (11 << 24) - 1));
        assert_eq!(r.project(Dim::InIface), uni.no_iface());
        assert_eq!(r.project(Dim::OutIface), uni.some_iface());
    }
}
