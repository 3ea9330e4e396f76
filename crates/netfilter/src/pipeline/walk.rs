//! Walking one table's chain at one hook: rules in order, first match wins, with user
//! chains, jumps, gotos and RETURN as in the kernel's ipt_do_table.
//!
//! The walk tries only the rules the chain's compiled index ([`super::compile`]) names for
//! the packet, in order; the ones it leaves out provably cannot match (their addresses,
//! protocol, port or interface differ), so decisions, counters and side effects are the
//! same as trying every rule.

use ctguard_conntrack::{Instant, Tuple};

use super::compile::{Cursor, Probe};
use super::targets::Step;
use super::{HookVerdict, Pipeline, Pkt, RuleRef};
use crate::hook::{Hook, TableName};
use crate::packet::{ConnQuery, CtView, PacketCtx};
use crate::rules::Policy;

/// The kernel refuses rule sets deeper than this; loops are refused at load.
const MAX_DEPTH: usize = 64;

/// No connection table (tracking off): connlimit sees nothing.
struct NoConns;

impl ConnQuery for NoConns {
    fn count_live(&self, _f: &dyn Fn(&Tuple) -> bool) -> u32 {
        0
    }
}

struct Conns<'a>(&'a ctguard_conntrack::Conntrack);

impl ConnQuery for Conns<'_> {
    fn count_live(&self, f: &dyn Fn(&Tuple) -> bool) -> u32 {
        use ctguard_conntrack::proto::tcp::TcpState;
        self.0
            .conns()
            .filter(|(_, c)| {
                !matches!(
                    c.tcp().map(|t| t.state()),
                    Some(TcpState::TimeWait | TcpState::Close)
                ) && f(&c.original())
            })
            .count() as u32
    }
}

impl Pipeline {
    /// Whether chain walks use the compiled chains (on by default) or try every rule in
    /// turn, as the kernel does. Both give the same decisions and counters; the switch is
    /// for the tests that compare them and for benchmarks.
    #[doc(hidden)]
    pub fn set_compiled_walk(&mut self, on: bool) {
        self.compiled.enabled = on;
    }

    /// The candidates of the packet in `chain` from rule `at` on; None: try every rule.
    fn cursor(
        &self,
        fi: usize,
        table: TableName,
        chain: usize,
        at: usize,
        fields: &super::Fields,
        pkt: &Pkt,
    ) -> Option<Cursor> {
        let n_rules = self.rules[fi].table(table).chains()[chain].rules.len();
        let ix = self.compiled.chain(fi, table, chain, n_rules)?;
        let probe = Probe::new(fields, pkt.in_iface.as_deref(), pkt.out_iface.as_deref());
        Some(Cursor::new(ix, &probe, at))
    }

    pub(crate) fn ct_view(&self, pkt: &Pkt, now: Instant) -> CtView {
        let mut v = CtView::NONE;
        v.state = pkt.ctstate;
        v.dir = pkt.dir;
        if let Some(c) = self.conn(pkt.ct) {
            v.status = c.status.0;
            v.original = Some(c.original());
            v.reply = Some(c.reply());
            v.mark = c.mark;
            v.expires_in = now.until(c.expires).as_secs() as u32;
        }
        v
    }

    pub(crate) fn walk(
        &mut self,
        table: TableName,
        hook: Hook,
        pkt: &mut Pkt,
        now: Instant,
    ) -> HookVerdict {
        let family = Pipeline::family(pkt);
        let fi = family as usize;
        if !self.rules[fi].table(table).present || !table.has_hook(hook) {
            return HookVerdict::Accept(None);
        }
        let Some(mut fields) = super::Fields::parse(&pkt.buf) else {
            return HookVerdict::Accept(None);
        };
        let Some(start) = self.rules[fi].table(table).chain_index(hook.chain_name()) else {
            return HookVerdict::Accept(None);
        };
        // Read once per walk; a non-terminal target (CONNMARK, TCPMSS) refreshes them.
        let mut view = self.ct_view(pkt, now);
        // (chain, next rule) frames to return to.
        let mut stack: Vec<(usize, usize)> = Vec::new();
        let (mut chain, mut at) = (start, 0usize);
        // The rules of `chain` that could match, from `at` on; rebuilt whenever the walk
        // changes chain or a target changes the packet.
        let mut cursor = self.cursor(fi, table, chain, at, &fields, pkt);
        loop {
            let n_rules = self.rules[fi].table(table).chains()[chain].rules.len();
            if let Some(c) = cursor.as_mut()
                && let Some(ix) = self.compiled.chain(fi, table, chain, n_rules)
            {
                at = c.next(ix, at);
            }
            if at >= n_rules {
                // End of chain: RETURN, or the built-in chain's policy.
                if let Some((c, i)) = stack.pop() {
                    chain = c;
                    at = i;
                    cursor = self.cursor(fi, table, chain, at, &fields, pkt);
                    continue;
                }
                // With nothing to return to (even after a goto into a user chain), the
                // built-in chain's policy decides, as ipt_do_table's underflow does.
                let len = ip_len(&pkt.buf);
                let ch = &mut self.rules[fi].table_mut(table).chains_mut()[start];
                ch.policy_counters.add(u64::from(len));
                let name = ch.name.clone();
                let r = RuleRef {
                    table,
                    chain: name,
                    rule: None,
                };
                return match ch.policy {
                    Some(Policy::Drop) => HookVerdict::Drop(Some(r)),
                    _ => HookVerdict::Accept(Some(r)),
                };
            }
            let matched = {
                let conns: &dyn ConnQuery = match self.ct.as_ref() {
                    Some(ct) => &Conns(ct),
                    None => &NoConns,
                };
                let ctx = PacketCtx {
                    family,
                    ip: &pkt.buf,
                    src: fields.src,
                    dst: fields.dst,
                    proto: fields.proto,
                    later_fragment: fields.later_fragment,
                    l4: fields.l4,
                    len: fields.len,
                    ttl: fields.ttl,
                    in_iface: pkt.in_iface.as_deref(),
                    out_iface: pkt.out_iface.as_deref(),
                    hook,
                    mark: pkt.mark,
                    ct: view,
                    now,
                    addresses: &self.addresses,
                    conns,
                };
                let rule = &mut self.rules[fi].table_mut(table).chains_mut()[chain].rules[at];
                rule.matches(&ctx, &mut self.match_state)
            };
            if self.match_state.hotdrop {
                // A match asked for the packet to go at once (hashlimit's full table).
                self.match_state.hotdrop = false;
                let name = self.rules[fi].table(table).chains()[chain].name.clone();
                return HookVerdict::Drop(Some(RuleRef {
                    table,
                    chain: name,
                    rule: Some(at + 1),
                }));
            }
            if !matched {
                at += 1;
                continue;
            }
            let ch = &mut self.rules[fi].table_mut(table).chains_mut()[chain];
            ch.rules[at].counters.add(u64::from(ip_len(&pkt.buf)));
            // The chain's name is shared, not copied, into the verdict.
            let here = RuleRef {
                table,
                chain: ch.name.clone(),
                rule: Some(at + 1),
            };
            // Borrowed out of the rule while it runs (no copy of LOG prefixes and the like).
            let target = std::mem::replace(&mut ch.rules[at].target, crate::rules::Target::None);
            let step = self.target(&target, hook, pkt, now);
            self.rules[fi].table_mut(table).chains_mut()[chain].rules[at].target = target;
            match step {
                Step::Continue => {
                    at += 1;
                    view = self.ct_view(pkt, now);
                    match super::Fields::parse(&pkt.buf) {
                        Some(f) => fields = f,
                        None => return HookVerdict::Drop(Some(here)),
                    }
                    cursor = self.cursor(fi, table, chain, at, &fields, pkt);
                }
                Step::Accept => return HookVerdict::Accept(Some(here)),
                Step::Drop => return HookVerdict::Drop(Some(here)),
                Step::Reject(reply) => return HookVerdict::Reject(here, reply),
                Step::Return => match stack.pop() {
                    Some((c, i)) => {
                        chain = c;
                        at = i;
                        cursor = self.cursor(fi, table, chain, at, &fields, pkt);
                    }
                    None => {
                        // RETURN in a built-in chain: its policy.
                        at = usize::MAX;
                    }
                },
                Step::Jump(_) | Step::Goto(_) if stack.len() >= MAX_DEPTH => {
                    return HookVerdict::Drop(Some(here));
                }
                Step::Jump(to) => {
                    stack.push((chain, at + 1));
                    chain = to;
                    at = 0;
                    cursor = self.cursor(fi, table, chain, at, &fields, pkt);
                }
                Step::Goto(to) => {
                    chain = to;
                    at = 0;
                    cursor = self.cursor(fi, table, chain, at, &fields, pkt);
                }
            }
        }
    }
}

/// The packet's length as the counters count it (a target may have changed it).
fn ip_len(buf: &[u8]) -> u32 {
    buf.len() as u32
}
