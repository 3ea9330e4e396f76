//! The nat table's hooks: the first packet of a connection walks the chain and the binding
//! it picks (or the null binding when nothing matched) is stored in the entry; every packet
//! of the connection is then rewritten from the entry, without walking the chain again.

use ctguard_conntrack::CtState;
use ctguard_conntrack::Instant;
use ctguard_conntrack::nat::{Manip, NatRange, nat_icmp_reply, nat_packet};

use super::{CtRef, HookVerdict, Pipeline, Pkt};
use crate::hook::{Hook, TableName};

/// Which end a hook's NAT rewrites.
pub(crate) fn manip_of(hook: Hook) -> Option<Manip> {
    match hook {
        Hook::Prerouting | Hook::Output => Some(Manip::Dst),
        Hook::Postrouting | Hook::Input => Some(Manip::Src),
        Hook::Forward => None,
    }
}

impl Pipeline {
    pub(crate) fn nat_hook(&mut self, hook: Hook, pkt: &mut Pkt, now: Instant) -> HookVerdict {
        let family = Pipeline::family(pkt);
        // The nat hooks exist only while the nat table does.
        if !self.rules(family).table(TableName::Nat).present {
            return HookVerdict::Accept(None);
        }
        let Some(manip) = manip_of(hook) else {
            return HookVerdict::Accept(None);
        };
        if !matches!(pkt.ct, CtRef::Unconfirmed | CtRef::Confirmed(_)) {
            return HookVerdict::Accept(None);
        }
        let mut verdict = HookVerdict::Accept(None);
        let first = pkt.ct == CtRef::Unconfirmed && !pkt.preset_ct;
        if first && self.ct.as_ref().is_some_and(|c| !c.nat_done(manip)) {
            verdict = self.walk(TableName::Nat, hook, pkt, now);
            if let HookVerdict::Accept(_) = verdict
                && let Some(ct) = self.ct.as_mut()
                && !ct.nat_done(manip)
            {
                ct.nat_null_binding(manip, now);
            }
        }
        let related_error = pkt.ctstate == Some(CtState::Related) && is_icmp_error(&pkt.buf);
        if let HookVerdict::Accept(_) = verdict
            && let (Some(conn), Some(dir)) = (self.conn(pkt.ct), pkt.dir)
        {
            if related_error {
                if !nat_icmp_reply(conn, dir, manip, &mut pkt.buf) {
                    return HookVerdict::Drop(None);
                }
            } else {
                nat_packet(conn, dir, manip, &mut pkt.buf);
            }
        }
        verdict
    }

    /// A NAT target fired: bind the unconfirmed connection.
    pub(crate) fn nat_bind(&mut self, manip: Manip, range: &NatRange, now: Instant) -> bool {
        match self.ct.as_mut() {
            Some(ct) => ct.nat_setup(manip, range, now).is_ok(),
            None => false,
        }
    }
}

/// An ICMP error (not a query): its quote is translated along with its header.
fn is_icmp_error(buf: &[u8]) -> bool {
    match super::Fields::parse(buf) {
        Some(f) => match (f.proto, f.l4.icmp) {
            (1, Some((ty, _))) => matches!(ty, 3 | 4 | 5 | 11 | 12),
            (58, Some((ty, _))) => ty < 128,
            _ => false,
        },
        None => false,
    }
}
