//! `-m connlimit` (xt_connlimit): how many connections share the packet's (masked) source or
//! destination address.
//!
//! The kernel keeps its own list per rule (nf_conncount) of the connections whose packets
//! reached the rule, and counts the packet's own connection in it. ctguard asks the tracker
//! instead ([`ConnQuery::count_live`](crate::packet::ConnQuery)): the live connections whose
//! original-direction source (`--connlimit-saddr`, the default) or destination
//! (`--connlimit-daddr`) address, masked with `--connlimit-mask`, equals the packet's masked
//! source (or destination) address. The packet's own connection is added when the tracker
//! does not list it yet (its status lacks CONFIRMED: a NEW connection's first packet, or a
//! packet with no connection at all), as the kernel adds it to its list. The two agree when
//! every connection from that address passes the rule, the common case (`-p tcp --syn
//! --dport 80 -m connlimit ...`).

use ctguard_conntrack::{L3, Status};

use super::{Module, ParseCtx, no_invert, once};
use crate::hook::Family;
use crate::packet::PacketCtx;
use crate::rules::addr::{Net, prefix_mask};
use crate::rules::state::MatchState;
use crate::rules::words::{Words, parse_num};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connlimit {
    family: Family,
    pub limit: Option<u32>,
    /// Match while the count is at most `limit` (`--connlimit-upto`); otherwise above it.
    pub upto: bool,
    pub mask: u8,
    pub daddr: bool,
    seen: Vec<&'static str>,
}

impl Connlimit {
    pub fn new(family: Family) -> Self {
        Connlimit {
            family,
            limit: None,
            upto: false,
            mask: match family {
                Family::V4 => 32,
                Family::V6 => 128,
            },
            daddr: false,
            seen: Vec::new(),
        }
    }

    /// The count the rule compares with its limit, for one packet.
    pub fn count(&self, pkt: &PacketCtx<'_>) -> u32 {
        let key_ip = if self.daddr { pkt.dst } else { pkt.src };
        let net = Net {
            addr: key_ip,
            mask: prefix_mask(self.family, u32::from(self.mask)),
        };
        let l3 = match self.family {
            Family::V4 => L3::V4,
            Family::V6 => L3::V6,
        };
        let daddr = self.daddr;
        let live = pkt.conns.count_live(&|t| {
            t.l3 == l3 && net.contains(if daddr { t.dst_ip() } else { t.src_ip() })
        });
        let own_listed = pkt.ct.status & Status::CONFIRMED != 0;
        live + u32::from(!own_listed)
    }
}

impl Module for Connlimit {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        _ctx: &ParseCtx,
    ) -> Result<bool, String> {
        let name: &'static str = match opt {
            "--connlimit-upto" => "--connlimit-upto",
            "--connlimit-above" => "--connlimit-above",
            "--connlimit-mask" => "--connlimit-mask",
            "--connlimit-saddr" => "--connlimit-saddr",
            "--connlimit-daddr" => "--connlimit-daddr",
            _ => return Ok(false),
        };
        match name {
            "--connlimit-upto" | "--connlimit-above" => {
                let v = w.value(opt)?;
                if self.limit.is_some() {
                    return Err(
                        "connlimit: option \"--connlimit-upto\" cannot be used together with \"--connlimit-above\"."
                            .into(),
                    );
                }
                self.limit = Some(parse_num("connlimit", opt, v, 0, u64::from(u32::MAX))? as u32);
                self.upto = (name == "--connlimit-upto") != invert;
            }
            "--connlimit-mask" => {
                let v = w.value(opt)?;
                no_invert("connlimit", opt, invert)?;
                once("connlimit", opt, self.seen.contains(&name))?;
                let full = match self.family {
                    Family::V4 => 32,
                    Family::V6 => 128,
                };
                self.mask = parse_num("connlimit", opt, v, 0, full)? as u8;
            }
            _ => {
                no_invert("connlimit", opt, invert)?;
                self.daddr = name == "--connlimit-daddr";
            }
        }
        self.seen.push(name);
        Ok(true)
    }

    fn finish(&mut self, _ctx: &ParseCtx) -> Result<(), String> {
        if self.limit.is_none() {
            return Err("You must specify \"--connlimit-above\" or \"--connlimit-upto\".".into());
        }
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, _state: &mut MatchState) -> bool {
        let Some(limit) = self.limit else {
            return false;
        };
        (self.count(pkt) > limit) != self.upto
    }

    fn save(&self, out: &mut String) {
        if let Some(l) = self.limit {
            if self.upto {
                out.push_str(&format!(" --connlimit-upto {l}"));
            } else {
                out.push_str(&format!(" --connlimit-above {l}"));
            }
        }
        out.push_str(&format!(" --connlimit-mask {}", self.mask));
        out.push_str(if self.daddr {
            " --connlimit-daddr"
        } else {
            " --connlimit-saddr"
        });
    }
}
