//! `-m multiport` (xt_multiport): up to 15 ports or ranges (a range counts as two).

use super::{Module, ParseCtx, bang};
use crate::packet::PacketCtx;
use crate::rules::names::{
    IPPROTO_DCCP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE, parse_port,
};
use crate::rules::state::MatchState;
use crate::rules::words::Words;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Side {
    Source,
    Destination,
    Either,
}

/// Which ports, the list of (lo, hi) ranges, inverted.
pub type PortSpec = (Side, Vec<(u16, u16)>, bool);

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Multiport {
    /// Which ports, the list (lo, hi), inverted.
    pub spec: Option<PortSpec>,
}

const MAX_PORTS: usize = 15;

fn parse_list(s: &str, proto: u8) -> Result<Vec<(u16, u16)>, String> {
    let mut out = Vec::new();
    let mut count = 0;
    for part in s.split(',') {
        let (lo, hi) = match part.split_once(':') {
            Some((a, b)) => {
                let lo = parse_port(a, proto)?;
                let hi = parse_port(b, proto)?;
                if lo > hi {
                    return Err("invalid portrange specified".into());
                }
                count += 2;
                (lo, hi)
            }
            None => {
                count += 1;
                let p = parse_port(part, proto)?;
                (p, p)
            }
        };
        if count > MAX_PORTS {
            return Err("too many ports specified".into());
        }
        out.push((lo, hi));
    }
    Ok(out)
}

impl Module for Multiport {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        ctx: &ParseCtx,
    ) -> Result<bool, String> {
        let side = match opt {
            "--sports" | "--source-ports" => Side::Source,
            "--dports" | "--destination-ports" => Side::Destination,
            "--ports" => Side::Either,
            _ => return Ok(false),
        };
        let v = w.value(opt)?;
        let proto = match ctx.exact_proto() {
            Some(
                p @ (IPPROTO_TCP | IPPROTO_UDP | IPPROTO_UDPLITE | IPPROTO_SCTP | IPPROTO_DCCP),
            ) => p,
            _ => {
                return Err(
                    "multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'"
                        .into(),
                );
            }
        };
        if let Some((prev, _, _)) = &self.spec {
            let name = |s: &Side| match s {
                Side::Source => "--source-ports",
                Side::Destination => "--destination-ports",
                Side::Either => "--ports",
            };
            return Err(format!(
                "multiport: option \"{}\" cannot be used together with \"{}\".",
                name(&side),
                name(prev)
            ));
        }
        self.spec = Some((side, parse_list(v, proto)?, invert));
        Ok(true)
    }

    fn finish(&mut self, _ctx: &ParseCtx) -> Result<(), String> {
        if self.spec.is_none() {
            return Err("multiport expection an option".into());
        }
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, _state: &mut MatchState) -> bool {
        if pkt.later_fragment {
            return false;
        }
        let Some((side, list, invert)) = &self.spec else {
            return false;
        };
        let (Some(s), Some(d)) = (pkt.l4.sport, pkt.l4.dport) else {
            return false;
        };
        let hit = list.iter().any(|&(lo, hi)| {
            let inr = |p: u16| lo <= p && p <= hi;
            match side {
                Side::Source => inr(s),
                Side::Destination => inr(d),
                Side::Either => inr(s) || inr(d),
            }
        });
        hit != *invert
    }

    fn save(&self, out: &mut String) {
        if let Some((side, list, invert)) = &self.spec {
            bang(out, *invert);
            out.push_str(match side {
                Side::Source => " --sports ",
                Side::Destination => " --dports ",
                Side::Either => " --ports ",
            });
            let parts: Vec<String> = list
                .iter()
                .map(|&(lo, hi)| {
                    if lo == hi {
                        lo.to_string()
                    } else {
                        format!("{lo}:{hi}")
                    }
                })
                .collect();
            out.push_str(&parts.join(","));
        }
    }
}
