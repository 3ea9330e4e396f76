//! Chains compiled for the walk: per chain, the rules that could match a packet, found from
//! the packet's addresses, protocol, destination port and interfaces, so that a packet skips
//! the rules that provably cannot match it instead of trying each one.
//!
//! The walk stays the kernel's (first match wins, in rule order); only the rules it tries
//! change. A rule is skipped only when a test it makes before any match with state or side
//! effects fails:
//! - the IP header part (`-s -d -i -o -p`), which [`Rule::matches`] evaluates first and which
//!   reads nothing but the packet;
//! - a `-m tcp`/`-m udp` `--dport N` of a `-p tcp`/`-p udp` rule, when every match before it
//!   is one that neither keeps state (limit, hashlimit, recent) nor drops the packet itself
//!   (hashlimit's hotdrop). A later fragment or a header without ports never matches it.
//!
//! Each rule is filed under one *slot* (its most selective test: source network, then
//! destination network, destination port, input interface, output interface, protocol), or
//! under *always* when it has none. A slot maps a key (the rule's address masked by the
//! slot's mask, the port, the name, the protocol) to the increasing list of its rules'
//! indices. For a packet, each slot gives at most one list (the packet's key); the walk
//! tries the union of those lists and *always*, in rule order: a merge of a few sorted
//! lists, without allocation.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

use crate::hook::Family;
use crate::rules::{IfaceMatch, Match, Net, Rule, RuleSet, Table};

/// Slots per chain (the distinct source and destination masks count one each); rules that
/// would need more are filed under their next test, or under *always*.
const MAX_SLOTS: usize = 12;

/// A hasher for the small fixed keys here (addresses, ports, interface names): the keys come
/// from the rule set, never from packets, so no one can choose colliding ones.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u128(&mut self, i: u128) {
        self.write_u64(i as u64);
        self.write_u64((i >> 64) as u64);
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Map<K> = HashMap<K, Span, BuildHasherDefault<FxHasher>>;

/// A range of [`ChainIndex::lists`]: one increasing list of rule indices.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

/// What a slot files rules by.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Dim {
    /// `-s` with this mask (contiguous, not /0); the key is the masked address.
    Src(bool, u128),
    /// `-d` likewise. The bool: IPv6.
    Dst(bool, u128),
    /// `-p tcp|udp ... --dport N`: the key is `proto << 16 | N`.
    Dport,
    /// `-i NAME` (no `+`, not inverted).
    InIface,
    /// `-o NAME`.
    OutIface,
    /// `-p P` (not `all`, not inverted).
    Proto,
}

/// One key of a rule in one dimension.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Num(u128),
    Name(Box<str>),
}

#[derive(Clone, Debug)]
enum Keys {
    Num(Map<u128>),
    Name(Map<Box<str>>),
}

#[derive(Clone, Debug)]
struct Slot {
    dim: Dim,
    keys: Keys,
}

/// The packet's side of the keys.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Probe<'a> {
    pub v6: bool,
    pub src: u128,
    pub dst: u128,
    pub proto: u8,
    pub dport: Option<u16>,
    pub in_iface: &'a str,
    pub out_iface: &'a str,
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

impl<'a> Probe<'a> {
    pub(crate) fn new(
        fields: &super::Fields,
        in_iface: Option<&'a str>,
        out_iface: Option<&'a str>,
    ) -> Probe<'a> {
        Probe {
            v6: fields.family == Family::V6,
            src: bits(fields.src),
            dst: bits(fields.dst),
            proto: fields.proto,
            // Ports as the tcp and udp matches read them (none in a later fragment).
            dport: if fields.later_fragment {
                None
            } else {
                fields.l4.dport
            },
            // A packet without the interface compares as the empty name (IfaceMatch).
            in_iface: in_iface.unwrap_or(""),
            out_iface: out_iface.unwrap_or(""),
        }
    }
}

/// One chain's index.
#[derive(Clone, Debug)]
pub(crate) struct ChainIndex {
    n_rules: usize,
    slots: Vec<Slot>,
    always: Span,
    lists: Vec<u32>,
}

/// A network as a slot dimension and key: contiguous masks only, not /0, not inverted.
fn net_key(slot: Option<&(Net, bool)>, dst: bool) -> Option<(Dim, Key)> {
    let (net, inv) = slot?;
    if *inv || net.is_any() {
        return None;
    }
    let mask = bits(net.mask);
    let v6 = net.addr.is_ipv6();
    let width = if v6 { 128 } else { 32 };
    // Contiguous: the ones, then the zeros.
    let ones = mask.count_ones();
    let contiguous = mask.leading_zeros() == 128 - width && mask.trailing_zeros() == width - ones;
    if !contiguous || net.mask.is_ipv6() != v6 {
        return None;
    }
    let dim = if dst {
        Dim::Dst(v6, mask)
    } else {
        Dim::Src(v6, mask)
    };
    Some((dim, Key::Num(bits(net.addr) & mask)))
}

fn iface_key(slot: Option<&IfaceMatch>) -> Option<Key> {
    let i = slot?;
    if i.invert || i.name.ends_with('+') {
        return None;
    }
    Some(Key::Name(i.name.as_str().into()))
}

/// True for a match that reads only the packet and never drops it itself: skipping it
/// changes nothing.
fn pure(m: &Match) -> bool {
    match m {
        Match::Tcp(_)
        | Match::Udp(_)
        | Match::Icmp(_)
        | Match::Icmp6(_)
        | Match::Multiport(_)
        | Match::State(_)
        | Match::Conntrack(_)
        | Match::Mark(_)
        | Match::Connmark(_)
        | Match::Comment(_)
        | Match::Iprange(_)
        | Match::Addrtype(_)
        | Match::Length(_)
        | Match::Ttl(_)
        | Match::Hl(_) => true,
        Match::Limit(_) | Match::Hashlimit(_) | Match::Connlimit(_) | Match::Recent(_) => false,
    }
}

/// `--dport N` of a `-p tcp` or `-p udp` rule, reached only through pure matches.
fn dport_key(rule: &Rule) -> Option<Key> {
    let (proto, false) = rule.ip.proto? else {
        return None;
    };
    for m in &rule.matches {
        let dport = match (m, proto) {
            (Match::Tcp(t), 6) => t.dport,
            (Match::Udp(u), 17) => u.dport,
            _ => None,
        };
        if let Some((r, false)) = dport
            && r.lo == r.hi
        {
            return Some(Key::Num(u128::from(proto) << 16 | u128::from(r.lo)));
        }
        if !pure(m) {
            return None;
        }
    }
    None
}

/// The rule's tests that can file it, most selective first.
fn keys(rule: &Rule) -> impl Iterator<Item = (Dim, Key)> {
    let ip = &rule.ip;
    [
        net_key(ip.src.as_ref(), false),
        net_key(ip.dst.as_ref(), true),
        dport_key(rule).map(|k| (Dim::Dport, k)),
        iface_key(ip.in_iface.as_ref()).map(|k| (Dim::InIface, k)),
        iface_key(ip.out_iface.as_ref()).map(|k| (Dim::OutIface, k)),
        match ip.proto {
            Some((p, false)) if p != 0 => Some((Dim::Proto, Key::Num(u128::from(p)))),
            _ => None,
        },
    ]
    .into_iter()
    .flatten()
}

impl ChainIndex {
    pub(crate) fn build(rules: &[Rule]) -> ChainIndex {
        let mut dims: Vec<Dim> = Vec::new();
        // Per slot, per key, the rules filed there, in order.
        let mut filed: Vec<HashMap<Key, Vec<u32>, BuildHasherDefault<FxHasher>>> = Vec::new();
        let mut always: Vec<u32> = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let i = i as u32;
            let mut placed = false;
            for (dim, key) in keys(rule) {
                let s = match dims.iter().position(|d| *d == dim) {
                    Some(s) => s,
                    None if dims.len() < MAX_SLOTS => {
                        dims.push(dim);
                        filed.push(HashMap::default());
                        dims.len() - 1
                    }
                    None => continue,
                };
                filed[s].entry(key).or_default().push(i);
                placed = true;
                break;
            }
            if !placed {
                always.push(i);
            }
        }
        let mut lists = Vec::new();
        let mut push = |v: &[u32]| {
            let start = lists.len() as u32;
            lists.extend_from_slice(v);
            Span {
                start,
                end: lists.len() as u32,
            }
        };
        let always = push(&always);
        let slots = dims
            .into_iter()
            .zip(filed)
            .map(|(dim, entries)| {
                let keys = match dim {
                    Dim::InIface | Dim::OutIface => Keys::Name(
                        entries
                            .into_iter()
                            .map(|(k, v)| match k {
                                Key::Name(n) => (n, push(&v)),
                                Key::Num(_) => unreachable!("interfaces are names"),
                            })
                            .collect(),
                    ),
                    _ => Keys::Num(
                        entries
                            .into_iter()
                            .map(|(k, v)| match k {
                                Key::Num(n) => (n, push(&v)),
                                Key::Name(_) => unreachable!("only interfaces are names"),
                            })
                            .collect(),
                    ),
                };
                Slot { dim, keys }
            })
            .collect();
        ChainIndex {
            n_rules: rules.len(),
            slots,
            always,
            lists,
        }
    }

    /// The packet's list in one slot (empty when its key files nothing).
    fn lookup(&self, slot: &Slot, p: &Probe<'_>) -> Span {
        let num = |k: u128| match &slot.keys {
            Keys::Num(m) => m.get(&k).copied(),
            Keys::Name(_) => None,
        };
        let name = |k: &str| match &slot.keys {
            Keys::Name(m) => m.get(k).copied(),
            Keys::Num(_) => None,
        };
        let found = match slot.dim {
            Dim::Src(v6, mask) if v6 == p.v6 => num(p.src & mask),
            Dim::Dst(v6, mask) if v6 == p.v6 => num(p.dst & mask),
            Dim::Src(..) | Dim::Dst(..) => None,
            Dim::Dport => p
                .dport
                .and_then(|d| num(u128::from(p.proto) << 16 | u128::from(d))),
            Dim::InIface => name(p.in_iface),
            Dim::OutIface => name(p.out_iface),
            Dim::Proto => num(u128::from(p.proto)),
        };
        found.unwrap_or_default()
    }
}

/// A packet's way through one chain's index: the rules still to try, as the heads of at most
/// `MAX_SLOTS + 1` sorted lists.
#[derive(Clone, Debug)]
pub(crate) struct Cursor {
    heads: [Span; MAX_SLOTS + 1],
    n: usize,
}

impl Cursor {
    /// The candidates of `p` from rule `at` on.
    pub(crate) fn new(ix: &ChainIndex, p: &Probe<'_>, at: usize) -> Cursor {
        let mut c = Cursor {
            heads: [Span::default(); MAX_SLOTS + 1],
            n: 0,
        };
        let mut add = |s: Span| {
            if s.start < s.end {
                let list = &ix.lists[s.start as usize..s.end as usize];
                let skip = list.partition_point(|&r| (r as usize) < at) as u32;
                c.heads[c.n] = Span {
                    start: s.start + skip,
                    end: s.end,
                };
                c.n += 1;
            }
        };
        add(ix.always);
        for slot in &ix.slots {
            add(ix.lookup(slot, p));
        }
        c
    }

    /// The first rule at or after `at` that could match (the chain's length when none is
    /// left; `at` itself when it is past the end). `at` never decreases between calls.
    pub(crate) fn next(&mut self, ix: &ChainIndex, at: usize) -> usize {
        if at >= ix.n_rules {
            return at;
        }
        let mut best = ix.n_rules;
        for h in &mut self.heads[..self.n] {
            while h.start < h.end && (ix.lists[h.start as usize] as usize) < at {
                h.start += 1;
            }
            if h.start < h.end {
                best = best.min(ix.lists[h.start as usize] as usize);
            }
        }
        best
    }
}

/// Every chain of both families' rule sets, compiled, and whether the walk uses them.
#[derive(Clone, Debug)]
pub(crate) struct Compiled {
    pub enabled: bool,
    /// [family][table][chain], chains as [`Table::chains`] orders them.
    chains: [Vec<Vec<ChainIndex>>; 2],
}

fn compile_set(rules: &RuleSet) -> Vec<Vec<ChainIndex>> {
    rules
        .tables()
        .map(|t: &Table| {
            t.chains()
                .iter()
                .map(|c| ChainIndex::build(&c.rules))
                .collect()
        })
        .collect()
}

impl Compiled {
    pub(crate) fn new(rules4: &RuleSet, rules6: &RuleSet) -> Compiled {
        Compiled {
            enabled: true,
            chains: [compile_set(rules4), compile_set(rules6)],
        }
    }

    /// Recompiles one family after its rule set changed.
    pub(crate) fn set(&mut self, family: Family, rules: &RuleSet) {
        self.chains[family as usize] = compile_set(rules);
    }

    /// The chain's index, when the walk should use one: compiled, enabled, and still the
    /// shape of the chain it was built from.
    pub(crate) fn chain(
        &self,
        family: usize,
        table: crate::hook::TableName,
        chain: usize,
        n_rules: usize,
    ) -> Option<&ChainIndex> {
        if !self.enabled {
            return None;
        }
        let ix = self.chains[family].get(table as usize)?.get(chain)?;
        (ix.n_rules == n_rules).then_some(ix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Hook;
    use crate::TableName;

    fn chain(text: &str) -> ChainIndex {
        let text = format!("*filter\n{text}COMMIT\n");
        let loaded = crate::rules::load(&text, "t.rules").expect("rules");
        ChainIndex::build(loaded.v4.builtin_rules(TableName::Filter, Hook::Input))
    }

    fn probe<'a>(src: &str, dst: &str, proto: u8, dport: Option<u16>, i: &'a str) -> Probe<'a> {
        let a = |s: &str| bits(s.parse::<IpAddr>().unwrap());
        Probe {
            v6: false,
            src: a(src),
            dst: a(dst),
            proto,
            dport,
            in_iface: i,
            out_iface: "",
        }
    }

    fn candidates(ix: &ChainIndex, p: &Probe<'_>) -> Vec<usize> {
        let mut c = Cursor::new(ix, p, 0);
        let mut out = Vec::new();
        let mut at = 0;
        loop {
            at = c.next(ix, at);
            if at >= ix.n_rules {
                return out;
            }
            out.push(at);
            at += 1;
        }
    }

    #[test]
    fn a_packet_tries_only_the_rules_its_keys_file_and_the_unfiled_ones() {
        let ix = chain(
            "-A INPUT -s 192.0.2.1 -j DROP\n\
             -A INPUT -s 192.0.2.2 -j DROP\n\
             -A INPUT -m state --state ESTABLISHED -j ACCEPT\n\
             -A INPUT -s 198.51.100.0/24 -p tcp --dport 80 -j DROP\n\
             -A INPUT -p tcp -m state --state NEW -m tcp --dport 80 -j ACCEPT\n\
             -A INPUT -p tcp -m limit --limit 1/s -m tcp --dport 22 -j ACCEPT\n\
             -A INPUT -i lo -j ACCEPT\n\
             -A INPUT -p icmp -j ACCEPT\n\
             -A INPUT -s 192.0.2.1 -j ACCEPT\n\
             -A INPUT -j REJECT\n",
        );
        // From 192.0.2.1 to port 80 over eth0.
        let p = probe("192.0.2.1", "10.0.0.1", 6, Some(80), "eth0");
        assert_eq!(candidates(&ix, &p), [0, 2, 4, 5, 8, 9]);
        // From 198.51.100.7 over lo, ICMP.
        let p = probe("198.51.100.7", "10.0.0.1", 1, None, "lo");
        assert_eq!(candidates(&ix, &p), [2, 3, 6, 7, 9]);
        // Resuming in the middle (a RETURN back into the chain).
        let mut c = Cursor::new(&ix, &p, 4);
        assert_eq!(c.next(&ix, 4), 6);
        assert_eq!(c.next(&ix, 10), 10);
    }

    #[test]
    fn inverted_wildcard_and_odd_masks_are_never_filed() {
        let ix = chain(
            "-A INPUT ! -s 192.0.2.1 -j DROP\n\
             -A INPUT -i eth+ -j DROP\n\
             -A INPUT -s 10.0.0.0/255.0.255.0 -j DROP\n\
             -A INPUT -p tcp ! --dport 80 -j DROP\n",
        );
        assert_eq!(ix.slots.len(), 1, "only the -p tcp of rule 4");
        assert_eq!(
            ix.lists[ix.always.start as usize..ix.always.end as usize],
            [0, 1, 2]
        );
    }
}
