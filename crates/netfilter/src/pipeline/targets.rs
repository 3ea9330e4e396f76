//! What each target does to the packet, its connection and the walk.

use std::net::IpAddr;

use ctguard_conntrack::Instant;
use ctguard_conntrack::nat::{Manip, NatRange};

use super::{Output, Pipeline, Pkt};
use crate::hook::Hook;
use crate::rules::Target;
use crate::rules::targets::NatRange as RuleRange;
use ctguard_conntrack::view::nflog::LogFlags;

/// What the walk does next.
pub(crate) enum Step {
    Continue,
    Accept,
    Drop,
    Return,
    /// Index of the user chain in the table.
    Jump(usize),
    Goto(usize),
    Reject(Vec<u8>),
}

impl Pipeline {
    pub(crate) fn target(
        &mut self,
        target: &Target,
        hook: Hook,
        pkt: &mut Pkt,
        now: Instant,
    ) -> Step {
        match target {
            Target::Accept => Step::Accept,
            Target::Drop => Step::Drop,
            Target::Return => Step::Return,
            Target::Jump(c) => Step::Jump(c.index),
            Target::Goto(c) => Step::Goto(c.index),
            Target::None => Step::Continue,
            // A packet that already has its connection (back over loopback, or a REJECT
            // reply) keeps it.
            Target::Notrack | Target::Ct(_) if pkt.preset_ct => Step::Continue,
            Target::Notrack => {
                pkt.notrack = true;
                Step::Continue
            }
            Target::Ct(ct) => {
                if ct.notrack {
                    pkt.notrack = true;
                }
                if let Some(z) = ct.zone {
                    pkt.zone = z;
                }
                Step::Continue
            }
            Target::Mark(op) => {
                pkt.mark = op.apply(pkt.mark);
                Step::Continue
            }
            Target::Connmark(op) => {
                if let Some(c) = self.conn_mut(pkt.ct) {
                    let (mark, ctmark) = op.apply(pkt.mark, c.mark);
                    c.mark = ctmark;
                    pkt.mark = mark;
                }
                Step::Continue
            }
            Target::Log(opts) => {
                let mut line = String::with_capacity(256);
                line.push_str(&opts.prefix);
                ctguard_conntrack::view::nflog::log_line(
                    &mut line,
                    pkt.in_iface.as_deref(),
                    pkt.out_iface.as_deref(),
                    pkt.mac.as_ref().map(|m| &m[..]),
                    &pkt.buf,
                    LogFlags {
                        tcp_seq: opts.tcp_sequence,
                        tcp_opt: opts.tcp_options,
                        ip_opt: opts.ip_options,
                        uid: opts.uid,
                        macdecode: opts.macdecode,
                    },
                );
                if opts.uid && pkt.socket {
                    line.push_str(" UID=0 GID=0");
                }
                self.out.push_back(Output::Log { line, at: now });
                Step::Continue
            }
            Target::Reject(with) => {
                let src = self.reject_source(pkt);
                let mut reply = Vec::new();
                if crate::reject::build(*with, &pkt.buf, src, &mut reply).is_err() {
                    return Step::Drop;
                }
                // ICMP errors are rate-limited per destination and per namespace.
                let Some(f) = super::Fields::parse(&pkt.buf) else {
                    return Step::Drop;
                };
                let (out, prefix) = match self.host.route_with_prefix(f.src) {
                    Some((out, prefix)) => (&**out, prefix),
                    None => ("", 0),
                };
                let loopback = pkt.in_iface.as_deref() == Some(super::host::LOOPBACK)
                    || out == super::host::LOOPBACK;
                if self.icmp_limit.allow(now, *with, f.src, prefix, loopback) {
                    Step::Reject(reply)
                } else {
                    Step::Drop
                }
            }
            Target::Tcpmss(mss) => {
                // Path-MTU clamping: every interface here has a 1500-byte MTU.
                let v6 = Pipeline::family(pkt) == crate::hook::Family::V6;
                let mss = mss.unwrap_or(if v6 { 1500 - 60 } else { 1500 - 40 });
                if super::tcpmss::apply(&mut pkt.buf, mss) {
                    Step::Continue
                } else {
                    Step::Drop
                }
            }
            Target::Snat(r) => self.nat_step(Manip::Src, range(r), now),
            Target::Dnat(r) => self.nat_step(Manip::Dst, range(r), now),
            Target::Masquerade(p) => {
                let out = pkt.out_iface.as_deref().unwrap_or("");
                let dst = super::Fields::parse(&pkt.buf).map(|f| f.dst);
                let Some(src) = dst.and_then(|d| self.host.source_for(out, d)) else {
                    return Step::Drop;
                };
                let mut range = NatRange::to_addr(src);
                range.ports = p.ports;
                range.random = p.random;
                range.random_fully = p.random_fully;
                self.nat_step(Manip::Src, range, now)
            }
            Target::Redirect(p) => {
                let Some(f) = super::Fields::parse(&pkt.buf) else {
                    return Step::Drop;
                };
                let to = if hook == Hook::Output {
                    Some(if f.dst.is_ipv4() {
                        IpAddr::from([127, 0, 0, 1])
                    } else {
                        IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
                    })
                } else {
                    pkt.in_iface
                        .as_deref()
                        .and_then(|i| self.host.primary(i, f.dst))
                };
                let Some(to) = to else {
                    return Step::Drop;
                };
                let mut range = NatRange::to_addr(to);
                range.ports = p.ports;
                range.random = p.random;
                self.nat_step(Manip::Dst, range, now)
            }
        }
    }

    fn nat_step(&mut self, manip: Manip, range: NatRange, now: Instant) -> Step {
        if self.nat_bind(manip, &range, now) {
            Step::Accept
        } else {
            Step::Drop
        }
    }

    /// The source of an ICMP error the host sends about `pkt`: the address of the interface
    /// the reply leaves by.
    fn reject_source(&self, pkt: &Pkt) -> Option<IpAddr> {
        let f = super::Fields::parse(&pkt.buf)?;
        if self.host.is_local(f.dst) {
            return Some(f.dst);
        }
        let out = self.host.route(f.src)?;
        self.host.source_for(out, f.src)
    }
}

fn range(r: &RuleRange) -> NatRange {
    NatRange {
        addrs: r.addrs,
        ports: r.ports,
        random: r.random,
        random_fully: r.random_fully,
        persistent: r.persistent,
    }
}
