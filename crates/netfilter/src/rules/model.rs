//! The rule-set model: rule sets, tables, chains, rules, policies, counters.

use crate::hook::{Family, Hook, TableName};
use crate::packet::PacketCtx;
use crate::rules::addr::Net;
use crate::rules::error::Location;
use crate::rules::matches::Match;
use crate::rules::names::protocol_name;
use crate::rules::state::MatchState;
use crate::rules::targets::Target;

/// Packet and byte counters (`[packets:bytes]`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
}

impl Counters {
    pub fn new(packets: u64, bytes: u64) -> Self {
        Counters { packets, bytes }
    }

    /// Counts one packet of `bytes` bytes.
    pub fn add(&mut self, bytes: u64) {
        self.packets += 1;
        self.bytes += bytes;
    }

    pub fn zero(&mut self) {
        *self = Counters::default();
    }
}

/// A built-in chain's policy.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Policy {
    Accept,
    Drop,
}

impl Policy {
    pub fn name(self) -> &'static str {
        match self {
            Policy::Accept => "ACCEPT",
            Policy::Drop => "DROP",
        }
    }

    pub fn parse(s: &str) -> Option<Policy> {
        match s {
            "ACCEPT" => Some(Policy::Accept),
            "DROP" => Some(Policy::Drop),
            _ => None,
        }
    }
}

/// `-i`/`-o`: an interface name, `+` at the end matching any suffix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfaceMatch {
    pub name: String,
    pub invert: bool,
}

impl IfaceMatch {
    /// A packet without that interface (e.g. `-i` at OUTPUT) compares as the empty name.
    pub fn matches(&self, iface: Option<&str>) -> bool {
        let have = iface.unwrap_or("");
        let hit = match self.name.strip_suffix('+') {
            Some(prefix) => have.starts_with(prefix),
            None => have == self.name,
        };
        hit != self.invert
    }
}

/// The IP header part of a rule (`-s -d -i -o -p -f`), which iptables keeps apart from `-m`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpMatch {
    pub src: Option<(Net, bool)>,
    pub dst: Option<(Net, bool)>,
    pub in_iface: Option<IfaceMatch>,
    pub out_iface: Option<IfaceMatch>,
    /// Protocol number (0 is `all`), inverted.
    pub proto: Option<(u8, bool)>,
    /// `-f` (Some(false)) or `! -f` (Some(true)).
    pub fragment: Option<bool>,
}

impl IpMatch {
    pub fn matches(&self, pkt: &PacketCtx<'_>) -> bool {
        if let Some((net, inv)) = &self.src
            && net.contains(pkt.src) == *inv
        {
            return false;
        }
        if let Some((net, inv)) = &self.dst
            && net.contains(pkt.dst) == *inv
        {
            return false;
        }
        if let Some(i) = &self.in_iface
            && !i.matches(pkt.in_iface)
        {
            return false;
        }
        if let Some(o) = &self.out_iface
            && !o.matches(pkt.out_iface)
        {
            return false;
        }
        if let Some((p, inv)) = self.proto
            && p != 0
            && (pkt.proto == p) == inv
        {
            return false;
        }
        if let Some(inv) = self.fragment
            && pkt.later_fragment == inv
        {
            return false;
        }
        true
    }

    /// ` -s .. -d .. -i .. -o .. -p .. -f` in iptables-save's order.
    pub fn save(&self, out: &mut String) {
        let bang = |out: &mut String, inv: bool| {
            if inv {
                out.push_str(" !");
            }
        };
        for (flag, slot) in [("-s", &self.src), ("-d", &self.dst)] {
            if let Some((net, inv)) = slot
                && (!net.is_any() || *inv)
            {
                bang(out, *inv);
                out.push_str(&format!(" {flag} {}", net.display_cidr()));
            }
        }
        for (flag, slot) in [("-i", &self.in_iface), ("-o", &self.out_iface)] {
            if let Some(i) = slot {
                bang(out, i.invert);
                out.push_str(&format!(" {flag} {}", i.name));
            }
        }
        if let Some((p, inv)) = self.proto
            && p != 0
        {
            bang(out, inv);
            out.push_str(&format!(" -p {}", protocol_name(p)));
        }
        if let Some(inv) = self.fragment {
            bang(out, inv);
            out.push_str(" -f");
        }
    }
}

/// One rule.
#[derive(Clone, Debug)]
pub struct Rule {
    pub ip: IpMatch,
    /// The `-m` matches in the order written, including the one `-p tcp --dport` loads.
    pub matches: Vec<Match>,
    pub target: Target,
    pub counters: Counters,
    /// Where the rule was written.
    pub location: Location,
    /// The command as written (for messages).
    pub source: String,
    pub family: Family,
}

/// Something a rule uses, for `ctguard modules` and for refusing rule sets that need
/// connection tracking when it is off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureUse {
    pub table: TableName,
    pub chain: String,
    /// 1-based rule number; None for the table itself.
    pub rule: Option<usize>,
    pub location: Option<Location>,
    /// "state match", "NAT target SNAT", "nat table".
    pub feature: String,
    pub kernel_module: &'static str,
    pub needs_conntrack: bool,
}

impl Rule {
    /// Evaluates every match (the IP header part first, then each `-m` in order, stopping at
    /// the first that fails, as the kernel does). Does not touch the counters.
    pub fn matches(&mut self, pkt: &PacketCtx<'_>, state: &mut MatchState) -> bool {
        if !self.ip.matches(pkt) {
            return false;
        }
        self.matches.iter_mut().all(|m| m.matches(pkt, state))
    }

    /// The rule in iptables-save form after `-A CHAIN` (without counters).
    pub fn spec(&self) -> String {
        let mut out = String::new();
        self.ip.save(&mut out);
        for m in &self.matches {
            m.save(&mut out);
        }
        self.target.save(&mut out, self.family);
        out.trim_start().to_string()
    }

    /// True when a match or the target needs connection tracking.
    pub fn needs_conntrack(&self) -> bool {
        self.target.needs_conntrack() || self.matches.iter().any(Match::needs_conntrack)
    }

    /// (feature name, kernel module, needs conntrack) for each match and the target.
    pub fn features(&self) -> Vec<(String, &'static str, bool)> {
        let mut v: Vec<_> = self
            .matches
            .iter()
            .map(|m| {
                (
                    m.feature(),
                    m.kernel_module(self.family),
                    m.needs_conntrack(),
                )
            })
            .collect();
        if self.target != Target::None {
            v.push((
                self.target.feature(),
                self.target.kernel_module(self.family),
                self.target.needs_conntrack(),
            ));
        }
        v
    }
}

/// A chain: built-in (with a hook and a policy) or user-defined.
#[derive(Clone, Debug)]
pub struct Chain {
    pub name: std::sync::Arc<str>,
    pub hook: Option<Hook>,
    /// Some for built-in chains.
    pub policy: Option<Policy>,
    pub policy_counters: Counters,
    pub rules: Vec<Rule>,
}

impl Chain {
    pub fn is_builtin(&self) -> bool {
        self.hook.is_some()
    }
}

/// One table of one family.
#[derive(Clone, Debug)]
pub struct Table {
    pub name: TableName,
    /// The table exists (iptables-nft creates a table on its first rule, chain or policy;
    /// `iptables-save` prints only existing tables).
    pub present: bool,
    chains: Vec<Chain>,
}

impl Table {
    /// The table with its built-in chains (empty, ACCEPT, [0:0]).
    pub fn new(name: TableName) -> Table {
        let chains = name
            .hooks()
            .iter()
            .map(|&h| Chain {
                name: h.chain_name().into(),
                hook: Some(h),
                policy: Some(Policy::Accept),
                policy_counters: Counters::default(),
                rules: Vec::new(),
            })
            .collect();
        Table {
            name,
            present: false,
            chains,
        }
    }

    /// Built-in chains in hook order, then user chains by name (iptables-save's order).
    pub fn chains(&self) -> &[Chain] {
        &self.chains
    }

    pub fn chains_mut(&mut self) -> &mut [Chain] {
        &mut self.chains
    }

    pub fn chain_index(&self, name: &str) -> Option<usize> {
        self.chains.iter().position(|c| *c.name == *name)
    }

    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.chains.iter().find(|c| *c.name == *name)
    }

    pub fn chain_mut(&mut self, name: &str) -> Option<&mut Chain> {
        self.chains.iter_mut().find(|c| *c.name == *name)
    }

    /// The built-in chain of `hook`, if the table has one.
    pub fn builtin(&self, hook: Hook) -> Option<&Chain> {
        self.chains.iter().find(|c| c.hook == Some(hook))
    }

    pub fn builtin_mut(&mut self, hook: Hook) -> Option<&mut Chain> {
        self.chains.iter_mut().find(|c| c.hook == Some(hook))
    }

    pub fn user_chains(&self) -> impl Iterator<Item = &Chain> {
        self.chains.iter().filter(|c| !c.is_builtin())
    }

    /// Adds an empty user chain, keeping user chains sorted by name.
    pub(crate) fn add_user_chain(&mut self, name: &str) {
        let pos = self
            .chains
            .iter()
            .position(|c| !c.is_builtin() && &*c.name > name)
            .unwrap_or(self.chains.len());
        self.chains.insert(
            pos,
            Chain {
                name: name.into(),
                hook: None,
                policy: None,
                policy_counters: Counters::default(),
                rules: Vec::new(),
            },
        );
    }

    pub(crate) fn remove_chain(&mut self, name: &str) {
        self.chains.retain(|c| *c.name != *name);
    }

    /// Rules (chain, 1-based number) whose target names `chain`.
    pub fn references(&self, chain: &str) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        for c in &self.chains {
            for (i, r) in c.rules.iter().enumerate() {
                if r.target.chain().is_some_and(|t| t.name == chain) {
                    out.push((c.name.to_string(), i + 1));
                }
            }
        }
        out
    }

    /// Points every jump and goto at its chain's current index.
    pub(crate) fn relink(&mut self) {
        let names: Vec<String> = self.chains.iter().map(|c| c.name.to_string()).collect();
        for c in &mut self.chains {
            for r in &mut c.rules {
                if let crate::rules::targets::Target::Jump(t)
                | crate::rules::targets::Target::Goto(t) = &mut r.target
                {
                    t.index = names
                        .iter()
                        .position(|n| *n == t.name)
                        .unwrap_or(usize::MAX);
                }
            }
        }
    }

    /// Zeroes every rule and policy counter.
    pub fn zero_counters(&mut self) {
        for c in &mut self.chains {
            c.policy_counters.zero();
            for r in &mut c.rules {
                r.counters.zero();
            }
        }
    }
}

/// The four tables of one family.
#[derive(Clone, Debug)]
pub struct RuleSet {
    pub family: Family,
    /// In [`TableName::ALL`] order.
    tables: Vec<Table>,
}

fn table_index(name: TableName) -> usize {
    TableName::ALL
        .iter()
        .position(|t| *t == name)
        .expect("every table is in ALL")
}

impl RuleSet {
    /// Every table with empty built-in chains and ACCEPT policies, none present yet.
    pub fn new(family: Family) -> RuleSet {
        RuleSet {
            family,
            tables: TableName::ALL.iter().map(|&t| Table::new(t)).collect(),
        }
    }

    pub fn table(&self, name: TableName) -> &Table {
        &self.tables[table_index(name)]
    }

    pub fn table_mut(&mut self, name: TableName) -> &mut Table {
        &mut self.tables[table_index(name)]
    }

    /// Tables in [`TableName::ALL`] order (raw, mangle, nat, filter).
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.tables.iter()
    }

    pub fn tables_mut(&mut self) -> impl Iterator<Item = &mut Table> {
        self.tables.iter_mut()
    }

    /// The rules of a built-in chain (empty if the table has no chain at that hook).
    pub fn builtin_rules(&self, table: TableName, hook: Hook) -> &[Rule] {
        self.table(table)
            .builtin(hook)
            .map_or(&[], |c| c.rules.as_slice())
    }

    /// "filter INPUT rule 3", as `iptables -L --line-numbers` numbers rules.
    pub fn rule_name(table: TableName, chain: &str, index: usize) -> String {
        format!("{table} {chain} rule {}", index + 1)
    }

    /// Zeroes every counter (`iptables -Z` on every table).
    pub fn zero_counters(&mut self) {
        for t in &mut self.tables {
            t.zero_counters();
        }
    }

    /// True when no table has a rule, a user chain or a non-ACCEPT policy.
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(|t| {
            t.chains
                .iter()
                .all(|c| c.is_builtin() && c.rules.is_empty() && c.policy == Some(Policy::Accept))
        })
    }

    /// Everything the rule set uses: each match and target of each rule, and each present
    /// table (the nat table itself needs connection tracking: iptable_nat depends on
    /// nf_conntrack).
    pub fn features(&self) -> Vec<FeatureUse> {
        let mut out = Vec::new();
        for t in &self.tables {
            if t.present {
                let module = match (t.name, self.family) {
                    (TableName::Raw, Family::V4) => "iptable_raw",
                    (TableName::Mangle, Family::V4) => "iptable_mangle",
                    (TableName::Nat, Family::V4) => "iptable_nat",
                    (TableName::Filter, Family::V4) => "iptable_filter",
                    (TableName::Raw, Family::V6) => "ip6table_raw",
                    (TableName::Mangle, Family::V6) => "ip6table_mangle",
                    (TableName::Nat, Family::V6) => "ip6table_nat",
                    (TableName::Filter, Family::V6) => "ip6table_filter",
                };
                out.push(FeatureUse {
                    table: t.name,
                    chain: String::new(),
                    rule: None,
                    location: None,
                    feature: format!("{} table", t.name),
                    kernel_module: module,
                    needs_conntrack: t.name == TableName::Nat,
                });
            }
            for c in &t.chains {
                for (i, r) in c.rules.iter().enumerate() {
                    for (feature, module, ct) in r.features() {
                        out.push(FeatureUse {
                            table: t.name,
                            chain: c.name.to_string(),
                            rule: Some(i + 1),
                            location: Some(r.location.clone()),
                            feature,
                            kernel_module: module,
                            needs_conntrack: ct,
                        });
                    }
                }
            }
        }
        out
    }

    /// The features that need connection tracking (empty: the rule set works without it).
    pub fn conntrack_users(&self) -> Vec<FeatureUse> {
        self.features()
            .into_iter()
            .filter(|f| f.needs_conntrack)
            .collect()
    }
}
